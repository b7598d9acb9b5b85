"""Kill a command at every rename it performs: afterwards there is always the old or the new complete
state, and the next run just works.

For each command a trace run (no kill) lists its renames (``os.replace`` / ``os.rename``, which every
commit ends in) and gives the new state; then, for every k, a fresh copy of the old state is handed to
the command, which SIGKILLs itself just before its k-th rename. The check reads the result through
the public API (readers complete a committed group: that is part of "the state") and compares it with
the old and the new state; then the same work is done again in this process.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import signal
from pathlib import Path

import numpy as np
from PIL import Image

from latentexplorer.data.store import DatasetStore
from latentexplorer.models.io import weights_fingerprint
from latentexplorer.workspace import Workspace

from rel_helpers import run_cli_killed_at
from tiny_models import commit_untrained_epoch, make_store


def _renames(trace: Path) -> int:
    return len(trace.read_text().splitlines()) if trace.exists() else 0


def _no_leftovers_after_next_write(root: Path) -> None:
    left = [p for p in root.rglob("*") if p.name.endswith((".partial", ".commit")) or ".old-" in p.name]
    assert not left, left


def _kill_everywhere(tmp_path: Path, make_old, args, check, redo) -> int:
    """Run ``args`` (with ``{}`` replaced by the copy's path) on copies of ``make_old()``'s folder."""
    old = make_old(tmp_path / "old")
    trace = tmp_path / "trace.txt"
    new_copy = tmp_path / "new"
    shutil.copytree(old, new_copy, symlinks=True)
    r = run_cli_killed_at(0, *[str(a).format(new_copy) for a in args], trace=trace)
    assert r.returncode == 0, r.stderr
    total = _renames(trace)
    assert total >= 2, trace.read_text()  # at least the lock holder's note and the commit
    for k in range(1, total + 1):
        work = tmp_path / f"k{k}"
        shutil.copytree(old, work, symlinks=True)
        r = run_cli_killed_at(k, *[str(a).format(work) for a in args])
        assert r.returncode == -signal.SIGKILL, (k, r.returncode, r.stderr)
        check(work, old, new_copy, k)
        redo(work)
        _no_leftovers_after_next_write(work)
        shutil.rmtree(work)
    return total


# ------------------------------------------------------------------------------- train
def test_train_killed_at_every_rename(rel_ws, tmp_path):
    from latentexplorer.workspace.training import train

    def make_old(dst):
        shutil.copytree(rel_ws, dst)
        return dst

    def check(work, old, new, k):
        ws = Workspace.open(work)
        epoch = ws.checkpoint_epoch
        assert epoch in (1, 2), k
        model = ws.load_model()
        assert weights_fingerprint(model) == ws.model_fingerprint(), k  # files match the pointer
        assert [r["epoch"] for r in ws.history()] == list(range(1, epoch + 1)), k

    def redo(work):
        assert [r["epoch"] for r in train(Workspace.open(work), 2, resume=True)] == [1, 2]

    n = _kill_everywhere(tmp_path, make_old, ["train", "--workspace", "{}", "--resume", "--epochs", "2"],
                         check, redo)
    assert n >= 3  # holder note, epoch folder, checkpoint pointer at least


# ------------------------------------------------------------------------------- encode
def test_encode_killed_at_every_rename(rel_ws, tmp_path):
    def make_old(dst):
        shutil.copytree(rel_ws, dst)
        commit_untrained_epoch(Workspace.open(dst), seed=7)  # other weights: encoding changes z
        return dst

    def check(work, old, new, k):
        ws = Workspace.open(work)
        lat = ws.latents()
        old_z, new_z = Workspace.open(old).latents(), Workspace.open(new).latents()
        if lat.fingerprint == old_z.fingerprint:
            np.testing.assert_array_equal(lat.z, old_z.z)
        else:
            assert lat.fingerprint == new_z.fingerprint == ws.model_fingerprint(), k
            np.testing.assert_array_equal(lat.z, new_z.z)

    def redo(work):
        ws = Workspace.open(work)
        ws.encode()
        assert not ws.latents_stale

    _kill_everywhere(tmp_path, make_old, ["encode", "--workspace", "{}"], check, redo)


# ------------------------------------------------------------------------------- prepare
def _photos(root: Path, n: int) -> Path:
    root.mkdir(parents=True)
    rng = np.random.default_rng(3)
    for i in range(n):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(buf, "PNG")
        (root / f"{i:03d}.png").write_bytes(buf.getvalue())
    return root


def _store_state(path: Path):
    s = DatasetStore.open(path)
    return s.n, hashlib.sha256(np.asarray(s.images).tobytes()).hexdigest(), tuple(s.filenames)


def test_prepare_killed_at_every_rename(tmp_path):
    src = _photos(tmp_path / "photos", 12)

    def make_old(dst):
        dst.mkdir()
        make_store(dst / "store", n=10, size=16)
        return dst

    def check(work, old, new, k):
        assert _store_state(work / "store") in (_store_state(old / "store"), _store_state(new / "store")), k

    def redo(work):
        from latentexplorer.data.prepare import prepare_dataset

        prepare_dataset(src, work / "store", preset="center", size=16, workers=1, overwrite=True)
        assert DatasetStore.open(work / "store").n == 12

    _kill_everywhere(tmp_path, make_old, ["prepare", src, "--out", "{}/store", "--preset", "center",
                                          "--size", "16", "--workers", "1", "--overwrite"], check, redo)


# ------------------------------------------------------------------------------- sample, sweep
def _grid_state(png: Path) -> tuple:
    from latentexplorer.render.images import load_sidecar

    rec = load_sidecar(png)  # a reader: completes a committed PNG + sidecar pair
    data = png.read_bytes()
    sidecar = json.loads(png.with_suffix(".json").read_text())
    assert sidecar["png_sha256"] == hashlib.sha256(data).hexdigest()  # the pair belongs together
    return rec.seed, hashlib.sha256(data).hexdigest()


def _sampled(rel_ws, dst, cli_args):
    from latentexplorer.cli import main

    shutil.copytree(rel_ws, dst)
    assert main(cli_args(dst)) == 0
    return dst


def test_sample_killed_at_every_rename(rel_ws, tmp_path):
    def args(ws, seed="0"):
        return ["sample", "--workspace", str(ws), "--method", "normal", "-n", "4", "--no-scores",
                "--seed", seed, "--out", f"{ws}/results/grid.png"]

    def check(work, old, new, k):
        state = _grid_state(work / "results" / "grid.png")
        assert state in (_grid_state(old / "results" / "grid.png"),
                         _grid_state(new / "results" / "grid.png")), k

    def redo(work):
        from latentexplorer.cli import main

        assert main(args(work, "1")) == 0

    _kill_everywhere(tmp_path, lambda dst: _sampled(rel_ws, dst, args),
                     args("{}", "1"), check, redo)


def test_sweep_killed_at_every_rename(rel_ws, tmp_path):
    def args(ws, seed="0"):
        return ["sweep", "--workspace", str(ws), "--b", "1,3", "-n", "3", "--no-scores",
                "--seed", seed, "--out", f"{ws}/results/sweep"]

    def state(ws):
        folder = ws / "results" / "sweep"
        summary = json.loads((folder / "summary.json").read_text())
        return summary["seed"], tuple(_grid_state(folder / e["grid"]) for e in summary["entries"])

    def check(work, old, new, k):
        assert state(work) in (state(old), state(new)), k
        assert {p.name for p in (work / "results").iterdir() if not p.name.startswith(".")} == {"sweep"}

    def redo(work):
        from latentexplorer.cli import main

        assert main(args(work, "1")) == 0

    _kill_everywhere(tmp_path, lambda dst: _sampled(rel_ws, dst, args),
                     args("{}", "1"), check, redo)
