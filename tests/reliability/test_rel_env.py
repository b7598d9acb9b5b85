"""The environment: no display, a missing system library, FIFOs and devices given as files, huge
images, file names with control characters, memory needs, TensorFlow's start-up noise."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from latentexplorer.errors import EnvironmentProblem

from rel_helpers import assert_one_line_error, run_cli, subprocess_env


# ------------------------------------------------------------------------------- display
@pytest.mark.parametrize("env", [{"DISPLAY": None, "WAYLAND_DISPLAY": None, "QT_QPA_PLATFORM": None},
                                 {"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"},
                                 # a Wayland display that is named but not there (Qt would abort)
                                 {"DISPLAY": None, "WAYLAND_DISPLAY": "wayland-9", "QT_QPA_PLATFORM": None,
                                  "XDG_RUNTIME_DIR": None},
                                 {"DISPLAY": None, "WAYLAND_DISPLAY": "wayland-9", "QT_QPA_PLATFORM": None,
                                  "XDG_RUNTIME_DIR": "/nonexistent-runtime-dir"}],
                         ids=["no-display", "offscreen", "wayland-no-runtime-dir", "wayland-no-socket"])
@pytest.mark.parametrize("argv", [[], ["gui"]], ids=["latentexplorer", "latentexplorer-gui"])
def test_no_display_is_one_line_and_exit_1(argv, env):
    full = subprocess_env()
    for key, value in env.items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    r = subprocess.run([sys.executable, "-m", "latentexplorer.cli", *argv], capture_output=True,
                       text=True, timeout=60, env=full)
    assert r.returncode == 1
    assert_one_line_error(r.stderr, "gui: error: no display", "latentexplorer screenshot")


def test_a_missing_qt_system_library_is_named_with_its_package(monkeypatch):
    import ctypes

    from latentexplorer.commands import gui

    def missing(path, *a, **k):
        raise OSError("libxcb-cursor.so.0: cannot open shared object file: No such file or directory")

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(ctypes, "CDLL", missing)
    with pytest.raises(EnvironmentProblem, match=r"libxcb-cursor.so.0 is missing .*apt-get install "
                                                 r"libxcb-cursor0"):
        gui.check_display()


def test_a_wayland_display_whose_socket_exists_is_used(tmp_path, monkeypatch):
    import ctypes
    import socket

    from latentexplorer.commands import gui

    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "wayland-1"))
    try:
        monkeypatch.delenv("DISPLAY", raising=False)
        monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
        monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-1")
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
        monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: None)  # its plugin's libraries load
        gui.check_display()  # no error: Qt will open that display
        monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-2")
        with pytest.raises(EnvironmentProblem, match=r"no display: no Wayland display at .*wayland-2"):
            gui.check_display()
    finally:
        sock.close()


# ------------------------------------------------------------------------------- special files
@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.npy"
    os.mkfifo(path)
    return path


def test_fifos_and_folders_given_as_files_are_refused_without_blocking(fifo, tmp_path, rel_ws):
    from PIL import Image

    (tmp_path / "photos").mkdir()
    Image.new("RGB", (32, 32)).save(tmp_path / "photos" / "a.png")
    np.save(tmp_path / "z.npy", np.zeros((20, 4), np.float32))
    cases = [
        (["analyze", "--latents", fifo, "--out", tmp_path / "a"], "is a FIFO (named pipe)"),
        (["analyze", "--latents", tmp_path / "z.npy", "--mu", fifo, "--out", tmp_path / "a"],
         "is a FIFO (named pipe)"),
        (["analyze", "--latents", tmp_path, "--out", tmp_path / "a"], "not a workspace"),
        (["prepare", tmp_path / "photos", "--out", tmp_path / "s", "--attributes", fifo],
         "is a FIFO (named pipe)"),
        (["prepare", tmp_path / "photos", "--out", tmp_path / "s", "--attributes", tmp_path],
         "is a folder, expected a regular attribute file"),
    ]
    for args, needle in cases:
        r = run_cli(*args, timeout=60)  # a blocking open would hit the timeout
        assert r.returncode == 2, (args, r.stderr)
        assert_one_line_error(r.stderr, needle)


def _tiny_huge_png(path: Path, side: int) -> None:
    """A valid side x side grey PNG of a few hundred kilobytes (zlib packs the zero rows)."""
    raw = zlib.compress(b"".join(b"\x00" + bytes(side) for _ in range(side)), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def test_huge_images_are_skipped_before_decoding_and_names_are_escaped(tmp_path):
    from PIL import Image

    src = tmp_path / "photos"
    src.mkdir()
    for i in range(3):
        Image.new("RGB", (64, 64), (i * 40, 90, 120)).save(src / f"ok{i}.png")
    _tiny_huge_png(src / "bomb.png", 12_000)  # 144 megapixels in ~150 KB
    (src / "evil\nskipped fake.png").write_bytes(b"not an image")
    cmd = [sys.executable, "-m", "latentexplorer.cli", "prepare", str(src), "--out", str(tmp_path / "s"),
           "--preset", "center", "--size", "16", "--workers", "1"]
    # the whole import stays far below the 432 MB one decoded 12,000 x 12,000 image would need
    r = subprocess.run(["prlimit", f"--as={1500 * 2**20}", *cmd], capture_output=True, text=True,
                       timeout=120, env=subprocess_env())
    assert r.returncode == 0, r.stderr
    listing = [ln for ln in r.stderr.replace("\r", "\n").splitlines() if "skipped" in ln]
    assert any("bomb.png: too large (over 50 megapixels)" in ln for ln in listing), r.stderr
    assert "DecompressionBombWarning" not in r.stderr and "Warning" not in r.stderr  # ours is the one line
    evil = [ln for ln in listing if "evil" in ln]
    assert evil == ["  skipped evil\\nskipped fake.png: not an image (unrecognised format)"], listing
    assert "wrote 3 images" in r.stdout


# ------------------------------------------------------------------------------- memory, noise
def test_memory_needs_are_checked_before_allocating(tmp_path, rel_ws):
    from tiny_models import make_store

    store = make_store(tmp_path / "store96", n=8, size=96)
    # 1.2 billion weights and 145 GB of activations: refused on any machine, before building
    r = run_cli("train", "--data", store, "--workspace", tmp_path / "ws", "--z-dim", "65536",
                "--batch-size", "65536")
    assert r.returncode == 2
    assert_one_line_error(r.stderr, "z_dim=65536", "GiB of memory", "GiB are free")
    assert not (tmp_path / "ws").exists()
    r = run_cli("train", "--data", store, "--workspace", tmp_path / "ws", "--z-dim", "1000000000")
    assert r.returncode == 2 and "--z-dim: expected an integer from 1 to 65,536" in r.stderr
    r = run_cli("sample", "--workspace", rel_ws, "-n", "10000", "--scale", "16", "--no-scores",
                "--out", tmp_path / "g.png")
    assert r.returncode == 2
    assert_one_line_error(r.stderr, "megapixel image; at most 200 megapixels")


def test_tensorflow_start_up_lines_never_precede_an_error(ws_copy):
    model = Path(__import__("json").loads((ws_copy / "checkpoint.json").read_text())["model"])
    (ws_copy / model / "model.keras").write_bytes(b"PK\x03\x04 truncated")
    env = subprocess_env()
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"  # TensorFlow's most talkative setting
    r = subprocess.run([sys.executable, "-m", "latentexplorer.cli", "train", "--workspace", str(ws_copy),
                        "--resume", "--epochs", "2"], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 2
    assert_one_line_error(r.stderr, "model.keras: truncated or not a .keras file")
