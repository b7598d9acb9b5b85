"""SIGINT, SIGTERM and SIGHUP stop a command the same way: the last complete state is kept, the
temporaries are removed, one line says what was kept, and the exit code is 128 + the signal."""

from __future__ import annotations

import signal
import time

import pytest

from latentexplorer.data.store import DatasetStore
from latentexplorer.workspace import Workspace

from rel_helpers import Child, assert_one_line_error, photo_folder


def _partials(root):
    return [p for p in root.rglob("*") if ".partial" in p.name or p.name.endswith(".commit")]


def _mid_epoch(child: Child, ws) -> bool:
    last = child.last_progress
    if "train [" not in last or f"epoch {Workspace.open(ws).checkpoint_epoch + 1}/" not in last:
        return False
    done, total = last.split("] ")[1].split()[0].split("/")
    return 0 < int(done) < int(total)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_stop_signal_during_training_keeps_the_last_epoch(ws_copy, sig):
    child = Child("train", "--workspace", ws_copy, "--resume", "--epochs", "400", "--batch-size", "8")
    try:
        child.wait_for(lambda: Workspace.open(ws_copy).checkpoint_epoch >= 2, 240, "epoch 2")
        child.wait_for(lambda: _mid_epoch(child, ws_copy), 60, "the middle of an epoch")
        child.proc.send_signal(sig)
        rc = child.proc.wait(120)
    finally:
        child.kill()
    assert rc == 128 + sig
    ws = Workspace.open(ws_copy)
    done = ws.checkpoint_epoch
    err = child.err.decode()
    assert_one_line_error(err, f"train: interrupted by {signal.Signals(sig).name}",
                          f"checkpoint of epoch {done} kept; continue with --resume")
    assert [r["epoch"] for r in ws.history()] == list(range(1, done + 1))
    ws.load_model()
    assert not _partials(ws_copy)
    assert not (ws_copy / ".latentexplorer.lock").exists()  # released on the way out


def test_sigterm_during_an_import_leaves_no_store_and_no_temporaries(tmp_path):
    src = photo_folder(tmp_path, 3000)
    out = tmp_path / "store"
    child = Child("prepare", src, "--out", out, "--preset", "center", "--size", "16", "--workers", "2")

    def midway() -> bool:
        last = child.last_progress
        if "prepare [" not in last:
            return False
        done, total = last.split("] ")[1].split()[0].split("/")
        return 0 < int(done) < int(total)

    try:
        child.wait_for(midway, 120, "import progress")
        child.proc.send_signal(signal.SIGTERM)
        rc = child.proc.wait(120)
    finally:
        child.kill()
    assert rc == 143
    assert_one_line_error(child.err.decode(), "prepare: interrupted by SIGTERM")
    assert not out.exists() and not _partials(tmp_path)
    with pytest.raises(Exception, match="dataset folder not found"):
        DatasetStore.open(out)


# delays after the first progress bar of training: the first batches (tracing the train step),
# batches in flight inside TensorFlow, epoch ends with their validation and commit
_DELAYS = [(signal.SIGTERM, 0.0), (signal.SIGINT, 0.15), (signal.SIGTERM, 0.4), (signal.SIGHUP, 0.8),
           (signal.SIGINT, 1.3), (signal.SIGTERM, 2.1)]


def test_stop_signals_at_any_moment_of_training_stop_at_a_batch_boundary(ws_copy):
    """A signal that lands while TensorFlow runs C++ (train_step, tape.gradient) must not raise
    there (SystemError, pybind11 "MISMATCH of ... exception types"): it is noted and acted on at the
    next batch boundary — every run ends with 128 + the signal, one line, the last epoch kept."""
    for sig, delay in _DELAYS:
        child = Child("train", "--workspace", ws_copy, "--resume", "--epochs", "400", "--batch-size", "8")
        try:
            child.wait_for(lambda: "train [" in child.last_progress, 240, "the first training batch")
            time.sleep(delay)  # where the signal lands; nothing here depends on how long things take
            child.proc.send_signal(sig)
            rc = child.proc.wait(120)
        finally:
            child.kill()
        err = child.err.decode(errors="replace")
        assert rc == 128 + sig, (sig, delay, rc, err[-2000:])
        assert "SystemError" not in err and "MISMATCH" not in err
        done = Workspace.open(ws_copy).checkpoint_epoch
        assert_one_line_error(err, f"train: interrupted by {signal.Signals(sig).name}",
                              f"checkpoint of epoch {done} kept")
        assert not _partials(ws_copy) and not (ws_copy / ".latentexplorer.lock").exists()
    ws = Workspace.open(ws_copy)
    assert [r["epoch"] for r in ws.history()] == list(range(1, ws.checkpoint_epoch + 1))
    ws.load_model()
