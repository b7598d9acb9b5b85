"""Workspace: create/open, config, checkpoint + history, latents and their validation, GUI state.

No TensorFlow needed: model files are faked where only their presence matters.
"""

import json

import numpy as np
import pytest

from latentexplorer.data.store import StoreWriter
from latentexplorer.errors import InvalidInputError
from latentexplorer.fileio import atomic_write_json
from latentexplorer.models.config import ModelConfig
from latentexplorer.workspace import Workspace

CFG = ModelConfig.from_preset("case1", image_size=16, z_dim=3)


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "store"
    with StoreWriter(path, 10, 16) as w:
        w.images[:] = 7
        w.finish({"source": "test"})
    return path


@pytest.fixture
def ws(tmp_path, store):
    return Workspace.create(tmp_path / "ws", store, CFG, training={"epochs": 3})


def _fake_model(ws, fingerprint="abc"):
    ws.model_dir.mkdir(exist_ok=True)
    (ws.model_dir / "model.keras").write_bytes(b"x")
    atomic_write_json(ws.model_dir / "model_config.json", {"model": CFG.to_dict(), "fingerprint": fingerprint})


def test_create_and_open(ws, store):
    config = json.loads((ws.path / "config.json").read_text())
    assert config["data"] == str(store.resolve()) and config["model"]["z_dim"] == 3
    assert config["training"] == {"epochs": 3, "batch_size": 128, "lr": 5e-4, "seed": 0}
    again = Workspace.open(ws.path)
    assert again.model_config == CFG and again.training["epochs"] == 3
    assert again.checkpoint_epoch == 0 and again.history() == [] and not again.has_model
    assert not again.has_latents and not again.latents_stale
    assert again.dataset().n == 10 and ws.results_dir.is_dir()
    again.update_training(epochs=5)
    assert Workspace.open(ws.path).training["epochs"] == 5


def test_create_errors(tmp_path, ws, store):
    with pytest.raises(InvalidInputError, match="exists, use --resume or another folder"):
        Workspace.create(ws.path, store, CFG)
    other = tmp_path / "full"
    other.mkdir()
    (other / "x.txt").write_text("x")
    with pytest.raises(InvalidInputError, match="not an empty folder"):
        Workspace.create(other, store, CFG)
    with pytest.raises(InvalidInputError, match="missing_store"):
        Workspace.create(tmp_path / "w2", tmp_path / "missing_store", CFG)
    with pytest.raises(InvalidInputError, match="16x16.*image_size=32"):
        Workspace.create(tmp_path / "w3", store, CFG.replace(image_size=32))
    with pytest.raises(InvalidInputError, match="batch_size=0"):
        Workspace.create(tmp_path / "w4", store, CFG, training={"batch_size": 0})
    with pytest.raises(InvalidInputError, match="unknown training"):
        Workspace.create(tmp_path / "w5", store, CFG, training={"epoch": 3})
    assert not (tmp_path / "w4").exists()


def test_open_errors(tmp_path, ws):
    with pytest.raises(InvalidInputError, match="workspace folder not found"):
        Workspace.open(tmp_path / "none")
    with pytest.raises(InvalidInputError, match="not a workspace"):
        Workspace.open(tmp_path / "store")
    config = json.loads((ws.path / "config.json").read_text())
    config["model"]["z_dim"] = -1
    (ws.path / "config.json").write_text(json.dumps(config))
    with pytest.raises(InvalidInputError, match=r"config.json.*z_dim=-1"):
        Workspace.open(ws.path)


def test_missing_dataset_names_the_path(ws, store):
    (store / "meta.json").rename(store / "meta.moved")
    with pytest.raises(InvalidInputError, match="meta.json missing"):
        ws.dataset()
    store.rename(store.with_name("elsewhere"))
    with pytest.raises(InvalidInputError, match=f"dataset {store} not found"):
        ws.dataset()


def test_history_is_trusted_up_to_the_checkpoint(ws):
    rows = [{"epoch": 1, "total_loss": 3.0}, {"epoch": 2, "total_loss": 2.0}]
    ws.write_history(rows)
    assert ws.history() == []  # no checkpoint yet
    _fake_model(ws)
    ws.write_checkpoint(1)
    assert ws.checkpoint_epoch == 1 and ws.history() == rows[:1]
    ws.write_checkpoint(2)
    assert ws.history() == rows and ws.has_model
    (ws.model_dir / "model.keras").unlink()
    with pytest.raises(InvalidInputError, match="model.keras is missing"):
        _ = ws.checkpoint_epoch


def test_load_without_model_is_a_clear_error(ws):
    with pytest.raises(InvalidInputError, match="no trained model"):
        ws.load_decoder()


def test_latents_round_trip_staleness_and_validation(ws):
    with pytest.raises(InvalidInputError, match="no latents yet"):
        ws.latents()
    _fake_model(ws, "f1")
    z = np.arange(30, dtype=np.float64).reshape(10, 3)
    ws.write_latents(z)
    lat = ws.latents()
    assert lat.z.dtype == np.float32 and lat.z.shape == (10, 3) and lat.fingerprint == "f1"
    assert lat.mu is None and not ws.latents_stale
    _fake_model(ws, "f2")  # retrained: the latents no longer match the model
    assert ws.latents_stale
    bad = z.copy()
    bad[4, 1] = np.nan
    ws.write_latents(bad)
    with pytest.raises(InvalidInputError, match="z.npy: 1 NaN/inf"):
        ws.latents()
    ws.write_latents(np.zeros((10, 2)))
    with pytest.raises(InvalidInputError, match="z_dim=2 but the model has z_dim=3"):
        ws.latents()
    ws.write_latents(z)
    np.save(ws.latents_dir / "z.npy", np.zeros((9, 3), np.float32))
    with pytest.raises(InvalidInputError, match=r"shape \(9, 3\), expected \(10, 3\)"):
        ws.latents()


def test_gui_state(ws):
    assert ws.read_gui_state() == {}
    ws.write_gui_state({"plane": [0, 1], "sliders": [0.5, 0.1]})
    assert ws.read_gui_state() == {"plane": [0, 1], "sliders": [0.5, 0.1]}
    (ws.path / "gui_state.json").write_text("{broken")
    assert ws.read_gui_state() == {}
