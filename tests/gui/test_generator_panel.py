"""GeneratorPanel: the shared generate → decode → score pipeline as the "generate" job; samples
reach the model and a grid of decoded faces; clicks; the method's parameter boxes; export; the
samples of a saved GUI state are generated again."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from tiny_models import RAW_SIZE, RAW_Z_DIM

from latentexplorer.explore.generate import GenerationContext, GeneratorSpec
from latentexplorer.gui.controller import ExplorerController
from latentexplorer.gui.generator_panel import METHODS, GeneratorPanel, generate_job
from latentexplorer.gui.state import AppState
from latentexplorer.gui.workers import TaskRunner

Z_DIM, SIZE = RAW_Z_DIM, RAW_SIZE


@pytest.fixture(scope="module")
def decoder(tiny_decoder):
    from latentexplorer.models.codec import Decoder

    return Decoder(tiny_decoder)


@pytest.fixture(scope="module")
def fingerprint(tiny_decoder):
    from latentexplorer.render.images import weights_fingerprint

    return weights_fingerprint(tiny_decoder)


def _points(n=200, seed=0):
    z = np.random.default_rng(seed).normal(size=(n, Z_DIM)) * np.linspace(2, 0.5, Z_DIM)
    return z.astype(np.float32)


@pytest.fixture
def controller(qtbot):
    c = ExplorerController(AppState(), TaskRunner())
    yield c
    c.runner.cancel_all(wait_ms=30_000)
    c.close()


@pytest.fixture
def state(controller, decoder, fingerprint):
    st = controller.state
    st.model.set_data(_points())
    st.set_decoder(decoder, fingerprint)
    return st


def _panel(qtbot, controller, show=False) -> GeneratorPanel:
    panel = GeneratorPanel(controller.state, controller)
    qtbot.addWidget(panel)
    if show:
        panel.show()
        qtbot.waitExposed(panel)
    return panel


def _type(qtbot, spin, value) -> None:
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    qtbot.keyClick(spin, Qt.Key_Enter)


def _choose(panel, method: str) -> None:
    panel.method.setCurrentIndex(panel.method.findText(method))


def _generate(qtbot, panel, button=None):
    """Click Generate (or ``button``) and wait for the result."""
    with qtbot.waitSignal(panel.generated, timeout=60_000) as blocker:
        qtbot.mouseClick(button or panel.generate_button, Qt.LeftButton)
    return blocker.args[0]


# ------------------------------------------------------------------ the pipeline
def test_the_panel_builds_the_spec_of_each_method(qtbot, controller, state):
    panel = _panel(qtbot, controller)
    m = state.model
    typed = {"uniform": [(panel.b, 2.0)], "normal": [(panel.sigma, 0.5)], "mvn": [], "ellipse": []}
    # n_comp cannot exceed z_dim; sigma level and fact are the scatter's ellipse sliders
    assert panel.n_comp.maximum() == Z_DIM
    expected = {"uniform": {"b": 2.0}, "normal": {"sigma": 0.5}, "mvn": {},
                "ellipse": {"n_components": Z_DIM, "sigma_level": m.sigma_level, "fact": m.fact}}
    for method in METHODS:
        _choose(panel, method)
        for box, value in typed[method]:
            _type(qtbot, box, value)
        spec = panel.spec()
        assert (spec.method, spec.params) == (method, expected[method])
        assert (spec.n, spec.seed) == (panel.n.value(), panel.seed.value())


def test_unused_parameter_boxes_and_their_labels_are_disabled(qtbot, controller, state):
    panel = _panel(qtbot, controller)
    form = panel.b.parentWidget().layout()
    used = {"uniform": {panel.b}, "normal": {panel.sigma}, "mvn": set(),
            "ellipse": {panel.n_comp, panel.sigma_level, panel.fact}}
    for method in METHODS:
        _choose(panel, method)
        for box in (panel.b, panel.sigma, panel.n_comp, panel.sigma_level, panel.fact):
            on = box in used[method]
            assert box.isEnabled() == on and form.labelForField(box).isEnabled() == on, (method, box)


@pytest.mark.parametrize("method", METHODS)
def test_generate_job_every_method(method, state, decoder):
    ctx = GenerationContext(state.model.z, decoder, "fp")
    spec = GeneratorSpec.of(method, 50, 3, z_dim=Z_DIM, n_comp=4)
    res = generate_job({"spec": spec, "ctx": ctx, "n_show": 7, "score": False}, _reporter())
    assert res.z.shape == (50, Z_DIM)
    assert res.images.shape == (7, SIZE, SIZE, 3) and res.images.dtype == np.uint8
    assert res.scoreboard()["n"] == 50 and res.scoreboard()["seed"] == 3
    again = generate_job({"spec": spec, "ctx": GenerationContext(state.model.z), "n_show": 0},
                         _reporter())
    np.testing.assert_array_equal(again.z, res.z)  # same seed, same vectors
    assert again.images is None  # no decoder: vectors only


def _reporter():
    from latentexplorer.progress import ProgressReporter

    return ProgressReporter()


# ------------------------------------------------------------------ the panel
def test_panel_samples_reach_the_model_and_the_grid(qtbot, controller, state):
    panel = _panel(qtbot, controller)
    _type(qtbot, panel.n, 40)
    _type(qtbot, panel.n_show, 12)
    with qtbot.waitSignal(state.samplesChanged, timeout=60_000):
        qtbot.mouseClick(panel.generate_button, Qt.LeftButton)
        assert panel.running  # in the runner, not the GUI thread
    m = state.model
    assert m.samples.shape == (40, Z_DIM) and m.sample_info["scoreboard"]["n"] == 40
    assert m.sample_info["spec"] == panel.result.spec.to_dict()  # what the GUI state saves
    assert len(panel.grid.tiles) == 12
    assert all(not t.image.pixmap().isNull() for t in panel.grid.tiles)
    assert all(t.caption.text().startswith("R ") for t in panel.grid.tiles)  # no scorer here
    assert panel.export_grid_button.isEnabled() and panel.export_vectors_button.isEnabled()
    assert "40</b> vectors" in panel.status.text()


def test_uniform_samples_and_a_click_sets_current(qtbot, controller, state):
    panel = _panel(qtbot, controller)
    _choose(panel, "uniform")
    _type(qtbot, panel.n, 500)
    _type(qtbot, panel.n_show, 5)
    _generate(qtbot, panel)
    m = state.model
    assert m.samples.shape == (500, Z_DIM)
    assert np.all(np.abs(m.samples) <= 1.5 + 1e-6)
    assert len(panel.grid.tiles) == 5
    with qtbot.waitSignal(state.currentChanged, timeout=2000):
        qtbot.mouseClick(panel.grid.tiles[3], Qt.LeftButton)
    np.testing.assert_array_equal(m.current.vector, m.samples[3])
    assert panel.grid.selected == 3


def test_new_seed_draws_other_vectors(qtbot, controller, state):
    panel = _panel(qtbot, controller)
    _type(qtbot, panel.n, 10)
    first = _generate(qtbot, panel).z
    second = _generate(qtbot, panel, panel.new_seed_button)
    assert panel.seed.value() == 1 and second.spec.seed == 1
    assert not np.allclose(first, second.z)


def test_boxes_and_the_model_follow_each_other(qtbot, controller, state):
    panel = _panel(qtbot, controller)
    m = state.model
    m.set_fact(0.55)
    assert panel.fact.value() == pytest.approx(0.55)
    _type(qtbot, panel.sigma_level, 2.2)
    assert m.sigma_level == pytest.approx(2.2)
    _type(qtbot, panel.sharpen, 3.0)
    assert m.sharpen == pytest.approx(3.0)


def test_clear_empties_the_grid(qtbot, controller, state):
    panel = _panel(qtbot, controller)
    _type(qtbot, panel.n, 10)
    _type(qtbot, panel.n_show, 4)
    _generate(qtbot, panel)
    assert len(panel.grid.tiles) == 4
    qtbot.mouseClick(panel.clear_button, Qt.LeftButton)
    assert state.model.samples is None
    assert panel.grid.tiles == [] and not panel.export_grid_button.isEnabled()
    assert not panel.clear_button.isEnabled()


def test_foreign_samples_empty_the_grid(qtbot, controller, state):
    panel = _panel(qtbot, controller)
    _type(qtbot, panel.n_show, 3)
    _generate(qtbot, panel)
    state.model.set_samples(np.zeros((2, Z_DIM), np.float32))  # e.g. File > Open grid
    assert panel.grid.tiles == [] and panel.result is None


def test_export_grid_png_and_sidecar(qtbot, controller, state, tmp_path, monkeypatch,
                                     isolated_settings):
    from latentexplorer.render.images import load_sidecar, redecode_sidecar

    panel = _panel(qtbot, controller)
    _type(qtbot, panel.n, 9)
    _type(qtbot, panel.n_show, 9)
    _generate(qtbot, panel)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda parent, title, start, filt, *a, **k: (str(tmp_path / "grid.png"), filt)))
    with qtbot.waitSignal(state.notice, timeout=5000) as blocker:
        qtbot.mouseClick(panel.export_grid_button, Qt.LeftButton)
    assert "Grid saved" in blocker.args[0]
    png, sidecar = tmp_path / "grid.png", tmp_path / "grid.json"
    with Image.open(png) as im:
        im.verify()
    with Image.open(png) as im:
        assert im.format == "PNG" and im.width >= SIZE and im.height >= SIZE
    data = json.loads(sidecar.read_text())
    assert data["n"] == 9 and len(data["z"]) == 9
    np.testing.assert_allclose(np.asarray(data["z"], np.float32), state.model.samples[:9])
    assert data["generator"] == "ellipse" and data["seed"] == 0
    rec = load_sidecar(sidecar)
    assert rec.fingerprint == state.decoder_fingerprint
    np.testing.assert_array_equal(redecode_sidecar(sidecar, state.decoder, rec.fingerprint),
                                  panel.result.images)

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda parent, title, start, filt, *a, **k: (str(tmp_path / "samples.npy"), filt)))
    qtbot.mouseClick(panel.export_vectors_button, Qt.LeftButton)
    np.testing.assert_array_equal(np.load(tmp_path / "samples.npy"), state.model.samples)


def test_the_scoreboard_with_a_workspace(qtbot, controller, tiny_workspace):
    """With a real workspace the faces are judged: a caption per face, a scoreboard row per set."""
    from latentexplorer.workspace import Workspace

    with qtbot.waitSignal(controller.loaded, timeout=60_000):
        controller.open_workspace(Workspace.open(tiny_workspace))
    st = controller.state
    assert st.decoder is not None and st.model.z is not None
    panel = _panel(qtbot, controller)
    _choose(panel, "normal")
    _type(qtbot, panel.n, 6)
    _type(qtbot, panel.n_show, 6)
    gen = _generate(qtbot, panel)
    scores = gen.scores
    assert scores is not None and scores.n == 6
    conf = gen.confidences()
    assert len(conf) == 6
    for tile, c in zip(panel.grid.tiles, conf):
        assert tile.caption.text() == (f"face {c:.2f}" if c else "no face")
        assert "MTCNN" in tile.toolTip() and "closeness to the data" in tile.toolTip()
    assert "faces found (MTCNN)" in panel.status.text()
    assert 0.0 <= float(np.min(scores.closeness)) <= float(np.max(scores.closeness)) <= 1.0
    board = panel.scoreboard
    assert board.rowCount() == 1 and board.item(0, 0).text().startswith("normal")
    assert board.item(0, 3).text().endswith("]")  # MTCNN rate with its interval
    _generate(qtbot, panel)  # a second set: a second row, on top
    assert board.rowCount() == 2


def test_the_samples_of_a_saved_gui_state_are_generated_again(qtbot, controller, tiny_workspace_copy):
    from latentexplorer.workspace import Workspace

    ws = Workspace.open(tiny_workspace_copy)
    with qtbot.waitSignal(controller.loaded, timeout=60_000):
        controller.open_workspace(ws)
    panel = _panel(qtbot, controller)
    _choose(panel, "normal")
    _type(qtbot, panel.n, 12)
    _type(qtbot, panel.seed, 5)
    first = _generate(qtbot, panel).z
    controller.save_gui_state()

    other = ExplorerController(AppState(), TaskRunner())
    try:
        panel2 = _panel(qtbot, other)  # hidden: only the saved samples make it generate
        with qtbot.waitSignal(panel2.generated, timeout=60_000):
            other.open_workspace(Workspace.open(tiny_workspace_copy))
        np.testing.assert_array_equal(other.state.model.samples, first)
        assert panel2.method.currentText() == "normal" and panel2.seed.value() == 5
    finally:
        other.runner.cancel_all(wait_ms=30_000)
        other.close()


# ------------------------------------------------------------------ following the state's signals
def test_panel_follows_points_and_decoder_that_arrive_later(qtbot, controller, decoder, fingerprint):
    """Created before a workspace is loaded (as in the main window), the panel must leave the
    "Load z-points" message once the z-points arrive, and fill its grid by itself the first
    time it is visible with z-points and a decoder."""
    st = controller.state
    panel = _panel(qtbot, controller, show=True)
    _type(qtbot, panel.n_show, 6)
    assert "Load z-points" in panel.status.text()
    assert not panel.generate_button.isEnabled()
    st.model.set_data(_points(120, seed=1))  # no decoder yet: ready, but nothing to decode
    assert panel.generate_button.isEnabled()
    assert "Load z-points" not in panel.status.text()
    assert panel.grid.tiles == [] and not panel.running
    with qtbot.waitSignal(panel.generated, timeout=60_000):
        st.set_decoder(decoder, fingerprint)  # generated once by itself
    assert len(panel.grid.tiles) == 6
    assert st.model.samples is not None and st.model.samples.shape[1] == Z_DIM
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    first = st.model.samples
    st.set_decoder(decoder, fingerprint)  # the same decoder again: no second automatic run
    assert not panel.running and st.model.samples is first


def test_hidden_panel_generates_when_first_shown(qtbot, controller, state):
    panel = _panel(qtbot, controller)  # data and decoder already there, panel not shown
    _type(qtbot, panel.n_show, 4)
    assert panel.grid.tiles == [] and state.model.samples is None and not panel.running
    assert "Load z-points" not in panel.status.text()
    with qtbot.waitSignal(panel.generated, timeout=60_000):
        panel.show()
    assert len(panel.grid.tiles) == 4
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    panel.hide()
    panel.show()
    assert not panel.running and len(panel.grid.tiles) == 4 and panel.result is not None


def test_new_points_drop_the_old_grid(qtbot, controller, state):
    panel = _panel(qtbot, controller)
    _type(qtbot, panel.n_show, 3)
    _generate(qtbot, panel)
    assert len(panel.grid.tiles) == 3
    state.model.set_data(np.random.default_rng(5).normal(size=(50, Z_DIM + 1)).astype(np.float32))
    assert panel.grid.tiles == [] and panel.result is None
    assert state.model.samples is None
