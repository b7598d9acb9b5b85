"""``train --tensorboard DIR``: Keras' TensorBoard callback writes the losses of every epoch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """``{tag: [(step, value), ...]}`` of every events file under ``folder``, read back with
    TensorFlow's own reader."""
    import tensorflow as tf

    found: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") \
                    else value.simple_value
                found.setdefault(value.tag, []).append((int(event.step), number))
    return found


def test_fit_epochs_logs_the_epoch_losses_it_commits(tiny_store, tmp_path):
    pytest.importorskip("tensorboard")  # it implements tf.summary
    from tiny_models import tiny_config

    from latentexplorer.data.store import DatasetStore
    from latentexplorer.models.autoencoder import build_model
    from latentexplorer.models.training import fit_epochs

    store = DatasetStore.open(tiny_store)
    train_idx, test_idx = store.split()
    rows = []
    fit_epochs(build_model(tiny_config()), store, train_idx, test_idx, start=0, epochs=2,
               batch_size=16, seed=0, commit=lambda model, row: rows.append(row),
               tensorboard=tmp_path / "tb")
    train = _scalars(tmp_path / "tb" / "train")
    assert [step for step, _ in train["epoch_total_loss"]] == [0, 1]
    for key in ("total_loss", "reco_loss", "kl_loss"):
        logged = [value for _, value in train[f"epoch_{key}"]]
        assert logged == pytest.approx([row[key] for row in rows], rel=1e-5)
    validation = _scalars(tmp_path / "tb" / "validation")  # closed after each pass: on disk now
    logged = [value for _, value in validation["evaluation_total_loss_vs_iterations"]]
    assert logged == pytest.approx([row["val_total_loss"] for row in rows], rel=1e-5)


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-m", "latentexplorer.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_train_command_writes_an_events_file_with_the_loss(tiny_store, tmp_path):
    pytest.importorskip("tensorboard")
    tb = tmp_path / "tb"
    done = _cli("train", "--data", str(tiny_store), "--workspace", str(tmp_path / "ws"),
                "--z-dim", "3", "--batch-size", "16", "--epochs", "1", "--tensorboard", str(tb))
    assert done.returncode == 0, done.stderr
    loss = _scalars(tb / "train")["epoch_total_loss"]
    assert len(loss) == 1 and loss[0][0] == 0 and loss[0][1] > 0


def test_train_refuses_a_tensorboard_folder_inside_the_workspace_files(tiny_store, tmp_path):
    ws = tmp_path / "ws"
    done = _cli("train", "--data", str(tiny_store), "--workspace", str(ws), "--z-dim", "3",
                "--epochs", "1", "--tensorboard", str(tiny_store / "tb"))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "--tensorboard" in lines[0], done.stderr
    assert not ws.exists() and not (tiny_store / "tb").exists()


def test_without_the_tensorboard_package_it_stops_before_any_epoch(monkeypatch):
    import importlib.util

    from latentexplorer.errors import EnvironmentProblem
    from latentexplorer.models.training import tensorboard_callback

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "tensorboard" else real(name, *args))
    with pytest.raises(EnvironmentProblem, match="pip install tensorboard"):
        tensorboard_callback("logs")
