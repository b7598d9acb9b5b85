"""GeneratorPanel: samples reach the state and a grid of decoded faces; clicks; export."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from latentexplorer import _env  # noqa: F401
from latentexplorer.gui.generator_panel import GeneratorPanel, generate_task, sampler_params
from latentexplorer.gui.state import AppState
from latentexplorer.gui.workers import TaskRunner

Z_DIM = 6
SIZE = 16


def _tiny_decoder():
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((Z_DIM,))
    x = keras.layers.Dense(4 * 4 * 4, activation="relu")(inp)
    x = keras.layers.Reshape((4, 4, 4))(x)
    x = keras.layers.Conv2DTranspose(3, 3, strides=4, padding="same", activation="sigmoid")(x)
    return keras.Model(inp, x, name="decoder")


@pytest.fixture(scope="module")
def decoder():
    from latentexplorer.render.decode import Decoder

    return Decoder(_tiny_decoder())


@pytest.fixture
def state(decoder):
    st = AppState()
    z = np.random.default_rng(0).normal(size=(200, Z_DIM)).astype(np.float32) * np.linspace(2, 0.5, Z_DIM)
    st.set_latents(z.astype(np.float32))
    st.set_decoder(decoder)
    return st


def test_sampler_params_per_method():
    kw = dict(b=2.0, sigma=0.5, n_comp=300, sigma_level=2.35, fact=0.7, z_dim=8)
    assert sampler_params("uniform", **kw) == {"b": 2.0}
    assert sampler_params("normal", **kw) == {"sigma": 0.5}
    assert sampler_params("mvn", **kw) == {}
    assert sampler_params("ellipse", **kw) == {"n_components": 8, "sigma_level": 2.35, "fact": 0.7}


@pytest.mark.parametrize("method", ["uniform", "normal", "mvn", "ellipse"])
def test_generate_task_every_method(method, state):
    kw = sampler_params(method, b=1.5, sigma=1.0, n_comp=4, sigma_level=2.35, fact=0.7, z_dim=Z_DIM)
    res = generate_task({"z": state.z, "method": method, "sampler_params": kw, "n": 50, "seed": 3,
                         "n_show": 7, "decoder": state.decoder})
    assert res["z"].shape == (50, Z_DIM)
    assert res["images"].shape == (7, SIZE, SIZE, 3) and res["images"].dtype == np.uint8
    assert res["info"]["n"] == 50 and res["info"]["seed"] == 3
    again = generate_task({"z": state.z, "method": method, "sampler_params": kw, "n": 50, "seed": 3,
                           "n_show": 0, "decoder": None, "sampler": res["sampler"]})
    np.testing.assert_array_equal(again["z"], res["z"])  # same seed, same vectors


def test_panel_samples_reach_state_and_grid(qtbot, state):
    panel = GeneratorPanel(state, None)
    qtbot.addWidget(panel)
    panel.n.setValue(40)
    panel.n_show.setValue(12)
    with qtbot.waitSignal(state.samplesChanged, timeout=5000):
        panel.generate()
    assert state.samples.shape == (40, Z_DIM)
    assert state.sample_info["n"] == 40
    assert len(panel.grid.tiles) == 12
    assert all(not t.image.pixmap().isNull() for t in panel.grid.tiles)
    assert all(t.caption.text().startswith("R ") for t in panel.grid.tiles)  # no scorer here
    assert panel.export_grid_button.isEnabled() and panel.export_vectors_button.isEnabled()


def test_panel_in_worker_and_click_sets_current(qtbot, state):
    runner = TaskRunner()
    panel = GeneratorPanel(state, runner)
    qtbot.addWidget(panel)
    panel.method.setCurrentText("uniform")
    panel.n.setValue(500)
    panel.n_show.setValue(5)
    with qtbot.waitSignal(panel.generated, timeout=30_000):
        worker = panel.generate()
        assert worker is not None
    assert state.samples.shape == (500, Z_DIM)
    assert np.all(np.abs(state.samples) <= 1.5 + 1e-6)
    assert len(panel.grid.tiles) == 5
    tile = panel.grid.tiles[3]
    with qtbot.waitSignal(state.currentChanged, timeout=2000):
        qtbot.mouseClick(tile, Qt.LeftButton)
    np.testing.assert_array_equal(state.current, state.samples[3])
    runner.cancel_all(wait_ms=10_000)


def test_sliders_follow_state(qtbot, state):
    panel = GeneratorPanel(state, None)
    qtbot.addWidget(panel)
    state.set_fact(0.55)
    assert panel.fact.value() == pytest.approx(0.55)
    panel.sigma_level.setValue(2.2)
    assert state.sigma_level == pytest.approx(2.2)
    panel.sharpen.setValue(3.0)
    assert state.sharpen == pytest.approx(3.0)


def test_clear_and_foreign_samples_empty_the_grid(qtbot, state):
    panel = GeneratorPanel(state, None)
    qtbot.addWidget(panel)
    panel.n.setValue(10)
    panel.n_show.setValue(4)
    panel.generate()
    assert len(panel.grid.tiles) == 4
    panel.clear_button.click()
    assert state.samples is None
    assert panel.grid.tiles == [] and not panel.export_grid_button.isEnabled()


def test_export_grid_png_and_sidecar(qtbot, state, tmp_path):
    from latentexplorer.render.images import load_sidecar, redecode_sidecar, weights_fingerprint

    panel = GeneratorPanel(state, None)
    qtbot.addWidget(panel)
    panel.n.setValue(9)
    panel.n_show.setValue(9)
    panel.generate()
    png, sidecar = panel.export_grid(tmp_path / "grid.png")
    with Image.open(png) as im:
        im.verify()
    with Image.open(png) as im:
        assert im.format == "PNG" and im.width >= SIZE and im.height >= SIZE
    data = json.loads(sidecar.read_text())
    assert data["n"] == 9 and len(data["z"]) == 9
    np.testing.assert_allclose(np.asarray(data["z"], np.float32), state.samples[:9])
    assert data["generator"] == "ellipse" and data["seed"] == 0
    rec = load_sidecar(sidecar)
    fp = weights_fingerprint(state.decoder.model)
    assert rec.fingerprint == fp
    np.testing.assert_array_equal(redecode_sidecar(sidecar, state.decoder, fp), panel.result["images"])


def test_face_likeness_with_workspace(qtbot, tiny_workspace):
    """With a real workspace the faces get face-likeness scores under them."""
    from latentexplorer.workspace import Workspace

    runner = TaskRunner()
    state = AppState(runner)
    with qtbot.waitSignal(state.latentsChanged, timeout=60_000):
        state.load_workspace(Workspace.open(tiny_workspace))
    assert state.decoder is not None and state.z is not None
    panel = GeneratorPanel(state, None)
    qtbot.addWidget(panel)
    panel.method.setCurrentText("normal")
    panel.n.setValue(6)
    panel.n_show.setValue(6)
    panel.generate()
    scores = panel.result["scores"]
    assert scores is not None and scores.n == 6
    assert all(t.caption.text().startswith("face ") for t in panel.grid.tiles)
    assert "face score" in panel.status.text()
    assert 0.0 <= float(np.min(scores.face_score)) <= float(np.max(scores.face_score)) <= 1.0
    runner.cancel_all(wait_ms=30_000)


# ------------------------------------------------------------------ following the state's signals
def test_panel_follows_latents_and_decoder_that_arrive_later(qtbot, decoder):
    """Created before a workspace is loaded (as in the main window), the panel must leave the
    "Load z-points" message once the z-points arrive, and fill its grid by itself the first
    time it is visible with z-points, statistics and a decoder."""
    st = AppState()
    panel = GeneratorPanel(st, None)
    qtbot.addWidget(panel)
    panel.n_show.setValue(6)
    panel.show()
    qtbot.waitExposed(panel)
    assert "Load z-points" in panel.status.text()
    assert not panel.generate_button.isEnabled()
    z = np.random.default_rng(1).normal(size=(120, Z_DIM)).astype(np.float32)
    st.set_latents(z)  # no decoder yet: ready, but nothing to decode
    assert panel.generate_button.isEnabled()
    assert "Load z-points" not in panel.status.text()
    assert panel.grid.tiles == []
    st.set_decoder(decoder)
    assert "Load z-points" not in panel.status.text()
    assert len(panel.grid.tiles) == 6  # generated once by itself
    assert st.samples is not None and st.samples.shape[1] == Z_DIM
    first = st.samples
    st.set_decoder(decoder)  # the same decoder again: no second automatic run
    assert st.samples is first


def test_hidden_panel_generates_when_first_shown(qtbot, state):
    panel = GeneratorPanel(state, None)  # data and decoder already there, panel not shown
    qtbot.addWidget(panel)
    panel.n_show.setValue(4)
    assert panel.grid.tiles == [] and state.samples is None
    assert "Load z-points" not in panel.status.text()
    panel.show()
    qtbot.waitUntil(lambda: len(panel.grid.tiles) == 4, timeout=10_000)
    panel.hide()
    panel.show()
    assert len(panel.grid.tiles) == 4 and panel.result is not None


def test_new_latents_drop_the_old_grid(qtbot, state):
    panel = GeneratorPanel(state, None)
    qtbot.addWidget(panel)
    panel.n_show.setValue(3)
    panel.generate()
    assert len(panel.grid.tiles) == 3
    state.set_latents(np.random.default_rng(5).normal(size=(50, Z_DIM + 1)).astype(np.float32))
    assert panel.grid.tiles == [] and panel.result is None
