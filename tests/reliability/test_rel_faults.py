"""Faults: SIGKILL during training / import / encode, NaN loss, disk full while saving.

Finished work is never lost and a half-written file never looks valid: after each fault the files
left behind are either the previous complete ones or clearly absent (refused with a message).
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latentexplorer import cli
from latentexplorer.data.store import DatasetStore, StoreWriter
from latentexplorer.errors import InvalidInputError, WriteFailedError
from latentexplorer.fileio import atomic_save_npy, atomic_write_json
from latentexplorer.inputs import load_npy, read_json
from latentexplorer.workspace import Workspace

from rel_helpers import Child, assert_one_line_error, photo_folder, subprocess_env
from tiny_models import commit_untrained_epoch, make_store, tiny_config


# ------------------------------------------------------------------------------- helpers
def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _checkpoint(ws: Path) -> int:
    try:
        return int(json.loads((ws / "checkpoint.json").read_text())["epoch"])
    except (FileNotFoundError, ValueError, KeyError):
        return 0


# ------------------------------------------------------------------------------- training
def test_sigkill_mid_epoch_then_resume(tmp_path, capsys):
    """Kill ``latentexplorer train`` inside an epoch; --resume continues from the last complete one."""
    from latentexplorer.models import io as model_io

    store = make_store(tmp_path / "store", n=160, size=16)  # 19 batches of 8: ~0.3 s per epoch
    ws = tmp_path / "ws"
    child = Child("train", "--data", store, "--workspace", ws, "--z-dim", "4", "--epochs", "500",
                  "--batch-size", "8", "--seed", "0")
    try:
        # a committed epoch, then a progress bar of the next, unfinished one
        child.wait_for(lambda: _checkpoint(ws) >= 1, 240, "the first checkpoint")
        done = _checkpoint(ws)

        def mid_epoch() -> bool:
            last = child.last_progress  # "train [###---] 12/34 ... epoch 3/500 loss=..."
            if f"epoch {_checkpoint(ws) + 1}/500" not in last:
                return False
            done_steps, steps = last.split("] ")[1].split()[0].split("/")
            return 0 < int(done_steps) < int(steps)

        child.wait_for(mid_epoch, 60, "a batch of the next epoch")
    finally:
        child.kill()
    assert child.proc.returncode == -signal.SIGKILL
    killed_at = _checkpoint(ws)
    assert killed_at >= done

    # nothing on disk is corrupt: every model file loads (Keras safe mode) and matches the config
    w = Workspace.open(ws)
    for load in (model_io.load_model, model_io.load_encoder, model_io.load_decoder):
        load(w.snapshot().dir)
    assert w.checkpoint_epoch == killed_at
    assert [r["epoch"] for r in w.history()] == list(range(1, killed_at + 1))

    rc = cli.main(["train", "--workspace", str(ws), "--resume", "--epochs", str(killed_at + 1)])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"epochs {killed_at + 1}..{killed_at + 1}" in out
    w = Workspace.open(ws)
    rows = w.history()
    epochs = [r["epoch"] for r in rows]
    assert epochs == list(range(1, killed_at + 2)), epochs  # no duplicate, no missing epoch
    assert w.checkpoint_epoch == killed_at + 1
    assert all(np.isfinite(r["total_loss"]) for r in rows)
    assert rows[-1]["total_loss"] < rows[0]["total_loss"]  # continued from the saved weights
    model_io.load_model(w.snapshot().dir)


def _nan_batches(monkeypatch):
    """Every training batch becomes NaN (the tf.data pipeline is replaced at its module)."""
    import latentexplorer.data.tfdata as tfdata

    real = tfdata.make_dataset

    def poisoned(store, indices, batch_size=128, shuffle=True, **kw):
        ds = real(store, indices, batch_size, shuffle=shuffle, **kw)
        return ds.map(lambda x: x * float("nan")) if shuffle else ds

    monkeypatch.setattr(tfdata, "make_dataset", poisoned)


def _model_files(ws_dir: Path) -> dict[str, str]:
    return _digest(Workspace.open(ws_dir).snapshot().dir)


def test_nan_loss_stops_with_a_message_and_keeps_the_checkpoint(ws_copy, monkeypatch, capsys):
    from latentexplorer.models.training import TrainingDivergedError
    from latentexplorer.workspace.training import train

    before = _model_files(ws_copy)
    _nan_batches(monkeypatch)
    with pytest.raises(TrainingDivergedError, match=r"total loss became nan in epoch 2, batch 1.*"
                                                    r"checkpoint of epoch 1 kept.*lower the learning rate"):
        train(Workspace.open(ws_copy), 2, resume=True)
    assert _model_files(ws_copy) == before  # the diverged weights were never saved
    ws = Workspace.open(ws_copy)
    assert ws.checkpoint_epoch == 1 and len(ws.history()) == 1
    ws.load_model()

    rc = cli.main(["train", "--workspace", str(ws_copy), "--resume", "--epochs", "3"])
    err = capsys.readouterr().err
    assert rc == 2
    assert_one_line_error(err, "train: error: total loss became nan", "checkpoint of epoch 1 kept")
    assert _model_files(ws_copy) == before


# ------------------------------------------------------------------------------- import
@pytest.mark.parametrize("overwrite", [False, True], ids=["new-store", "overwrite-existing"])
def test_sigkill_during_import_leaves_complete_or_absent_store(tmp_path, overwrite):
    src = photo_folder(tmp_path, 4000)
    out = tmp_path / "store"
    if overwrite:
        make_store(out, n=10, size=16)
        before = _digest(out)
    child = Child("prepare", src, "--out", out, "--preset", "center", "--size", "16", "--workers", "1",
                  *(["--overwrite"] if overwrite else []))
    try:
        def midway() -> bool:
            last = child.last_progress
            if "prepare [" not in last:
                return False
            done, total = last.split("] ")[1].split()[0].split("/")
            return 0 < int(done) < int(total)

        child.wait_for(midway, 60, "import progress")
    finally:
        child.kill()
    assert child.proc.returncode == -signal.SIGKILL
    partial = [p for p in tmp_path.iterdir() if p.name.startswith(".store.") and p.name.endswith(".partial")]
    assert len(partial) == 1  # the interrupted build, under a hidden temporary name
    with pytest.raises(InvalidInputError, match=r"not a complete dataset store \(meta.json missing"):
        DatasetStore.open(partial[0])
    if overwrite:
        assert _digest(out) == before and DatasetStore.open(out).n == 10  # old store untouched
    else:
        assert not out.exists()
        with pytest.raises(InvalidInputError, match="dataset folder not found"):
            DatasetStore.open(out)
    # a new run is not confused by the leftover
    r = subprocess.run([sys.executable, "-m", "latentexplorer.cli", "prepare", str(src), "--out", str(out),
                        "--preset", "center", "--size", "16", "--workers", "1", "--limit", "300",
                        "--overwrite"], capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert r.returncode == 0, r.stderr
    assert DatasetStore.open(out).n == 300
    assert not partial[0].exists()  # the new run removed the killed one's leftover


# ------------------------------------------------------------------------------- encode
def _untrained_ws(root: Path, n_images: int) -> Workspace:
    """A workspace with a committed (untrained) model: encodable, no training cost."""
    store = make_store(root / "store", n=n_images, size=16)
    ws = Workspace.create(root / "ws", store, tiny_config(), training={"epochs": 1, "batch_size": 32})
    commit_untrained_epoch(ws)
    return ws


def test_sigkill_during_encode_keeps_old_latents(tmp_path):
    ws = _untrained_ws(tmp_path, 6000)
    old = np.random.default_rng(1).normal(size=(6000, 4)).astype(np.float32)
    ws.write_latents(old)
    child = Child("encode", "--workspace", ws.path, "--batch-size", "2")
    try:
        def midway() -> bool:
            last = child.last_progress
            if "encode [" not in last:
                return False
            done, total = last.split("] ")[1].split()[0].split("/")
            return 0 < int(done) < int(total)

        child.wait_for(midway, 120, "encode progress")
    finally:
        child.kill()
    assert child.proc.returncode == -signal.SIGKILL
    np.testing.assert_array_equal(Workspace.open(ws.path).latents().z, old)


# ------------------------------------------------------------------------------- disk full
def _no_temp_leftovers(folder: Path) -> None:
    left = [p.name for p in folder.rglob("*") if ".partial" in p.name or p.name.endswith(".new")]
    assert not left, left


def _assert_write_failed(exc_info, name: str) -> None:
    exc = exc_info.value
    assert isinstance(exc, OSError) and exc.errno is not None
    msg = str(exc)
    assert "cannot write " in msg and name in msg and "No space left on device" in msg, msg
    assert "previous version" in msg


def test_disk_full_atomic_json_and_npy(full_disk):
    d = full_disk.path
    atomic_write_json(d / "a.json", {"v": 1})
    atomic_save_npy(d / "z.npy", np.ones((10, 4), np.float32))
    full_disk.fill()
    with pytest.raises(WriteFailedError) as info:
        atomic_write_json(d / "a.json", {"v": 2, "pad": list(range(5000))})
    _assert_write_failed(info, "a.json")
    with pytest.raises(WriteFailedError) as info:
        atomic_save_npy(d / "z.npy", np.zeros((5000, 4), np.float32))
    _assert_write_failed(info, "z.npy")
    full_disk.free()
    assert read_json(d / "a.json") == {"v": 1}
    np.testing.assert_array_equal(load_npy(d / "z.npy"), np.ones((10, 4), np.float32))
    _no_temp_leftovers(d)


def test_disk_full_while_committing_an_epoch_keeps_the_previous_one(full_disk, rel_ws):
    import shutil

    import keras

    from latentexplorer.models import io as model_io

    ws_dir = full_disk.path / "ws"
    shutil.copytree(rel_ws, ws_dir, ignore=shutil.ignore_patterns("latents", "results"))
    ws = Workspace.open(ws_dir)
    before, fp = _model_files(ws_dir), ws.model_fingerprint()
    model = ws.load_model()
    for w in model.weights:
        w.assign(keras.ops.zeros_like(w))
    full_disk.fill(leave=40_000)  # room for the encoder, not for all three files
    with pytest.raises(WriteFailedError) as info:
        ws.commit_epoch(model, ws.history() + [{"epoch": 2, "total_loss": 1.0, "reco_loss": 1.0,
                                                 "kl_loss": 0.0}], None)
    _assert_write_failed(info, "epoch-0002")
    full_disk.free()
    ws = Workspace.open(ws_dir)
    assert _model_files(ws_dir) == before and ws.checkpoint_epoch == 1  # all or nothing
    assert model_io.weights_fingerprint(ws.load_model()) == fp
    _no_temp_leftovers(ws_dir)


def test_disk_full_store_writer_keeps_the_old_store(full_disk):
    out = full_disk.path / "store"
    make_store(out, n=8, size=16)
    before = _digest(out)
    full_disk.fill(leave=16_384)  # room for the folder and its header, not for 512 images
    with pytest.raises(WriteFailedError, match=r"store: 512 images of 16x16 px need 0.4 MB of disk space, .* has 0.0 MB free"):
        with StoreWriter(out, 512, 16, overwrite=True) as w:
            w.images[:] = 0
            w.finish({"source": "test"})
    full_disk.free()
    assert _digest(out) == before and DatasetStore.open(out).n == 8
    assert sorted(p.name for p in full_disk.path.iterdir() if not p.name.startswith("filler")) == ["store"]


_SHRINK_ON_FULL_DISK = r"""
import sys
import numpy as np
from latentexplorer.data.store import StoreWriter
from latentexplorer.errors import WriteFailedError
try:
    with StoreWriter(sys.argv[1], 700, 16) as w:    # 700 x 768 bytes fit once, not twice
        w.images[:] = 1
        w.finish({"source": "test"}, n_written=699)  # shrinking copies into a second file
