"""The compiled loops against the NumPy arithmetic they replace, on one thread and on two."""

import numpy as np
import pytest

from latentexplorer.analysis import _kernels as K


def _cloud(n: int, d: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)) * np.linspace(2.0, 0.2, d) + 0.7).astype(np.float32)


def _numpy_histogram(x, y, x0, x1, y0, y1, nx, ny):
    """The bins as NumPy computes them in the points' dtype."""
    t = x.dtype.type
    fx = np.floor((x - t(x0)) * t(nx / (x1 - x0)))
    fy = np.floor((y - t(y0)) * t(ny / (y1 - y0)))
    ok = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)
    counts = np.zeros((nx, ny), np.float32)
    np.add.at(counts, (fx[ok].astype(np.intp), fy[ok].astype(np.intp)), 1)
    return counts


@pytest.mark.parametrize("n", [1, 5_000, K.THREADED_MIN_ROWS + 7])  # one thread and two halves
def test_histogram_2d_bins_each_point_as_numpy(n):
    p = _cloud(n)
    got = K.histogram_2d(p[:, 0], p[:, 1], -3.0, 4.0, -2.0, 3.5, 37, 23)
    np.testing.assert_array_equal(got, _numpy_histogram(p[:, 0], p[:, 1], -3.0, 4.0, -2.0, 3.5, 37, 23))


@pytest.mark.parametrize("n", [2, 5_000, K.THREADED_MIN_ROWS + 7])
def test_mean_cov_2d_matches_numpy(n):
    p = _cloud(n)[:, 2:4].astype(np.float64)
    mx, my, cxx, cxy, cyy = K.mean_cov_2d(p)
    np.testing.assert_allclose([mx, my], p.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(np.array([[cxx, cxy], [cxy, cyy]]) / (n - 1), np.cov(p.T), rtol=1e-10,
                               atol=1e-14)


def test_mean_cov_2d_non_finite_points_give_non_finite_sums():
    p = _cloud(K.THREADED_MIN_ROWS + 1)[:, :2].copy()
    p[-3, 1] = np.nan
    assert not np.isfinite(sum(K.mean_cov_2d(p)))


@pytest.mark.parametrize("n", [1, 3_000, K.THREADED_MIN_ROWS + 7])
def test_gather_pair_histogram_is_the_gather_its_histogram_and_its_moments(n):
    z = _cloud(n)
    pts, counts, moments = K.gather_pair_histogram(z, 4, 1, -1.0, 2.5, -4.0, 5.0, 41, 29)
    np.testing.assert_array_equal(pts, z[:, [4, 1]])
    np.testing.assert_array_equal(counts, _numpy_histogram(pts[:, 0], pts[:, 1], -1.0, 2.5, -4.0, 5.0, 41, 29))
    np.testing.assert_allclose(moments, K.mean_cov_2d(pts), rtol=1e-9, atol=1e-9 * n)
