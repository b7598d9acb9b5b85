"""AppState and ExplorerController: what the GUI adds to the Qt-free ExplorationModel.

The model itself (planes, the current vector, paths, ellipses, persistence, the nearest index) is
tested without Qt in tests/explore/test_model.py. Here: every model event arrives as a Qt signal
carrying the model's value; the workspace, dataset thumbnails and decoder; and the controller's
background work (loading a workspace, the analysis job, decoding off the GUI thread, restoring
gui_state.json, staleness).
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.explore import (Current, DirectionPath, Plane, PlanePath, Thresholds,
                                    compute_analysis)
from latentexplorer.gui.controller import ExplorerController
from latentexplorer.gui.state import MODEL_EVENTS, AppState
from latentexplorer.gui.workers import TaskRunner


def _z(n=400, d=6, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    return (rng.normal(size=(n, d)) @ a + rng.normal(size=d)).astype(np.float32)


@pytest.fixture
def state(qtbot, make_state):
    return make_state(_z())


def _args(qtbot, signal, action):
    """Run ``action`` and return the arguments ``signal`` carried."""
    with qtbot.waitSignal(signal, timeout=2000) as blocker:
        action()
    return blocker.args


# ------------------------------------------------------------------ model events as Qt signals
def test_every_model_event_has_a_qt_signal():
    st = AppState()
    for name in MODEL_EVENTS:
        assert hasattr(st, name) and hasattr(st.model, name), name


def test_qt_signals_carry_the_models_values(state, qtbot):
    m = state.model
    assert _args(qtbot, state.planeChanged, lambda: m.set_plane(("latent", 2, 4))) == [Plane("latent", 2, 4)]
    (cur,) = _args(qtbot, state.currentChanged, lambda: m.select_point(5))
    assert isinstance(cur, Current) and cur.index == 5 and cur is m.current
    np.testing.assert_array_equal(cur.vector, m.z[5])
    assert _args(qtbot, state.overlayChanged, lambda: m.set_sigma_level(3.0)) == [3.0, 0.7]
    assert _args(qtbot, state.overlayChanged, lambda: m.set_fact(0.35)) == [3.0, pytest.approx(0.35)]
    assert _args(qtbot, state.sharpenChanged, lambda: m.set_sharpen(2.5)) == [2.5]
    assert _args(qtbot, state.colorByChanged, lambda: m.set_color_by(None)) == [None]
    assert _args(qtbot, state.modesChanged, lambda: m.set_modes(snap=True)) == [True, False]
    assert _args(qtbot, state.modesChanged, lambda: m.set_modes(path_mode=True)) == [True, True]
    t = Thresholds(1.0, 2.0)
    assert _args(qtbot, state.thresholdsChanged, lambda: m.set_thresholds(t)) == [t]
    (samples,) = _args(qtbot, state.samplesChanged,
                       lambda: m.set_samples(np.zeros((3, 6)), {"method": "normal"}))
    assert samples.shape == (3, 6) and m.sample_info["method"] == "normal"
    (path,) = _args(qtbot, state.pathChanged, lambda: m.set_path([[0.0, 0.0], [1.0, 1.0]]))
    assert isinstance(path, PlanePath) and path.plane == Plane("latent", 2, 4)
    (path,) = _args(qtbot, state.pathChanged, lambda: m.set_direction_path("d", np.eye(6)[0], -1, 1))
    assert isinstance(path, DirectionPath) and path is m.path
    img = np.zeros((16, 16, 3), np.uint8)
    (got,) = _args(qtbot, state.imageChanged, lambda: m.set_image(img))
    assert got is img
    (model,) = _args(qtbot, state.dataChanged, lambda: m.set_data(_z(seed=1)))
    assert model is m and m.analysis is None  # new points: the analysis is handed in again
    analysis = compute_analysis(m.z)
    assert _args(qtbot, state.analysisChanged, lambda: m.set_analysis(analysis)) == [analysis]


def test_set_plane_emits_and_clears_the_path(state, qtbot):
    m = state.model
    m.set_path(np.array([[0.0, 0.0], [1.0, 1.0]]))
    seen = []
    state.pathChanged.connect(lambda p: seen.append(("path", p)))
    state.planeChanged.connect(lambda p: seen.append(("plane", p)))
    m.set_plane(("latent", 2, 4))
    assert seen == [("path", None), ("plane", Plane("latent", 2, 4))]
    assert m.path is None
    np.testing.assert_array_equal(m.plane_points(), m.z[:, [2, 4]])


def test_refused_values_emit_nothing(state, qtbot):
    m = state.model
    with qtbot.assertNotEmitted(state.samplesChanged), pytest.raises(InvalidInputError):
        m.set_samples(np.zeros((3, 5)))  # z_dim is 6
    with qtbot.assertNotEmitted(state.colorByChanged), \
            pytest.raises(InvalidInputError, match="unknown attribute"):
        m.set_color_by("Smiling")
    with qtbot.assertNotEmitted(state.planeChanged), pytest.raises(InvalidInputError, match="differ"):
        m.set_plane(("latent", 1, 1))
    assert m.color_by == "density" and m.plane == Plane("latent", 0, 1)
    # an empty path is no path: nothing to decode
    assert _args(qtbot, state.pathChanged, lambda: m.set_path(np.zeros((0, 2)))) == [None]
    assert m.path_vectors(5).shape == (0, 6)


def test_a_pca_plane_of_a_truncated_pca_keeps_the_part_outside_it(qtbot, make_state):
    """With fewer PCA axes than dimensions, moving in a PCA plane changes only the span of its
    two axes (the current vector the signal carries)."""
    z = _z(d=6)
    st = make_state(z, analysis=False)
    st.model.set_analysis(compute_analysis(z, n_components=3))
    assert st.model.n_pca == 3
    st.model.set_plane(("pca", 0, 1))
    c0 = st.model.current.vector.astype(np.float64)
    (cur,) = _args(qtbot, st.currentChanged, lambda: st.model.set_plane_point(0.5, 0.5))
    delta = cur.vector.astype(np.float64) - c0
    w = st.model.analysis.pca.components_[[0, 1]]
    np.testing.assert_allclose(delta, (delta @ w.T) @ w, atol=1e-5)
    np.testing.assert_allclose(st.model.plane_coords(cur.vector), [0.5, 0.5], atol=1e-4)


# ------------------------------------------------------------------ workspace, dataset, decoder
def test_workspace_dataset_thumbnails_and_decoder(qtbot, tiny_workspace):
    from latentexplorer.models.codec import Decoder
    from latentexplorer.workspace import Workspace

    st = AppState()
    assert st.thumbnail(0) is None  # no dataset yet
    ws = Workspace.open(tiny_workspace)
    ds = ws.dataset()
    assert _args(qtbot, st.workspaceChanged, lambda: st.set_workspace(ws, ds)) == [ws]
    assert st.workspace is ws and st.dataset is ds
    np.testing.assert_array_equal(st.thumbnail(3), ds.images[3])
    assert st.thumbnail(-1) is None and st.thumbnail(ds.n) is None
    dec = Decoder(ws.load_decoder())
    assert _args(qtbot, st.decoderChanged, lambda: st.set_decoder(dec, "fp123")) == [dec]
    assert st.decoder is dec and st.decoder_fingerprint == "fp123"
    assert _args(qtbot, st.workspaceChanged, lambda: st.set_workspace(None)) == [None]


# ------------------------------------------------------------------ the controller
@pytest.fixture
def ctl(qtbot):
    """(state, controller) with a real TaskRunner; everything stopped afterwards."""
    st = AppState()
    runner = TaskRunner()
    c = ExplorerController(st, runner)
    yield st, c
    runner.cancel_all(wait_ms=30_000)
    c.close()


def test_the_analysis_runs_in_a_worker(ctl, qtbot, monkeypatch):
    from latentexplorer.gui import controller as controller_mod

    threads = []
    orig = controller_mod.analysis_job
    monkeypatch.setattr(controller_mod, "analysis_job",
                        lambda z, rep: (threads.append(threading.current_thread()), orig(z, rep))[1])
    st, c = ctl
    st.model.set_data(_z())
    with qtbot.waitSignal(st.analysisChanged, timeout=30_000) as blocker:
        c.start_analysis()
        assert st.model.analysis is None  # not computed in the calling thread
    a = blocker.args[0]
    assert a is st.model.analysis and st.model.n_pca == 6
    assert a.nearest is not None and a.leading.shape == (6, 400)
    assert threads and threads[0] is not threading.main_thread()


def test_analysis_of_replaced_points_is_dropped(ctl, qtbot):
    st, c = ctl
    st.model.set_data(_z())
    c.start_analysis()
    st.model.set_data(_z(seed=2, d=5))  # new points before the job delivers
    worker = c.runner.worker("analysis")
    qtbot.waitUntil(lambda: worker.is_finished, timeout=30_000)
    assert st.model.analysis is None  # the old points' analysis was not installed


def test_open_workspace_loads_in_the_background_and_decodes(ctl, qtbot, tiny_workspace):
    from latentexplorer.workspace import Workspace

    st, c = ctl
    ws = Workspace.open(tiny_workspace)
    with qtbot.waitSignal(c.loaded, timeout=60_000):
        c.open_workspace(ws)
        assert st.workspace is ws and st.model.z is None  # the data arrives from the job
    m = st.model
    assert m.z.shape == (64, 4)
    assert st.decoder is not None and st.decoder_fingerprint
    assert m.attribute_names and m.attributes.shape[0] == 64 and len(m.filenames) == 64
    assert m.current.index == 0
    qtbot.waitUntil(lambda: m.analysis is not None, timeout=30_000)
    assert c.wait_idle()
    qtbot.waitUntil(lambda: m.image is not None, timeout=10_000)
    assert m.image.shape == (16, 16, 3) and m.image.dtype == np.uint8
    np.testing.assert_array_equal(m.image, st.decoder.decode_one(m.current.vector))


def test_decoding_the_newest_current_vector_wins(ctl, qtbot, tiny_workspace):
    from latentexplorer.workspace import Workspace

    st, c = ctl
    with qtbot.waitSignal(c.loaded, timeout=60_000):
        c.open_workspace(Workspace.open(tiny_workspace))
    m = st.model
    rng = np.random.default_rng(0)
    for _ in range(6):  # faster than the decoder: requests replace each other
        m.set_current(rng.normal(size=m.z_dim).astype(np.float32))
    expected = st.decoder.decode_one(m.current.vector)
    assert c.wait_idle()
    qtbot.waitUntil(lambda: m.image is not None and np.array_equal(m.image, expected), timeout=10_000)


def test_a_failing_decoder_is_reported(ctl, qtbot):
    class Broken:
        def decode_one(self, z):
            raise RuntimeError("weights gone")

    st, _ = ctl
    st.model.set_data(_z(d=4))
    with qtbot.waitSignal(st.errorOccurred, timeout=5000) as blocker:
        st.set_decoder(Broken())
    assert "decoding failed" in blocker.args[0] and "weights gone" in blocker.args[0]
    assert st.model.image is None


def test_gui_state_is_restored_skipping_bad_entries_and_the_pca_plane_waits(ctl, qtbot,
                                                                            tiny_workspace_copy):
    from latentexplorer.workspace import Workspace

    (tiny_workspace_copy / "gui_state.json").write_text(json.dumps(
        {"plane": ["pca", 1, 3], "sigma_level": -4, "fact": "x", "current": [1.0, 2.0],
         "color_by": "nope", "sharpen": 2.0, "tab": "analysis"}))
    st, c = ctl
    at_load = []
    c.loaded.connect(lambda _ws: at_load.append(st.model.plane))
    with qtbot.waitSignal(c.loaded, timeout=60_000):
        c.open_workspace(Workspace.open(tiny_workspace_copy))
    m = st.model
    assert at_load == [Plane("latent", 0, 1)]  # the PCA is not there yet: applied when it is
    qtbot.waitUntil(lambda: m.plane == Plane("pca", 1, 3), timeout=30_000)
    assert (m.sigma_level, m.fact, m.sharpen) == (2.35, 0.7, 2.0)
    assert m.color_by == "density" and m.current.index == 0
    assert c.restored["tab"] == "analysis"


def test_staleness_is_reported_after_a_new_epoch(ctl, qtbot, tiny_workspace_copy):
    from tiny_models import commit_untrained_epoch

    from latentexplorer.workspace import Workspace

    st, c = ctl
    ws = Workspace.open(tiny_workspace_copy)
    stale = []
    st.staleChanged.connect(stale.append)
    with qtbot.waitSignal(c.loaded, timeout=60_000):
        c.open_workspace(ws)
    assert stale[-1] is None  # fresh latents
    commit_untrained_epoch(ws)  # the model moves on, the z-points stay
    (msg,) = _args(qtbot, st.staleChanged, c.check_staleness)
    assert msg and isinstance(msg, str)


def test_save_gui_state_writes_the_models_state(ctl, qtbot, tiny_workspace_copy):
    from latentexplorer.workspace import Workspace

    st, c = ctl
    with qtbot.waitSignal(c.loaded, timeout=60_000):
        c.open_workspace(Workspace.open(tiny_workspace_copy))
    st.model.set_fact(0.45)
    st.model.select_point(9)
    c.save_gui_state(tab="generator")
    saved = json.loads((tiny_workspace_copy / "gui_state.json").read_text())
    assert saved["fact"] == 0.45 and saved["current_index"] == 9 and saved["tab"] == "generator"
    np.testing.assert_allclose(saved["current"], st.model.z[9])
