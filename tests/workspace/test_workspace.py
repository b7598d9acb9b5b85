"""Workspace: create/open, config, epochs committed as one unit, latents and their versions, GUI state."""

import json
import shutil

import numpy as np
import pytest
from tiny_models import make_store, tiny_config

from latentexplorer.errors import InvalidInputError
from latentexplorer.fileio import atomic_write_json
from latentexplorer.workspace import Workspace

CFG = tiny_config(z_dim=3)


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path / "store", n=10)


@pytest.fixture
def ws(tmp_path, store):
    return Workspace.create(tmp_path / "ws", store, CFG, training={"epochs": 3})


@pytest.fixture(scope="module")
def model():
    from latentexplorer.models.autoencoder import build_model

    return build_model(CFG)


def _row(epoch, loss=3.0):
    return {"epoch": epoch, "total_loss": loss, "reco_loss": loss, "kl_loss": 0.0}


def test_create_and_open(ws, store):
    config = json.loads((ws.path / "config.json").read_text())
    assert config["data"] == str(store.resolve()) and config["model"]["z_dim"] == 3
    assert config["training"] == {"epochs": 3, "batch_size": 128, "lr": 5e-4, "seed": 0,
                                  "precision": "float32", "jit_compile": False}
    again = Workspace.open(ws.path)
    assert again.model_config == CFG and again.training["epochs"] == 3
    assert again.checkpoint_epoch == 0 and again.history() == [] and not again.has_model
    assert not again.has_latents and not again.latents_stale
    assert again.dataset().n == 10 and ws.results_dir.is_dir()
    again.update_training(epochs=5)
    assert Workspace.open(ws.path).training["epochs"] == 5


def test_create_errors(tmp_path, ws, store, model):
    other = tmp_path / "full"
    other.mkdir()
    (other / "x.txt").write_text("x")
    with pytest.raises(InvalidInputError, match="not an empty folder"):
        Workspace.create(other, store, CFG)
    with pytest.raises(InvalidInputError, match="missing_store"):
        Workspace.create(tmp_path / "w2", tmp_path / "missing_store", CFG)
    with pytest.raises(InvalidInputError, match="16x16.*image_size=32"):
        Workspace.create(tmp_path / "w3", store, CFG.replace(image_size=32))
    with pytest.raises(InvalidInputError, match=r"training: batch_size = 0: expected greater than"):
        Workspace.create(tmp_path / "w4", store, CFG, training={"batch_size": 0})
    with pytest.raises(InvalidInputError, match="unknown entry 'epoch'"):
        Workspace.create(tmp_path / "w5", store, CFG, training={"epoch": 3})
    assert not (tmp_path / "w4").exists()
    # a workspace without a committed epoch is no work yet: creating it again replaces its config
    again = Workspace.create(ws.path, store, CFG.replace(z_dim=4))
    assert again.model_config.z_dim == 4
    again.commit_epoch(_build(again.model_config), [_row(1)], None)
    with pytest.raises(InvalidInputError, match="exists, use --resume or another folder"):
        Workspace.create(ws.path, store, CFG)


def _build(cfg):
    from latentexplorer.models.autoencoder import build_model

    return build_model(cfg)


def test_open_errors(tmp_path, ws):
    with pytest.raises(InvalidInputError, match="workspace folder not found"):
        Workspace.open(tmp_path / "none")
    with pytest.raises(InvalidInputError, match="not a workspace"):
        Workspace.open(tmp_path / "store")
    config = json.loads((ws.path / "config.json").read_text())
    config["model"]["z_dim"] = -1
    (ws.path / "config.json").write_text(json.dumps(config))
    with pytest.raises(InvalidInputError, match=r"config.json: model.z_dim = -1: expected greater"):
        Workspace.open(ws.path)


def test_missing_dataset_names_the_path(ws, store):
    (store / "meta.json").rename(store / "meta.moved")
    with pytest.raises(InvalidInputError, match="meta.json missing"):
        ws.dataset()
    store.rename(store.with_name("elsewhere"))
    with pytest.raises(InvalidInputError, match=f"dataset {store} not found"):
        ws.dataset()


def test_epochs_commit_with_one_switch_and_keep_the_previous(ws, model):
    fp = ws.dataset().fingerprint()
    first = ws.commit_epoch(model, [_row(1)], fp)
    assert ws.checkpoint_epoch == 1 and ws.history() == [_row(1)] and ws.has_model
    assert first.model == "checkpoints/epoch-0001" and first.store == fp
    ws.commit_epoch(model, [_row(1), _row(2, 2.0)], fp)
    ws.commit_epoch(model, [_row(1), _row(2, 2.0), _row(3, 1.0)], fp)
    # the current epoch and the one before it are kept, older ones deleted
    assert sorted(p.name for p in (ws.path / "checkpoints").iterdir()) == ["epoch-0002", "epoch-0003"]
    snap = ws.snapshot()
    assert snap.epoch == 3 and snap.dir.name == "epoch-0003" and [r["epoch"] for r in ws.history()] == [1, 2, 3]
    assert ws.load_decoder(snap).input_shape == (None, 3)
    with pytest.raises(InvalidInputError, match=r"row 1 has epoch 3, expected 2"):
        ws.commit_epoch(model, [_row(1), _row(3)], fp)


