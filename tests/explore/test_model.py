"""ExplorationModel without Qt: planes, the current vector, paths, sliders, ellipses, events,
persistence, the nearest-neighbour index (tiny seeded data)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.explore import (DirectionPath, ExplorationModel, NearestIndex, Plane, PlanePath,
                                    Thresholds, compute_analysis)
from latentexplorer.explore.persist import restore, to_state


def _z(n=400, d=6, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    return (rng.normal(size=(n, d)) @ a + rng.normal(size=d)).astype(np.float32)


def _model(z=None, analysis=True) -> ExplorationModel:
    m = ExplorationModel()
    m.set_data(_z() if z is None else z)
    if analysis:
        m.set_analysis(compute_analysis(m.z))
    return m


def test_data_and_analysis():
    m = _model()
    assert m.n_pca == 6 and m.analysis.leading.shape == (6, 400)
    assert m.current.index == 0 and np.array_equal(m.current.vector, m.z[0])
    assert m.dominant() == m.analysis.dominant()


@pytest.mark.parametrize("plane, match", [
    (("latent", 1, 1), "differ"), (("latent", 0, 6), "0..5"), (("pca", -1, 2), ">= 0"),
    (("polar", 0, 1), "latent' or 'pca"), (("latent", "a", 1), "integers"), ("latent", "expected")])
def test_invalid_planes_are_refused(plane, match):
    m = _model()
    with pytest.raises(InvalidInputError, match=match):
        m.set_plane(plane)
    assert m.plane == Plane("latent", 0, 1)


def test_pca_plane_before_the_analysis_is_an_error():
    m = _model(analysis=False)
    with pytest.raises(InvalidInputError, match="PCA"):
        m.set_plane(("pca", 0, 1))


def test_events_carry_their_values():
    m = _model()
    seen = []
    m.planeChanged.connect(lambda p: seen.append(("plane", p)))
    m.currentChanged.connect(lambda c: seen.append(("current", c.index)))
    m.overlayChanged.connect(lambda s, f: seen.append(("overlay", s, f)))
    m.set_plane(("latent", 2, 4))
    m.select_point(5)
    m.set_fact(0.35)
    assert seen == [("plane", Plane("latent", 2, 4)), ("current", 5), ("overlay", 2.35, 0.35)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_click_in_a_latent_plane_changes_exactly_two_coordinates(seed):
    m = _model(_z(seed=seed))
    m.set_plane(("latent", 3, 1))
    before = m.current.vector.copy()
    m.set_plane_point(0.25, -1.5)
    assert set(np.flatnonzero(m.current.vector != before)) <= {1, 3}
    assert m.current.vector[3] == np.float32(0.25) and m.current.vector[1] == np.float32(-1.5)
    assert m.current.index is None


@pytest.mark.parametrize("seed", [0, 3])
def test_a_click_in_a_pca_plane_moves_two_pca_coordinates_only(seed):
    m = _model(_z(seed=seed))
    m.set_plane(("pca", 0, 2))
    before = m.analysis.pca.transform(m.current.vector[None])[0]
    m.set_plane_point(1.5, -0.75)
    after = m.analysis.pca.transform(m.current.vector[None])[0]
    np.testing.assert_allclose(after[[0, 2]], [1.5, -0.75], atol=1e-4)
    np.testing.assert_allclose(np.delete(after, [0, 2]), np.delete(before, [0, 2]), atol=1e-4)


def test_pca_sliders_set_one_coordinate_and_combine():
    m = _model()
    c = m.pca_coords(3)
    m.set_pca_coords({0: c[0] + 1.0})
    m.set_pca_coords({2: c[2] - 0.5})
    np.testing.assert_allclose(m.pca_coords(3), [c[0] + 1.0, c[1], c[2] - 0.5], atol=1e-4)
    m.reset_current_to_mean()
    np.testing.assert_allclose(m.pca_coords(6), 0.0, atol=1e-4)


def test_select_point_and_nearest():
    m = _model()
    m.select_point(7)
    assert m.current.index == 7
    idx, dist = m.nearest_point()
    assert idx == 7 and dist == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(InvalidInputError):
        m.select_point(10_000)
    k = m.nearest_plane_point(*m.plane_points()[12], max_dist=1e-6)
    assert k == 12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_nearest_index_is_exact_for_large_sets(seed):
    from latentexplorer.analysis.pca import LatentPCA

    rng = np.random.default_rng(seed)
    d = 24
    z = (rng.normal(size=(NearestIndex.BRUTE_FORCE_MAX + 5000, d)) * np.exp(-np.arange(d) / 6)).astype(np.float32)
    index = NearestIndex(z, pca=LatentPCA(n_components=d).fit(z))
    assert index.coords is not None  # the fast path
    for _ in range(8):
        v = z[rng.integers(len(z))] + rng.normal(size=d).astype(np.float32) * 0.2
        i, dist = index.query(v)
        d2 = ((z - v) ** 2).sum(axis=1)
        assert d2[i] == pytest.approx(d2.min(), rel=1e-4, abs=1e-6)


def test_plane_and_direction_paths():
    m = _model()
    m.set_plane(("latent", 0, 1))
    m.set_path([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]])
    v = m.path_vectors(5)
    np.testing.assert_allclose(v[:, [0, 1]], [[0, 0], [1, 0], [2, 0], [2, 1], [2, 2]], atol=1e-6)
    np.testing.assert_array_equal(v[:, 2:], np.repeat(m.current.vector[None, 2:], 5, axis=0))
    m.set_plane(("latent", 0, 1))  # the same plane keeps the path
    assert isinstance(m.path, PlanePath)
    m.set_plane(("latent", 2, 3))  # another plane drops it
    assert m.path is None
    m.set_direction_path("d", np.eye(6)[2] * 5, -1.0, 1.0)
    v = m.path_vectors(3)
    np.testing.assert_allclose(v[:, 2] - m.current.vector[2], [-1, 0, 1], atol=1e-6)
    assert isinstance(m.path, DirectionPath)


def test_sliders_validate_and_scale_ellipses():
    m = _model()
    e2, s = m.confidence_ellipse(), m.sampling_ellipse()
    assert m.sigma_level == pytest.approx(2.35)  # the CLI's default
    m.set_sigma_level(3.525)
    np.testing.assert_allclose(m.confidence_ellipse().half_axes, e2.half_axes * 1.5)
    m.set_fact(0.35)
    np.testing.assert_allclose(m.sampling_ellipse().half_axes, s.half_axes * 1.5 * 0.5)
    for setter, bad in ((m.set_sigma_level, 0), (m.set_fact, -1), (m.set_sharpen, -0.5),
                        (m.set_sharpen, 1e308), (m.set_sigma_level, float("nan"))):
        with pytest.raises(InvalidInputError):
            setter(bad)


def test_the_sampling_ellipse_of_a_pca_plane_is_axis_aligned():
    m = _model()
    m.set_plane(("pca", 1, 2))
    e = m.sampling_ellipse()
    std = np.sqrt(m.analysis.pca.explained_variance_[[1, 2]])
    np.testing.assert_allclose(e.half_axes, m.sigma_level * m.fact * std)
    assert e.angle == 0.0 and np.allclose(e.center, 0.0)


def test_mahalanobis_in_the_plane_and_over_all_dimensions():
    m = _model()
    m.set_plane(("pca", 0, 1))
    e = m.plane_ellipse()
    m.set_plane_point(*(e.center + np.array([2.0 * np.sqrt(e.cov[0, 0]), 0.0])))
    assert m.mahalanobis_in_plane() == pytest.approx(2.0, rel=1e-3)
    assert m.mahalanobis() >= m.mahalanobis_in_plane() - 1e-6


def test_thresholds_live_in_the_model():
    m = _model()
    everything = m.dominant()
    m.set_thresholds(Thresholds(mu=100.0, half_width=100.0))
    assert m.dominant() == [] and len(everything) >= 1
    with pytest.raises(InvalidInputError):
        m.set_thresholds(Thresholds(mu=-1.0))


def test_state_round_trip_through_json():
    m = _model()
    m.set_plane(("pca", 2, 0))
    m.set_sigma_level(2.35)
    m.set_fact(0.6)
    m.set_sharpen(3.0)
    m.set_plane_point(0.3, 0.2)
    m.set_path([[0.0, 0.0], [1.0, 0.5]])
    m.set_modes(snap=True)
    m.set_samples(np.zeros((2, 6)), {"spec": {"method": "normal", "params": {"sigma": 1.0}, "n": 2, "seed": 0}})
    state = json.loads(json.dumps(to_state(m, tab="generator")))
    other = _model(m.z, analysis=False)
    restore(other, state)
    other.set_analysis(compute_analysis(other.z))  # the PCA plane waits for the PCA
    assert other.plane == Plane("pca", 2, 0) and other.snap
    assert (other.sigma_level, other.fact, other.sharpen) == (2.35, 0.6, 3.0)
    np.testing.assert_allclose(other.current.vector, m.current.vector)
    np.testing.assert_allclose(other.path.points, m.path.points)
    assert state["samples"]["method"] == "normal" and state["tab"] == "generator"


def test_restore_skips_what_does_not_fit():
    m = _model()
    warnings = []
    restore(m, {"plane": ["latent", 0, 9], "current": [1.0, 2.0], "path": {"kind": "spiral"}},
            warnings.append)
    assert m.plane == Plane("latent", 0, 1) and m.current.index == 0
    assert any("plane" in w for w in warnings) and any("path" in w for w in warnings)


@pytest.mark.parametrize("n", [400, 120_000])  # one pass on one thread / on two halves
def test_plane_histogram_and_ellipse_of_a_new_latent_plane_in_one_pass(n):
    """A latent plane switch gathers, counts and sums in one pass: the same coordinates, bins
    and confidence ellipse as gathering first and counting / summing the gathered points."""
    from latentexplorer.analysis._kernels import histogram_2d
    from latentexplorer.analysis.ellipse import confidence_ellipse

    m = _model(_z(n=n, d=5, seed=3), analysis=False)
    m.set_plane(("latent", 3, 1))
    counts = m.plane_histogram((-2.0, 2.5), (-3.0, 3.0), 48, 36)
    pts = m.plane_points()
    np.testing.assert_array_equal(pts, m.z[:, [3, 1]])
    np.testing.assert_array_equal(counts, histogram_2d(pts[:, 0], pts[:, 1], -2.0, 2.5, -3.0, 3.0, 48, 36))
    assert counts.sum() == np.count_nonzero((pts[:, 0] >= -2) & (pts[:, 0] < 2.5)
                                            & (pts[:, 1] >= -3) & (pts[:, 1] < 3))
    e, ref = m.plane_ellipse(), confidence_ellipse(pts.astype(np.float64))
    np.testing.assert_allclose(e.center, ref.center, rtol=1e-10)
    np.testing.assert_allclose(e.cov, ref.cov, rtol=1e-8)
    # cached now: a zoom counts the cached points; rows read the cache
    np.testing.assert_array_equal(m.plane_histogram((-2.0, 2.5), (-3.0, 3.0), 48, 36), counts)
    np.testing.assert_array_equal(m.plane_points(rows=np.array([0, 7])), pts[[0, 7]])
    m.set_plane(("latent", 0, 4))  # rows before the cache is filled: from those z rows alone
    np.testing.assert_array_equal(m.plane_points(rows=np.array([5, 2])), m.z[[5, 2]][:, [0, 4]])
