"""Paths: other coordinates untouched, even arc-length spacing, lines and attribute paths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA

from latentexplorer.errors import InvalidInputError
from latentexplorer.sampling.paths import (attribute_path, line_path, plane_coordinates, plane_path,
                                           polyline_length, resample_polyline)


@pytest.fixture(scope="module")
def cloud():
    rng = np.random.default_rng(0)
    mix = rng.standard_normal((10, 10))
    return (rng.standard_normal((800, 10)) @ mix + 2.0).astype(np.float32)


def test_latent_plane_keeps_other_coordinates_exactly(cloud):
    base = cloud[3]
    pts = np.array([[0.0, 0.0], [1.5, -2.0], [3.0, 4.0]])
    out = plane_path(base, ("latent", 2, 7), pts)
    assert out.shape == (3, 10) and out.dtype == np.float32
    others = [k for k in range(10) if k not in (2, 7)]
    np.testing.assert_array_equal(out[:, others], np.repeat(base[None, others], 3, axis=0))
    np.testing.assert_array_equal(out[:, [2, 7]], pts.astype(np.float32))


@pytest.mark.parametrize("n_components", [10, 4])
def test_pca_plane_keeps_other_pca_coordinates(cloud, n_components):
    pca = PCA(n_components=n_components).fit(cloud)
    base = cloud[5]
    pts = np.array([[0.0, 0.0], [2.0, -1.0], [-3.0, 0.5]])
    out = plane_path(base, ("pca", 0, 2), pts, pca=pca)
    c_base = pca.transform(base[None].astype(np.float64))[0]
    c_out = pca.transform(out.astype(np.float64))
    np.testing.assert_allclose(c_out[:, [0, 2]], pts, atol=1e-5)
    others = [k for k in range(n_components) if k not in (0, 2)]
    np.testing.assert_allclose(c_out[:, others], np.repeat(c_base[None, others], 3, axis=0), atol=1e-5)
    # at the base's own plane coordinates the base comes back (also for a truncated PCA)
    back = plane_path(base, ("pca", 0, 2), plane_coordinates(base, ("pca", 0, 2), pca)[None], pca=pca)
    np.testing.assert_allclose(back[0], base, atol=1e-5)


def test_pca_plane_fits_a_full_pca_from_points(cloud):
    base = cloud[0]
    out = plane_path(base, ("pca", 1, 3), [[0.5, 0.5]], pca=cloud)
    full = PCA(n_components=10).fit(cloud)
    c = full.transform(out.astype(np.float64))[0]
    np.testing.assert_allclose(np.abs(c[[1, 3]]), [0.5, 0.5], atol=1e-4)  # signs follow the fit


def test_plane_validation(cloud):
    with pytest.raises(InvalidInputError, match="plane"):
        plane_path(cloud[0], ("latent", 1, 1), [[0, 0]])
    with pytest.raises(InvalidInputError, match="out of range"):
        plane_path(cloud[0], ("latent", 1, 10), [[0, 0]])
    with pytest.raises(InvalidInputError, match="kind"):
        plane_path(cloud[0], ("tsne", 0, 1), [[0, 0]])
    with pytest.raises(InvalidInputError, match="PCA"):
        plane_path(cloud[0], ("pca", 0, 1), [[0, 0]])
    with pytest.raises(InvalidInputError, match="points"):
        plane_path(cloud[0], ("latent", 0, 1), [[0, 0, 0]])


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(2, 8), n=st.integers(2, 60))
def test_resample_polyline_even_spacing(seed, m, n):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-5, 5, (m, 2))
    out = resample_polyline(pts, n)
    assert out.shape == (n, 2)
    np.testing.assert_allclose(out[0], pts[0])
    np.testing.assert_allclose(out[-1], pts[-1])
    # consecutive points are one arc-length step apart along the polyline
    total = polyline_length(pts)
    step = total / (n - 1)
    arc = _arc_positions(pts, out)
    np.testing.assert_allclose(np.diff(arc), step, atol=1e-7 * max(1.0, total))


def _arc_positions(poly, points):
    """Arc-length position of each point along the polyline (points lie on it)."""
    seg = np.diff(poly, axis=0)
    lens = np.linalg.norm(seg, axis=1)
    cum = np.concatenate([[0.0], np.cumsum(lens)])
    pos = []
    for p in points:
        best = None
        for k in range(len(seg)):
            if lens[k] == 0:
                continue
            t = np.clip(np.dot(p - poly[k], seg[k]) / lens[k] ** 2, 0, 1)
            d = np.linalg.norm(poly[k] + t * seg[k] - p)
            # prefer the first segment that contains the point (ties at vertices)
            if best is None or d < best[0] - 1e-9:
                best = (d, cum[k] + t * lens[k])
        pos.append(best[1])
    return np.array(pos)


def test_resample_polyline_degenerate_cases():
    pts = np.array([[1.0, 1.0], [1.0, 1.0], [3.0, 1.0], [3.0, 1.0]])
    out = resample_polyline(pts, 5)
    np.testing.assert_allclose(out[:, 0], [1.0, 1.5, 2.0, 2.5, 3.0])
    np.testing.assert_allclose(resample_polyline([[2.0, 2.0]], 3), [[2.0, 2.0]] * 3)
    np.testing.assert_allclose(resample_polyline(pts, 1), [[1.0, 1.0]])
    with pytest.raises(InvalidInputError):
        resample_polyline(pts, 0)


def test_line_path_and_attribute_path():
    a, b = np.zeros(6), np.arange(6.0)
    line = line_path(a, b, 4)
    assert line.shape == (4, 6)
    np.testing.assert_allclose(line[0], a)
    np.testing.assert_allclose(line[-1], b)
    np.testing.assert_allclose(np.diff(line, axis=0), np.repeat((b / 3)[None], 3, axis=0), atol=1e-6)
    base = np.ones(6)
    d = np.array([0, 0, 3.0, 4.0, 0, 0])
    path = attribute_path(base, d, [-1, 0, 2], normalize=True)
    np.testing.assert_allclose(path[1], base)
    np.testing.assert_allclose(np.linalg.norm(path[2] - base), 2.0, rtol=1e-6)
    np.testing.assert_allclose(attribute_path(base, d, [1.0])[0], base + d)
    with pytest.raises(InvalidInputError):
        attribute_path(base, np.zeros(6), [1.0], normalize=True)
    with pytest.raises(InvalidInputError):
        line_path(a, np.zeros(5), 3)
