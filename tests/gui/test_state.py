"""AppState: planes, plane points, paths, sliders, ellipses, persistence (tiny seeded data)."""

from __future__ import annotations

import numpy as np
import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.gui.state import AppState, NearestIndex, resample_polyline
from latentexplorer.gui.workers import TaskRunner


def _z(n=400, d=6, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    return (rng.normal(size=(n, d)) @ a + rng.normal(size=d)).astype(np.float32)


@pytest.fixture
def state(qtbot):
    st = AppState()
    st.set_latents(_z())
    return st


def test_synchronous_analysis_without_runner(state):
    assert state.pca is not None and state.n_pca == 6
    assert set(state.stats) >= {"mu", "half_width", "dominant", "std"}
    assert state.current is not None and state.current_index == 0
    np.testing.assert_array_equal(state.current, state.z[0])


def test_analysis_runs_in_a_worker_with_a_runner(qtbot):
    st = AppState(runner=TaskRunner())
    with qtbot.waitSignal(st.analysisChanged, timeout=20_000):
        st.set_latents(_z())
        assert st.pca is None  # not computed in the calling thread
    assert st.n_pca == 6 and st.nearest is not None and st.pca_coords.shape == (6, 400)


@pytest.mark.parametrize("plane, match", [
    (("latent", 1, 1), "differ"),
    (("latent", 0, 6), "0..5"),
    (("pca", -1, 2), "0..5"),
    (("polar", 0, 1), "latent' or 'pca"),
    (("latent", "a", 1), "integers"),
])
def test_invalid_planes_are_rejected_with_a_clear_message(state, plane, match):
    with pytest.raises(InvalidInputError, match=match):
        state.set_plane(*plane)
    assert state.plane == ("latent", 0, 1)


def test_pca_plane_before_pca_is_an_error(qtbot):
    st = AppState(runner=TaskRunner())
    st.set_latents(_z())  # the PCA is computed in a worker: not there yet
    assert st.pca is None
    with pytest.raises(InvalidInputError, match="PCA"):
        st.set_plane("pca", 0, 1)
    st.runner.cancel_all(wait_ms=10_000)


def test_set_plane_emits_and_clears_path(state, qtbot):
    state.set_path(np.array([[0.0, 0.0], [1.0, 1.0]]))
    with qtbot.waitSignals([state.pathChanged, state.planeChanged]):
        state.set_plane("latent", 2, 4)
    assert state.path_points is None
    np.testing.assert_array_equal(state.plane_points(), state.z[:, [2, 4]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_click_in_latent_plane_changes_exactly_two_coordinates(qtbot, seed):
    st = AppState()
    st.set_latents(_z(seed=seed))
    st.set_plane("latent", 3, 1)
    before = st.current.copy()
    with qtbot.waitSignal(st.currentChanged):
        st.set_plane_point(0.25, -1.5)
    changed = np.flatnonzero(st.current != before)
    assert set(changed) <= {1, 3}
    assert st.current[3] == np.float32(0.25) and st.current[1] == np.float32(-1.5)
    assert st.current_index is None


@pytest.mark.parametrize("seed", [0, 3])
def test_click_in_pca_plane_moves_two_pca_coordinates_only(qtbot, seed):
    st = AppState()
    st.set_latents(_z(seed=seed))
    st.set_plane("pca", 0, 2)
    before = st.pca.transform(st.current[None].astype(np.float64))[0]
    st.set_plane_point(1.5, -0.75)
    after = st.pca.transform(st.current[None].astype(np.float64))[0]
    np.testing.assert_allclose(after[[0, 2]], [1.5, -0.75], atol=1e-4)
    np.testing.assert_allclose(np.delete(after, [0, 2]), np.delete(before, [0, 2]), atol=1e-4)
    np.testing.assert_allclose(st.plane_coords(st.current), [1.5, -0.75], atol=1e-4)


def test_pca_plane_keeps_the_part_outside_the_kept_components(qtbot):
    from latentexplorer.analysis.pca import LatentPCA

    z = _z(d=6)
    pca = LatentPCA(n_components=3).fit(z)
    st = AppState()
    st.set_latents(z, pca=pca, stats={"dominant": []})
    st.set_plane("pca", 0, 1)
    c0 = st.current.astype(np.float64)
    st.set_plane_point(0.5, 0.5)
    delta = st.current.astype(np.float64) - c0
    # the change lies in the span of the two PCA axes: nothing else moved
    w = pca.components_[[0, 1]]
    np.testing.assert_allclose(delta, (delta @ w.T) @ w, atol=1e-5)


def test_select_point_and_nearest(state):
    state.select_point(7)
    assert state.current_index == 7
    np.testing.assert_array_equal(state.current, state.z[7])
    idx, dist = state.nearest_point()
    assert idx == 7 and dist == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(InvalidInputError):
        state.select_point(10_000)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_nearest_index_is_exact_for_large_sets(seed):
    """The PCA-bound search gives the brute-force answer (any seed, not one lucky one)."""
    from latentexplorer.analysis.pca import LatentPCA

    rng = np.random.default_rng(seed)
    d = 24
    scales = np.exp(-np.arange(d) / 6.0)
    z = (rng.normal(size=(NearestIndex.BRUTE_FORCE_MAX + 5000, d)) * scales).astype(np.float32)
    pca = LatentPCA(n_components=d).fit(z)
    index = NearestIndex(z, pca=pca, coords=None)
    assert index.coords is not None  # the fast path is used
    for _ in range(10):
        v = z[rng.integers(len(z))] + rng.normal(size=d).astype(np.float32) * 0.2
        i, dist = index.query(v)
        d2 = ((z - v) ** 2).sum(axis=1)
        assert d2[i] == pytest.approx(d2.min(), rel=1e-4, abs=1e-6)
        assert dist == pytest.approx(np.sqrt(d2.min()), rel=1e-3)


def test_path_vectors_follow_the_path_and_keep_other_coordinates(state):
    state.set_plane("latent", 0, 1)
    state.set_path(np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]]))
    v = state.path_vectors(5)
    assert v.shape == (5, 6)
    np.testing.assert_allclose(v[:, [0, 1]], [[0, 0], [1, 0], [2, 0], [2, 1], [2, 2]], atol=1e-6)
    np.testing.assert_array_equal(v[:, 2:], np.repeat(state.current[None, 2:], 5, axis=0))
    state.set_path(None)
    assert state.path_vectors(5).shape == (0, 6)


