"""train(): committed epochs, history, resume, cancel, Ctrl-C, NaN stops, the lock, the store check."""

import json
import math
import shutil

import numpy as np
import pytest
from tiny_models import make_store, tiny_config

from latentexplorer.errors import Cancelled, InvalidInputError, LockedError
from latentexplorer.models import autoencoder
from latentexplorer.models.training import (TrainingCallback, TrainingDivergedError,
                                            format_epoch_summary)
from latentexplorer.progress import ProgressReporter
from latentexplorer.workspace import Workspace
from latentexplorer.workspace.training import check_memory, train


def _ws(tmp_path, store, kind="ae", **training):
    return Workspace.create(tmp_path / f"ws_{kind}", store, tiny_config(kind),
                            training={"batch_size": 16, "lr": 3e-3, "epochs": 2, **training})


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """A tiny AE workspace trained for one epoch, with the progress calls it made (trained once)."""
    root = tmp_path_factory.mktemp("one_epoch")
    ws = _ws(root, make_store(root / "store"))
    rows, progress = [], Recorder()
    history = train(ws, 1, progress=progress, on_epoch_end=rows.append)
    return ws, history, rows, progress


@pytest.fixture
def trained_ws(one_epoch, tmp_path):
    """A private copy of the one-epoch workspace (same dataset)."""
    dst = tmp_path / "ws"
    shutil.copytree(one_epoch[0].path, dst)
    return Workspace.open(dst)


class Recorder(ProgressReporter):
    """Records updates; cancels (or raises) at a chosen (epoch message, batch)."""

    def __init__(self, cancel_at=None, interrupt_at=None):
        super().__init__()
        self.calls = []
        self.cancel_at, self.interrupt_at = cancel_at, interrupt_at

    def update(self, done, total, message="", metrics=None):
        self.calls.append((done, total, message))
        here = (message.split(" loss")[0], done)
        if here == self.cancel_at:
            self.cancel()
        if here == self.interrupt_at:
            raise KeyboardInterrupt


def test_train_then_resume_continues_the_curve(one_epoch, trained_ws):
    ws, history, rows, progress = one_epoch
    assert [r["epoch"] for r in history] == [1] and rows == history
    assert ws.checkpoint_epoch == 1 and ws.history() == history
    n_train = len(ws.dataset().split()[0])
    steps = math.ceil(n_train / 16)
    train_calls = [c for c in progress.calls if "validation" not in c[2]]
    assert [c[:2] for c in train_calls] == [(b, steps) for b in range(1, steps + 1)]
    assert train_calls[-1][2].startswith("epoch 1/1 loss=")
    row = history[0]
    keys = {"total_loss", "reco_loss", "kl_loss", "val_total_loss", "seconds", "images_per_second"}
    assert keys <= set(row)
    assert row["kl_loss"] == 0 and all(math.isfinite(row[k]) for k in ("total_loss", "val_total_loss"))
    assert "epoch 1/1  total" in format_epoch_summary(row, 1)

    ws = trained_ws
    with pytest.raises(InvalidInputError, match="already trained 1 epoch"):
        train(ws, 2)
    history = train(ws, 2, resume=True)
    assert [r["epoch"] for r in history] == [1, 2]
    assert ws.checkpoint_epoch == 2 and Workspace.open(ws.path).training["epochs"] == 2
    assert history[1]["total_loss"] < history[0]["total_loss"]  # the tiny AE learns
    model = ws.load_model()
    assert int(model.optimizer.iterations.numpy()) == 2 * steps  # optimizer state carried over
    assert train(ws, 2, resume=True) == history  # nothing left to do


def test_resume_ignores_an_uncommitted_epoch_folder(trained_ws):
    ws = trained_ws
    # a crash after epoch 2's folder was staged but before checkpoint.json switched to it
    orphan = ws.path / "checkpoints" / "epoch-0002"
    shutil.copytree(ws.snapshot().dir, orphan)
    (orphan / "history.json").write_text('[{"epoch": 1, "total_loss": 1.0}]')
    assert [r["epoch"] for r in ws.history()] == [1]
    history = train(ws, 2, resume=True)
    assert [r["epoch"] for r in history] == [1, 2] and history[1]["total_loss"] != 1.0
    assert [r["epoch"] for r in Workspace.open(ws.path).history()] == [1, 2]


