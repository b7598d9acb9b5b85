"""Property tests (hypothesis) for the sampling generators, ellipses, correlations, hit tests and
paths on random shapes and values, including degenerate data: constant components, n < z_dim,
duplicate points, tiny and huge scales. Outcome is always finite output of the right shape or a
clear :class:`InvalidInputError` — never a crash, never a NaN leak."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from latentexplorer.analysis.correlation import correlation_matrix, counts_over, pairs_over, strongest_pair
from latentexplorer.analysis.ellipse import confidence_ellipse, fraction_inside, plane_points
from latentexplorer.analysis.hits import hit_mask_box, hit_mask_mahalanobis, mahalanobis_radius
from latentexplorer.analysis.pca import LatentPCA
from latentexplorer.analysis.statistics import component_stats
from latentexplorer.errors import InvalidInputError
from latentexplorer.sampling.generators import (EllipseSampler, GridSampler, MultivariateNormalSampler,
                                                NormalSampler, UniformBoxSampler,
                                                ellipse_condition_violations)
from latentexplorer.sampling.paths import (attribute_path, line_path, plane_coordinates, plane_path,
                                           polyline_length, resample_polyline)

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = ["plain", "constant_cols", "duplicates", "all_constant", "integers", "one_outlier", "tiny_n"]


@st.composite
def latents(draw, min_n: int = 1, max_d: int = 10):
    kind = draw(st.sampled_from(KINDS))
    d = draw(st.integers(1, max_d))
    n = draw(st.integers(min_n, 3)) if kind == "tiny_n" else draw(st.integers(max(min_n, 2), 60))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    scale = draw(st.sampled_from([1e-6, 1e-2, 1.0, 30.0, 1e4]))
    z = rng.normal(size=(n, d)) * scale + draw(st.floats(-5, 5))
    if kind == "constant_cols":
        z[:, rng.random(d) < 0.5] = draw(st.floats(-3, 3))
    elif kind == "duplicates":
        z[:] = z[rng.integers(0, max(1, n // 3), size=n)]
    elif kind == "all_constant":
        z[:] = draw(st.floats(-2, 2))
    elif kind == "integers":
        z = np.round(z)
    elif kind == "one_outlier":
        z[rng.integers(0, n)] *= 1e3
    return z.astype(draw(st.sampled_from([np.float32, np.float64])))


def _finite(a) -> bool:
    return bool(np.all(np.isfinite(np.asarray(a, dtype=np.float64))))


def _positive(draw_floats=st.floats(1e-3, 10.0)):
    return draw_floats


# ------------------------------------------------------------------------------- generators
@SETTINGS
@given(latents(), st.sampled_from(["uniform", "normal", "normal-centered", "mvn", "mvn-trunc", "ellipse",
                                   "grid"]),
       st.floats(0.05, 5.0), st.integers(1, 40), st.integers(0, 2 ** 31 - 1), st.data())
def test_generators_finite_or_clear_error(z, method, value, n, seed, data):
    d = z.shape[1]
    if method == "uniform":
        gen = UniformBoxSampler(b=value)
    elif method.startswith("normal"):
        gen = NormalSampler(sigma=value, center=method.endswith("centered"))
    elif method.startswith("mvn"):
        gen = MultivariateNormalSampler(truncate=(value * np.sqrt(d) + 2) if method.endswith("trunc") else None)
    elif method == "ellipse":
        gen = EllipseSampler(n_components=data.draw(st.integers(1, d)), sigma_level=value,
                             fact=data.draw(st.floats(0.05, 1.5)))
    else:
        gen = GridSampler(b=value, points_per_axis=data.draw(st.integers(1, 4)))
    try:
        gen.fit(z)
    except InvalidInputError as exc:
        assert str(exc)  # e.g. zero-variance PCA component, too few points, huge grid
        return
    out = gen.sample(n, seed)
    assert out.shape == (n, d) and out.dtype == np.float32
    assert _finite(out)
    if method == "uniform":
        assert np.all(np.abs(out) <= value * (1 + 1e-6))
    if method == "ellipse":
        v = gen.sample_pca(n, seed)
        assert _finite(v) and not ellipse_condition_violations(v, gen.half_axes_scaled_).any()
    np.testing.assert_array_equal(gen.sample(n, seed), out)  # reproducible per seed


@SETTINGS
@given(st.sampled_from([0.0, -1.0, float("nan"), float("inf"), -float("inf"), "x", None]),
       st.sampled_from(["uniform", "normal", "ellipse-sigma", "ellipse-fact", "grid", "mvn"]))
def test_bad_generator_values_are_always_refused(bad, method):
    z = np.random.default_rng(0).normal(size=(30, 3))
    gen = {"uniform": lambda: UniformBoxSampler(b=bad), "normal": lambda: NormalSampler(sigma=bad),
           "ellipse-sigma": lambda: EllipseSampler(2, sigma_level=bad),
           "ellipse-fact": lambda: EllipseSampler(2, fact=bad), "grid": lambda: GridSampler(b=bad),
           "mvn": lambda: MultivariateNormalSampler(truncate=bad)}[method]()
    if method == "mvn" and bad is None:
        return  # no truncation: valid
    with pytest.raises(InvalidInputError):
        gen.fit(z)


# ------------------------------------------------------------------------------- ellipses
@SETTINGS
@given(latents(min_n=2), st.floats(0.1, 4.0), st.data())
def test_confidence_ellipse_finite_and_contains_its_centre(z, k, data):
    d = z.shape[1]
    assume(d >= 2)
    i = data.draw(st.integers(0, d - 1))
    j = data.draw(st.integers(0, d - 1).filter(lambda v: v != i))
    p = plane_points(z, ("latent", i, j))
    e = confidence_ellipse(p, sigma_level=k)
    assert _finite(e.center) and _finite(e.half_axes) and np.isfinite(e.angle) and _finite(e.cov)
    assert e.half_axes[0] >= e.half_axes[1] >= 0
    assert -np.pi / 2 < e.angle <= np.pi / 2
    assert _finite(e.polyline(16)) and e.polyline(16).shape == (17, 2)
    assert e.contains(e.center).all()
    frac = fraction_inside(p, e)
    assert 0.0 <= frac <= 1.0
    assert fraction_inside(p, e.scaled(2.0)) >= frac


@SETTINGS
@given(latents(min_n=2), st.data())
def test_pca_plane_ellipse_is_axis_aligned_and_finite(z, data):
    pca = LatentPCA().fit(z)
    assume(pca.n_components_ >= 2)
    i = data.draw(st.integers(0, pca.n_components_ - 1))
    j = data.draw(st.integers(0, pca.n_components_ - 1).filter(lambda v: v != i))
    p = plane_points(z, ("pca", i, j), pca=pca)
    assert _finite(p) and p.shape == (z.shape[0], 2)
    e = confidence_ellipse(p, sigma_level=2.0)
    assert _finite(e.half_axes) and abs(e.cov[0, 1]) <= 1e-6 * (1 + abs(e.cov).max())


# ------------------------------------------------------------------------------- correlations
@SETTINGS
@given(latents(min_n=2), st.integers(1, 70))
def test_correlation_any_chunking_is_a_valid_correlation_matrix(z, chunk):
    r = correlation_matrix(z, chunk_size=chunk)
    d = z.shape[1]
    assert r.shape == (d, d) and _finite(r)
    np.testing.assert_allclose(r, r.T, atol=1e-12)
    np.testing.assert_allclose(np.diag(r), 1.0)
    assert np.all(np.abs(r) <= 1.0)
    np.testing.assert_allclose(r, correlation_matrix(z), atol=1e-8)  # chunking does not matter
    ts = [0.0, 0.1, 0.5, 0.9]
    counts = counts_over(r, ts)
    assert np.all(np.diff(counts) <= 0) and counts[0] <= d * (d - 1) // 2
    for t, c in zip(ts, counts):
        assert len(pairs_over(r, t)) == c
    sp = strongest_pair(r)
    assert (sp is None) == (d < 2)


@SETTINGS
@given(latents(min_n=3))
def test_correlation_matches_numpy_where_defined(z):
    z64 = np.asarray(z, np.float64)
    keep = np.ptp(z64, axis=0) > 1e-3 * (1 + np.abs(z64).max())
    assume(keep.sum() >= 2)
    ref = np.corrcoef(z64[:, keep], rowvar=False)
    np.testing.assert_allclose(correlation_matrix(z64)[np.ix_(keep, keep)], ref, atol=1e-6)


# ------------------------------------------------------------------------------- hit tests
@SETTINGS
@given(latents(min_n=2), st.integers(1, 20), st.sampled_from([1e-6, 1.0, 1e3]), st.floats(0, 5),
       st.integers(0, 2 ** 31 - 1))
def test_hit_tests_finite_and_consistent(z, n_v, scale, k, seed):
    v = np.random.default_rng(seed).normal(size=(n_v, z.shape[1])) * scale
    try:
        stats = component_stats(z)
        mu, hw = stats.mu, stats.half_width
    except InvalidInputError as exc:  # range / bin width too large: a clear refusal
        assert "bin" in str(exc)
        mu, hw = np.asarray(z, np.float64).mean(axis=0), np.asarray(z, np.float64).std(axis=0)
    hit = hit_mask_box(v, mu, hw, k)
    assert hit.dtype == bool and hit.shape == (v.shape[0],)
    assert hit_mask_box(np.asarray(mu)[None, :], mu, hw, k).all()
    pca = LatentPCA().fit(z)
    r = mahalanobis_radius(v, pca)
    assert r.shape == (v.shape[0],) and _finite(r) and np.all(r >= 0)
    mean = np.asarray(z, np.float64).mean(axis=0)
    cov = np.atleast_2d(np.cov(np.asarray(z, np.float64), rowvar=False))
    r2 = mahalanobis_radius(v, (mean, cov))  # singular covariances: pseudo-inverse
    assert _finite(r2) and np.all(r2 >= 0)
    radius = float(np.median(r))
    np.testing.assert_array_equal(hit_mask_mahalanobis(v, pca, radius), r <= radius)


def test_mahalanobis_of_the_mean_is_zero_even_for_degenerate_data():
    z = np.zeros((5, 4))
    z[:, 0] = [1, 2, 3, 4, 5]  # three constant components
    pca = LatentPCA().fit(z)
    assert mahalanobis_radius(z.mean(axis=0)[None, :], pca)[0] == pytest.approx(0.0, abs=1e-12)
    assert _finite(mahalanobis_radius(z, pca))


# ------------------------------------------------------------------------------- paths
@SETTINGS
@given(latents(min_n=2), st.integers(1, 30), st.data())
def test_plane_paths_finite_and_keep_the_other_coordinates(z, n_pts, data):
    d = z.shape[1]
    assume(d >= 2)
    i = data.draw(st.integers(0, d - 1))
    j = data.draw(st.integers(0, d - 1).filter(lambda v: v != i))
    base = np.asarray(z[data.draw(st.integers(0, z.shape[0] - 1))], np.float64)
    pts = np.asarray(data.draw(st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)),
                                        min_size=1, max_size=6)), np.float64)
    out = plane_path(base, ("latent", i, j), pts)
    assert out.shape == (len(pts), d) and _finite(out)
    others = [c for c in range(d) if c not in (i, j)]
    np.testing.assert_allclose(out[:, others], np.broadcast_to(base[others], (len(pts), len(others))),
                               rtol=1e-6, atol=1e-6 * (1 + np.abs(base).max()))
    pca = LatentPCA().fit(z)
    if pca.n_components_ >= 2:
        a, b = 0, 1
        c = plane_coordinates(base, ("pca", a, b), pca)
        assert _finite(c)
        back = plane_path(base, ("pca", a, b), c[None, :], pca)[0]
        np.testing.assert_allclose(back, base, rtol=1e-4, atol=1e-4 * (1 + np.abs(base).max()))
        assert _finite(plane_path(base, ("pca", a, b), pts, pca))
    res = resample_polyline(pts, n_pts)
    assert res.shape == (n_pts, 2) and _finite(res)
    np.testing.assert_allclose(res[0], pts[0])
    if n_pts > 1:
        np.testing.assert_allclose(res[-1], pts[-1])
    assert polyline_length(res) <= polyline_length(pts) + 1e-9 * (1 + polyline_length(pts))


@SETTINGS
@given(latents(min_n=2), st.integers(1, 20), st.booleans())
def test_line_and_attribute_paths(z, n, normalize):
    a, b = np.asarray(z[0], np.float64), np.asarray(z[-1], np.float64)
    assume(a.size >= 2)
    line = line_path(a, b, n)
    assert line.shape == (n, a.size) and _finite(line)
    direction = b - a
    t = np.linspace(-3, 3, 7)
    if normalize and not np.any(direction):
        with pytest.raises(InvalidInputError, match="zero vector"):
            attribute_path(a, direction, t, normalize=True)
    else:
        out = attribute_path(a, direction, t, normalize=normalize)
        assert out.shape == (7, a.size) and _finite(out)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.0, float("nan"), float("inf")]),
                          st.sampled_from([0.0, 2.0])), min_size=1, max_size=5))
def test_paths_refuse_non_finite_points(points):
    pts = np.asarray(points)
    if _finite(pts):
        assert _finite(resample_polyline(pts, 4))
    else:
        with pytest.raises(InvalidInputError):
            resample_polyline(pts, 4)
        with pytest.raises(InvalidInputError):
            plane_path(np.zeros(3), ("latent", 0, 1), pts)