def test_resample_polyline_edge_cases():
    assert resample_polyline(np.array([[1.0, 2.0]]), 3).tolist() == [[1, 2]] * 3
    assert resample_polyline(np.zeros((0, 2)), 3).shape == (0, 2)
    pts = resample_polyline(np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]]), 2)
    np.testing.assert_allclose(pts, [[0, 0], [3, 4]])


def test_sliders_validate_and_scale_ellipses(state, qtbot):
    conf2 = state.confidence_polyline()
    samp = state.sampling_polyline()
    with qtbot.waitSignal(state.overlayChanged):
        state.set_sigma_level(3.0)
    conf3 = state.confidence_polyline()
    c = state.plane_ellipse().center
    np.testing.assert_allclose(conf3 - c, (conf2 - c) * 1.5, atol=1e-9)
    with qtbot.waitSignal(state.overlayChanged):
        state.set_fact(0.35)
    np.testing.assert_allclose(state.sampling_polyline() - c, (samp - c) * 1.5 * 0.5, atol=1e-9)
    for setter, bad in ((state.set_sigma_level, 0), (state.set_fact, -1), (state.set_sharpen, -0.5),
                        (state.set_sigma_level, float("nan"))):
        with pytest.raises(InvalidInputError):
            setter(bad)


def test_sampling_ellipse_in_pca_plane_is_axis_aligned_with_sigma_half_axes(state):
    state.set_plane("pca", 1, 2)
    e = state.sampling_ellipse()
    std = np.sqrt(state.pca.explained_variance_[[1, 2]])
    np.testing.assert_allclose(e.half_axes, state.sigma_level * state.fact * std)
    assert e.angle == 0.0 and np.allclose(e.center, 0.0)
    # the confidence ellipse of the data agrees (PCA coordinates are uncorrelated)
    conf = state.confidence_ellipse(1.0)
    np.testing.assert_allclose(sorted(conf.half_axes), sorted(std), rtol=1e-3)


def test_samples_and_color_by(state, qtbot):
    with qtbot.waitSignal(state.samplesChanged):
        state.set_samples(np.zeros((3, 6)), {"method": "normal"})
    assert state.samples.shape == (3, 6) and state.sample_info["method"] == "normal"
    with pytest.raises(InvalidInputError):
        state.set_samples(np.zeros((3, 5)))
    with pytest.raises(InvalidInputError, match="unknown attribute"):
        state.set_color_by("Smiling")
    state.set_color_by(None)
    assert state.color_by is None


def test_to_dict_restore_round_trip(state, qtbot):
    state.set_plane("pca", 2, 0)
    state.set_sigma_level(2.35)
    state.set_fact(0.6)
    state.set_sharpen(3.0)
    state.set_plane_point(0.3, 0.2)
    d = state.to_dict()
    import json

    d = json.loads(json.dumps(d))  # what gui_state.json holds
    other = AppState()
    other.set_latents(state.z)
    other.restore(d)
    assert other.plane == ("pca", 2, 0)
    assert (other.sigma_level, other.fact, other.sharpen) == (2.35, 0.6, 3.0)
    np.testing.assert_allclose(other.current, state.current)


def test_restore_ignores_bad_entries_and_waits_for_pca(qtbot):
    st = AppState(runner=TaskRunner())
    with qtbot.waitSignal(st.analysisChanged, timeout=20_000):
        st.set_latents(_z())
        st.restore({"plane": ["pca", 1, 3], "sigma_level": -4, "fact": "x",
                    "current": [1.0, 2.0], "color_by": "nope"})
        assert st.plane[0] == "latent"  # PCA not there yet: applied later
    assert st.plane == ("pca", 1, 3)
    assert st.sigma_level == 2.0 and st.fact == 0.7 and st.current_index == 0


def test_load_workspace_synchronously(tiny_workspace, qtbot):
    from latentexplorer.workspace import Workspace

    st = AppState()
    ws = Workspace.open(tiny_workspace)
    st.load_workspace(ws)
    assert st.z.shape == (64, 4) and st.decoder is not None and st.pca is not None
    assert st.attribute_names and st.attributes.shape[0] == 64
    img = st.decoder.decode_one(st.current)
    assert img.shape == (16, 16, 3) and img.dtype == np.uint8