def test_an_orphaned_epoch_folder_is_not_current_and_is_replaced(ws, model):
    ws.commit_epoch(model, [_row(1)], None)
    # a run killed after staging epoch 2 but before switching checkpoint.json
    shutil.copytree(ws.path / "checkpoints" / "epoch-0001", ws.path / "checkpoints" / "epoch-0002")
    assert ws.checkpoint_epoch == 1 and [r["epoch"] for r in ws.history()] == [1]
    ws.commit_epoch(model, [_row(1), _row(2, 9.0)], None)
    assert ws.history()[-1]["total_loss"] == 9.0


def test_tampered_checkpoint_files_are_clear_errors(ws, model):
    ws.commit_epoch(model, [_row(1)], None)
    cp = ws.path / "checkpoint.json"
    good = json.loads(cp.read_text())
    for change, needle in [({"epoch": 10**18}, r"epoch = 1000000000000000000: expected less"),
                           ({"epoch": "1"}, r"epoch = '1': expected a valid integer"),
                           ({"model": "../elsewhere"}, "relative folder inside the workspace"),
                           ({"model": "checkpoints/epoch-0009"}, "that folder is missing")]:
        cp.write_text(json.dumps({**good, **change}))
        with pytest.raises(InvalidInputError, match=needle):
            ws.snapshot()
    cp.write_text(json.dumps(good))
    hist = ws.snapshot().dir / "history.json"
    hist.write_text(json.dumps([{"epoch": "1", "total_loss": 1, "reco_loss": 1, "kl_loss": 0}]))
    with pytest.raises(InvalidInputError, match=r"history.json: \[0\].epoch = '1'"):
        ws.history()


def test_load_without_model_is_a_clear_error(ws):
    with pytest.raises(InvalidInputError, match="no trained model"):
        ws.load_decoder()


def test_latents_versions_staleness_and_validation(ws, model):
    with pytest.raises(InvalidInputError, match="no latents yet"):
        ws.latents()
    store = ws.dataset()
    ws.commit_epoch(model, [_row(1)], store.fingerprint())
    z = np.arange(30, dtype=np.float64).reshape(10, 3)
    ws.write_latents(z, store=store.fingerprint())
    lat = ws.latents()
    assert lat.z.dtype == np.float32 and lat.z.shape == (10, 3) and lat.meta.epoch == 1
    assert lat.mu is None and lat.fingerprint == ws.model_fingerprint() and not ws.latents_stale
    ws.write_latents(z + 1, store=store.fingerprint())
    ws.write_latents(z + 2, store=store.fingerprint())
    assert sorted(p.name for p in ws.latents_dir.iterdir()) == ["meta.json", "v-0002", "v-0003"]
    assert ws.latents().z[0, 0] == 2
    # retrained (other weights): the latents no longer match the model
    ws.commit_epoch(_build(CFG), [_row(1), _row(2)], store.fingerprint())
    st = ws.staleness()
    assert st.stale and "epoch 1's weights, the model is now at epoch 2" in st.message
    assert f"latentexplorer encode --workspace {ws.path}" in st.message
    bad = z.copy()
    bad[4, 1] = np.nan
    ws.write_latents(bad)
    with pytest.raises(InvalidInputError, match=r"z.npy: NaN or infinite value at row 4, column 1"):
        ws.latents()
    ws.write_latents(z)
    np.save(ws.latents_dir / ws.latent_set().meta().dir / "z.npy", np.zeros((9, 3), np.float32))
    with pytest.raises(InvalidInputError, match=r"shape \(9, 3\), expected \(10, 3\)"):
        ws.latents()
    np.save(ws.latents_dir / ws.latent_set().meta().dir / "z.npy", np.array([["a"] * 3] * 10))
    with pytest.raises(InvalidInputError, match=r"dtype <U1 .* expected float values"):
        ws.latents()


def test_store_changes_make_latents_stale(tmp_path, ws, model, store):
    ws.commit_epoch(model, [_row(1)], ws.dataset().fingerprint())
    ws.write_latents(np.zeros((10, 3)), store=ws.dataset().fingerprint())
    assert not ws.latents_stale
    shutil.rmtree(store)
    make_store(store, n=12)  # the store grew under the encoded workspace
    st = ws.staleness()
    assert st.stale and "now has 12 images, had 10" in st.message
    shutil.rmtree(store)
    make_store(store, n=10, seed=5)  # same count, other images
    assert "images changed" in ws.staleness().message


def test_gui_state_keeps_the_valid_entries(ws):
    assert ws.read_gui_state() == {}
    ws.write_gui_state({"plane": ["pca", 0, 1], "sigma_level": 2.0})
    assert ws.read_gui_state() == {"plane": ("pca", 0, 1), "sigma_level": 2.0}
    warnings = []
    atomic_write_json(ws.path / "gui_state.json", {"plane": ["pca", "a", "b"], "sharpen": 1e308,
                                                   "fact": 0.5})
    assert ws.read_gui_state(warnings.append) == {"fact": 0.5}
    assert any("plane" in w for w in warnings)
    (ws.path / "gui_state.json").write_text("{broken")
    assert ws.read_gui_state() == {}
