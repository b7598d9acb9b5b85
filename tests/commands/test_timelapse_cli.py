"""``latentexplorer train`` records the time-lapse, run as the user runs it (a subprocess): one frame
per epoch; a damaged recording is one warning line naming the file, and training goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from tiny_models import make_store

from latentexplorer.workspace import Workspace

TINY = ["--z-dim", "3", "--batch-size", "16", "--lr", "0.003"]


def _train(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-m", "latentexplorer.cli", "train", *args],
                          capture_output=True, text=True, env=env, timeout=600)


def test_train_records_a_frame_per_epoch_and_a_damaged_recording_warns(tmp_path):
    store, ws_dir = make_store(tmp_path / "store"), tmp_path / "ws"
    done = _train("--data", str(store), "--workspace", str(ws_dir), "--epochs", "2", *TINY)
    assert done.returncode == 0, done.stderr
    assert "warning:" not in done.stderr
    folder = ws_dir / "timelapse"
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0001.npy", "epoch-0002.npy", "meta.json"]
    ws = Workspace.open(ws_dir)
    rec = ws.timelapse().load()
    assert rec.epochs.tolist() == [1, 2] and rec.frames[0].shape == (len(rec.indices), 3)
    assert rec.fingerprints[-1] == ws.model_fingerprint()
    assert not np.allclose(rec.frames[0], rec.frames[1])  # the encoder changed between epochs

    meta = json.loads((folder / "meta.json").read_text())
    meta["indices"] = meta["indices"][::-1]  # damaged by hand
    (folder / "meta.json").write_text(json.dumps(meta))
    done = _train("--workspace", str(ws_dir), "--resume", "--epochs", "3")
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and str(folder / "meta.json") in warnings[0], done.stderr
    assert Workspace.open(ws_dir).checkpoint_epoch == 3  # the epoch is committed all the same
    assert not (folder / "epoch-0003.npy").exists()  # and the damaged recording left alone