except WriteFailedError as exc:
    print("clear error:", exc)
"""


def test_disk_full_while_shrinking_a_store_is_an_error_not_sigbus(full_disk):
    if full_disk.mode != "tmpfs":
        pytest.skip("needs a real full file system (SIGBUS cannot be monkeypatched)")
    r = subprocess.run([sys.executable, "-c", _SHRINK_ON_FULL_DISK, str(full_disk.path / "store")],
                       env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"rc {r.returncode} (SIGBUS is -7): {r.stderr}"
    assert "clear error:" in r.stdout and "not enough free disk space" in r.stdout
    assert not any(full_disk.path.iterdir())


def test_disk_full_save_grid_keeps_png_and_sidecar_together(tmp_path, monkeypatch):
    import latentexplorer.render.images as images

    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 255, (4, 16, 16, 3), dtype=np.uint8)
    png = tmp_path / "grid.png"
    images.save_grid(png, imgs, rng.normal(size=(4, 4)), generator="uniform", settings={"b": 1}, seed=0,
                     fingerprint="aaaa")
    before = _digest(tmp_path)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(images, "json_text", full)  # the PNG fits, its sidecar does not
    with pytest.raises(OSError):
        images.save_grid(png, 255 - imgs, rng.normal(size=(4, 4)), generator="uniform", settings={"b": 2},
                         seed=1, fingerprint="bbbb")
    assert _digest(tmp_path) == before  # old PNG + old sidecar, still a matching pair
    _no_temp_leftovers(tmp_path)


def test_disk_full_real_grid_write(full_disk):
    from latentexplorer.render.images import load_sidecar, save_grid

    rng = np.random.default_rng(0)
    png = full_disk.path / "grid.png"
    save_grid(png, rng.integers(0, 255, (4, 16, 16, 3), dtype=np.uint8), np.zeros((4, 4)),
              generator="uniform", settings={"b": 1}, seed=0, fingerprint="aaaa")
    before = _digest(full_disk.path)
    full_disk.fill()
    with pytest.raises(WriteFailedError) as info:
        save_grid(png, rng.integers(0, 255, (64, 32, 32, 3), dtype=np.uint8), np.ones((64, 4)),
                  generator="uniform", settings={"b": 2}, seed=1, fingerprint="bbbb")
    _assert_write_failed(info, "grid")
    full_disk.free()
    assert _digest(full_disk.path) == before
    assert load_sidecar(png).fingerprint == "aaaa"


def test_disk_full_during_training_keeps_the_checkpoint(full_disk, rel_ws, capsys):
    import shutil

    ws_dir = full_disk.path / "ws"
    shutil.copytree(rel_ws, ws_dir, ignore=shutil.ignore_patterns("latents", "results"))
    before = _model_files(ws_dir)
    full_disk.fill(leave=20_000)
    rc = cli.main(["train", "--workspace", str(ws_dir), "--resume", "--epochs", "2"])
    err = capsys.readouterr().err
    assert rc == 1  # the environment refused, not the input (README exit-code table)
    assert_one_line_error(err, "cannot write", "No space left on device", "epoch 2 not saved",
                          "checkpoint of epoch 1 kept")
    full_disk.free()
    assert _model_files(ws_dir) == before
    ws = Workspace.open(ws_dir)
    assert ws.checkpoint_epoch == 1 and [r["epoch"] for r in ws.history()] == [1]
    ws.load_model()
    # space again: the same command continues
    assert cli.main(["train", "--workspace", str(ws_dir), "--resume", "--epochs", "2"]) == 0
    assert Workspace.open(ws_dir).checkpoint_epoch == 2


def test_disk_full_while_writing_latents_keeps_the_old_ones(full_disk, rel_ws):
    import shutil

    ws_dir = full_disk.path / "ws"
    shutil.copytree(rel_ws, ws_dir, ignore=shutil.ignore_patterns("results"))
    ws = Workspace.open(ws_dir)
    old = ws.latents().z.copy()
    full_disk.fill()
    with pytest.raises(WriteFailedError) as info:
        ws.latent_set().write(np.zeros((5000, 4), np.float32), fingerprint=None)
    _assert_write_failed(info, "v-000")
    full_disk.free()
    np.testing.assert_array_equal(Workspace.open(ws_dir).latents().z, old)
    _no_temp_leftovers(ws_dir)


def test_unwritable_folder_is_a_clear_error(tmp_path, monkeypatch):
    """EACCES / EROFS from the file system name the file too (as root chmod does not bite: patched)."""
    import tempfile as _tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    atomic_write_json(tmp_path / "a.json", {"v": 1})
    monkeypatch.setattr(_tempfile, "mkstemp", denied)
    with pytest.raises(WriteFailedError, match=r"cannot write .*a.json: Permission denied"):
        atomic_write_json(tmp_path / "a.json", {"v": 2})
    assert read_json(tmp_path / "a.json") == {"v": 1}
