"""Two writers never interleave: real processes, the race made deterministic with SIGSTOP.

The first writer is stopped right after it took its lock; the second must then fail at once with one
line naming the holder (exit 1), wait with ``--wait``, and succeed once the first has ended.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from latentexplorer.data.store import DatasetStore
from latentexplorer.locks import folder_lock, workspace_lock
from latentexplorer.workspace import Workspace

from rel_helpers import Child, assert_one_line_error, photo_folder, run_cli


def _holder_note(lock_file: Path) -> Path:
    return lock_file.with_name(lock_file.name + ".json")


def _stop_when_locked(child: Child, lock_file: Path, timeout: float = 120) -> None:
    child.wait_for(lambda: _holder_note(lock_file).exists(), timeout, f"the lock {lock_file}")
    os.kill(child.proc.pid, signal.SIGSTOP)


def _resume_and_stop(child: Child, sig=signal.SIGINT) -> int:
    os.kill(child.proc.pid, signal.SIGCONT)
    os.kill(child.proc.pid, sig)
    return child.proc.wait(120)


def test_second_writer_of_a_workspace_fails_at_once_waits_or_succeeds_later(ws_copy):
    ws = Workspace.open(ws_copy)
    lock_file = ws_copy / ".latentexplorer.lock"
    trainer = Child("train", "--workspace", ws_copy, "--resume", "--epochs", "400")
    try:
        _stop_when_locked(trainer, lock_file)
        t0 = time.monotonic()
        r = run_cli("encode", "--workspace", ws_copy)
        assert r.returncode == 1 and time.monotonic() - t0 < 30
        assert_one_line_error(r.stderr, "encode: error: workspace", "being written by process "
                              f"{trainer.proc.pid}", "train --workspace", "--wait")
        r = run_cli("train", "--workspace", ws_copy, "--resume", "--epochs", "2")
        assert r.returncode == 1 and f"process {trainer.proc.pid}" in r.stderr
        t0 = time.monotonic()
        r = run_cli("encode", "--workspace", ws_copy, "--wait", "1.5")
        assert r.returncode == 1 and time.monotonic() - t0 >= 1.5
        waiter = Child("encode", "--workspace", ws_copy, "--wait")  # without a limit
        time.sleep(1.0)
        assert waiter.proc.poll() is None  # still waiting
        assert _resume_and_stop(trainer) == 130
        assert waiter.proc.wait(180) == 0, waiter.err.decode()
    finally:
        trainer.kill()
    ws = Workspace.open(ws_copy)
    lat = ws.latents()
    # the latents are those of the weights that are committed now, and say so
    assert lat.fingerprint == ws.model_fingerprint() and lat.meta.epoch == ws.checkpoint_epoch
    assert not ws.latents_stale
    assert not lock_file.exists() and not _holder_note(lock_file).exists()  # released and cleaned


def test_two_imports_into_one_store(tmp_path):
    src = photo_folder(tmp_path, 3000)
    out = tmp_path / "store"
    lock_file = tmp_path / ".store.lock"
    first = Child("prepare", src, "--out", out, "--preset", "center", "--size", "16", "--workers", "1")
    try:
        _stop_when_locked(first, lock_file)
        r = run_cli("prepare", src, "--out", out, "--preset", "center", "--size", "16", "--limit", "5",
                    "--workers", "1")
        assert r.returncode == 1
        assert_one_line_error(r.stderr, f"{out} is being written by process {first.proc.pid}")
        os.kill(first.proc.pid, signal.SIGCONT)
        assert first.proc.wait(240) == 0
    finally:
        first.kill()
    assert DatasetStore.open(out).n == 3000
    # a later import must not replace the finished store without --overwrite
    r = run_cli("prepare", src, "--out", out, "--preset", "center", "--size", "16", "--limit", "5")
    assert r.returncode == 2 and "already exists" in r.stderr
    assert DatasetStore.open(out).n == 3000


@pytest.mark.parametrize("args,lock", [
    (["train", "--workspace", "{ws}", "--resume", "--epochs", "2"], "ws"),
    (["encode", "--workspace", "{ws}"], "ws"),
    (["sample", "--workspace", "{ws}", "-n", "2", "--no-scores", "--out", "{ws}/results/g.png"], "results"),
    (["sweep", "--workspace", "{ws}", "-n", "2", "--b", "1", "--no-scores", "--out",
      "{ws}/results/sweep"], "sweep"),
    (["analyze", "--workspace", "{ws}", "--no-plots"], "analysis"),
], ids=["train", "encode", "sample", "sweep", "analyze"])
def test_every_writer_takes_its_lock(ws_copy, args, lock):
    """Each writing command refuses (exit 1, one line) while its output is locked by someone else."""
    from latentexplorer.locks import output_lock

    held = {"ws": workspace_lock(ws_copy, "the test"),
            "results": folder_lock(ws_copy / "results", "the test"),
            "sweep": output_lock(ws_copy / "results" / "sweep", "the test"),
            "analysis": output_lock(ws_copy / "results" / "analysis", "the test")}[lock]
    with held.acquire():
        r = run_cli(*[a.format(ws=ws_copy) for a in args])
    assert r.returncode == 1, r.stderr
    assert_one_line_error(r.stderr, f"is being written by process {os.getpid()} (the test)")
    assert np.isfinite(Workspace.open(ws_copy).latents().z).all()  # nothing else changed
