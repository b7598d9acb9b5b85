"""Two worker processes on 127.0.0.1 train one model together under MultiWorkerMirroredStrategy
(the README's recipe, run as the user runs it): each reads its own shard of the store, and the
synchronous all-reduce leaves both with the same weights."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from tiny_models import make_store, tiny_config

from latentexplorer.workspace import Workspace


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def test_two_workers_on_localhost_train_one_model(tmp_path):
    store = make_store(tmp_path / "store", n=96)
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for index in (0, 1):
        # every worker has a workspace of its own (the lock would serialize one shared folder);
        # worker 0 is the chief, whose workspace is the result
        ws = Workspace.create(tmp_path / f"ws{index}", store, tiny_config("vae"),
                              training={"batch_size": 16, "lr": 3e-3, "epochs": 1, "seed": 3})
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "TF_CPP_MIN_LOG_LEVEL": "2"}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "latentexplorer.cli", "train", "--workspace", str(ws.path),
             "--strategy", "multiworker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    outs = [p.communicate(timeout=600) for p in procs]
    for index, (p, (out, err)) in enumerate(zip(procs, outs)):
        assert p.returncode == 0, err[-3000:]
        assert f"worker {index} of 2 workers; reads its shard of" in out
    spaces = [Workspace.open(tmp_path / f"ws{i}") for i in (0, 1)]
    assert [ws.checkpoint_epoch for ws in spaces] == [1, 1]
    weights = [ws.load_model().get_weights() for ws in spaces]
    # each worker saw other images; only the all-reduced gradients make the weights agree
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    rows = [ws.history()[-1] for ws in spaces]
    # the epoch's losses are the mean over both workers' shards, the same in both histories
    for key in ("total_loss", "reco_loss", "kl_loss", "val_total_loss"):
        assert rows[0][key] == pytest.approx(rows[1][key], rel=1e-6), key