def test_a_second_writer_is_refused_naming_the_holder(trained_ws):
    ws = trained_ws
    with ws.lock(command="latentexplorer encode --workspace x"):
        with pytest.raises(LockedError, match=r"being written by process \d+ \(latentexplorer encode"):
            train(ws, 2, resume=True)
    assert ws.checkpoint_epoch == 1


def _repoint(ws, store):
    config = json.loads((ws.path / "config.json").read_text())
    (ws.path / "config.json").write_text(json.dumps({**config, "data": str(store)}))
    return Workspace.open(ws.path)


def test_resume_refuses_a_store_of_another_image_size(trained_ws, tmp_path):
    ws = _repoint(trained_ws, make_store(tmp_path / "big", n=64, size=32))
    with pytest.raises(InvalidInputError, match="images are 32x32 px, the model .* takes 16 px"):
        train(ws, 2, resume=True)


def test_resume_on_a_grown_store_warns_and_continues(trained_ws, tmp_path, capsys):
    ws = _repoint(trained_ws, make_store(tmp_path / "grown", n=80))
    train(ws, 2, resume=True)
    assert "since epoch 1, the dataset now has 80 images, had 64" in capsys.readouterr().err
    assert ws.checkpoint_epoch == 2


def test_memory_is_checked_before_building():
    from latentexplorer.schemas import ModelConfig

    cfg = ModelConfig.from_preset("case1", z_dim=65_536)
    with pytest.raises(InvalidInputError, match=r"z_dim=65536.*GiB of memory"):
        check_memory(cfg, 128, available=8 * 2**30)
    check_memory(ModelConfig.from_preset("case1"), 128, available=8 * 2**30)


def test_cancel_stops_after_the_current_batch(trained_ws):
    ws = trained_ws
    before = ws.model_fingerprint()
    progress = Recorder(cancel_at=("epoch 2/3", 1))
    with pytest.raises(Cancelled, match="checkpoint of epoch 1 kept"):
        train(ws, 3, resume=True, progress=progress)
    epoch2 = [c for c in progress.calls if c[2].startswith("epoch 2/3")]
    assert [c[0] for c in epoch2] == [1]  # stopped right after batch 1
    assert ws.checkpoint_epoch == 1 and [r["epoch"] for r in ws.history()] == [1]
    assert ws.model_fingerprint() == before


def test_ctrl_c_keeps_the_last_checkpoint(trained_ws):
    ws = trained_ws
    with pytest.raises(KeyboardInterrupt):
        train(ws, 2, resume=True, progress=Recorder(interrupt_at=("epoch 2/2", 2)))
    assert ws.checkpoint_epoch == 1 and [r["epoch"] for r in ws.history()] == [1]
    assert ws.load_model().kind == "ae"


def test_nan_loss_stops_and_keeps_the_previous_checkpoint(trained_ws, monkeypatch):
    ws = trained_ws
    before = ws.model_fingerprint()
    original = autoencoder.LatentAutoencoder.compute_losses

    def poisoned(self, x, **kw):
        total, reco, kl = original(self, x, **kw)
        return total * float("nan"), reco, kl

    monkeypatch.setattr(autoencoder.LatentAutoencoder, "compute_losses", poisoned)
    with pytest.raises(TrainingDivergedError, match="nan.*checkpoint of epoch 1 kept") as info:
        train(ws, 2, resume=True)
    assert (info.value.epoch, info.value.checkpoint_epoch) == (2, 1)
    assert ws.checkpoint_epoch == 1 and len(ws.history()) == 1 and ws.model_fingerprint() == before


def test_callback_flags_inf_loss():
    class FakeModel:
        stop_training = False

    cb = TrainingCallback(None, epochs=3)
    cb.set_model(FakeModel())
    cb.on_epoch_begin(1)
    cb.on_train_batch_end(0, {"total_loss": np.float32(12.0)})
    assert not cb.model.stop_training and cb.stop_reason is None
    cb.on_train_batch_end(1, {"total_loss": np.float32(np.inf)})
    assert cb.model.stop_training and "epoch 2, batch 2" in cb.stop_reason
