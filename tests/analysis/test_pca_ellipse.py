import math

import numpy as np
import pytest

from latentexplorer.analysis.ellipse import (Ellipse, confidence_ellipse, fraction_inside,
                                             gaussian_fraction_inside, plane_points)
from latentexplorer.analysis.pca import LatentPCA
from latentexplorer.errors import InvalidInputError


def _data(n=4000, d=10, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d)) * np.linspace(2, 0.1, d)[:, None]
    return (rng.normal(size=(n, d)) @ a + rng.normal(size=d)).astype(np.float32)


def test_pca_attributes_and_round_trip():
    z = _data()
    pca = LatentPCA().fit(z)
    assert pca.components_.shape == (10, 10) and pca.n_components_ == 10
    assert np.all(np.diff(pca.explained_variance_) <= 1e-9)
    assert pca.explained_variance_ratio_.sum() == pytest.approx(1.0)
    assert np.allclose(pca.std_, np.sqrt(pca.explained_variance_))
    c = pca.transform(z)
    assert np.allclose(c.std(axis=0, ddof=1), pca.std_, rtol=1e-4)
    assert np.allclose(pca.inverse_transform(c), z, atol=1e-4)
    assert np.allclose(pca.inverse_transform(c[0]), z[0], atol=1e-4)
    assert np.allclose(pca.project(z, (3, 1)), c[:, [3, 1]], atol=1e-8)


def test_plane_to_latent_keeps_other_coordinates():
    z = _data()
    pca = LatentPCA(n_components=6).fit(z)        # base also has a residual outside PCA
    base = z[5].astype(np.float64)
    coords = np.array([[1.0, -2.0], [0.0, 0.0], [3.5, 0.25]])
    out = pca.plane_to_latent(base, ("pca", 0, 2), coords)
    assert out.shape == (3, 10)
    before = pca.project(base[None], np.arange(6))[0]
    after = pca.project(out, np.arange(6))
    assert np.allclose(after[:, [0, 2]], coords, atol=1e-9)
    keep = [1, 3, 4, 5]
    assert np.allclose(after[:, keep], before[keep], atol=1e-9)
    resid = lambda v: v - pca.inverse_transform(pca.project(v, np.arange(6)))  # noqa: E731
    assert np.allclose(resid(out), resid(base[None]), atol=1e-9)
    # putting the base's own coordinates back gives the base exactly
    assert np.allclose(pca.plane_to_latent(base, (0, 2), before[[0, 2]]), base, atol=1e-9)


def test_pca_degenerate_and_invalid():
    z = np.ones((5, 8))
    pca = LatentPCA().fit(z)                              # n < z_dim, constant
    assert pca.n_components_ == 5
    assert np.isfinite(pca.explained_variance_ratio_).all()
    assert (pca.explained_variance_ratio_ == 0).all()
    with pytest.raises(InvalidInputError, match="n_components"):
        LatentPCA(n_components=9).fit(z)
    with pytest.raises(InvalidInputError, match="at least 2"):
        LatentPCA().fit(np.ones((1, 3)))
    with pytest.raises(InvalidInputError, match="not fitted"):
        LatentPCA().transform(z)
    fitted = LatentPCA().fit(_data())
    with pytest.raises(InvalidInputError, match="out of range"):
        fitted.plane_to_latent(np.zeros(10), (0, 10), [0, 0])
    with pytest.raises(InvalidInputError, match="differ"):
        fitted.plane_to_latent(np.zeros(10), (1, 1), [0, 0])
    with pytest.raises(InvalidInputError, match="components per vector"):
        fitted.transform(np.ones((2, 3)))


@pytest.mark.parametrize("k", [1.0, 2.0])
def test_fraction_inside_matches_theory(k):
    rng = np.random.default_rng(7)
    cov = np.array([[4.0, 1.5], [1.5, 1.0]])
    p = rng.multivariate_normal([1.0, -2.0], cov, size=100_000)
    e = confidence_ellipse(p, sigma_level=k)
    theory = gaussian_fraction_inside(k)
    assert theory == pytest.approx(1 - math.exp(-k * k / 2))
    assert fraction_inside(p, e) == pytest.approx(theory, abs=0.01)


def test_ellipse_geometry():
    rng = np.random.default_rng(8)
    ang = 0.6
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    p = rng.normal(size=(50_000, 2)) * [3.0, 1.0] @ rot.T + [5, 5]
    e = confidence_ellipse(p, sigma_level=2.0)
    assert e.angle == pytest.approx(ang, abs=0.02)
    assert e.half_axes == pytest.approx([6.0, 2.0], rel=0.02)
    assert np.allclose(e.center, [5, 5], atol=0.05)
    line = e.polyline(64)
    assert line.shape == (65, 2) and np.allclose(line[0], line[-1])
    # points on the outline are on the boundary: contained with tiny inward shift
    inner = e.center + (line[:-1] - e.center) * 0.999
    outer = e.center + (line[:-1] - e.center) * 1.001
    assert e.contains(inner).all() and not e.contains(outer).any()
    half = e.scaled(0.5)
    assert np.allclose(half.half_axes, e.half_axes / 2) and half.sigma_level == 1.0
    assert isinstance(e.to_dict()["cov"], list)


def test_pca_plane_ellipses_are_axis_aligned():
    z = _data(d=6)
    pca = LatentPCA().fit(z)
    for i, j in [(0, 1), (1, 4), (2, 5)]:
        pts = plane_points(z, ("pca", i, j), pca)
        e = confidence_ellipse(pts, sigma_level=2.35)
        assert abs(e.cov[0, 1]) < 1e-8 * math.sqrt(e.cov[0, 0] * e.cov[1, 1])
        assert min(abs(e.angle), abs(abs(e.angle) - math.pi / 2)) < 1e-6
        assert e.angle == pytest.approx(0.0, abs=1e-6)     # i < j: first axis along i
        assert e.half_axes == pytest.approx(2.35 * pca.std_[[i, j]], rel=1e-4)
    # latent planes of correlated data are tilted
    e = confidence_ellipse(plane_points(z, ("latent", 0, 1)))
    assert min(abs(e.angle), abs(abs(e.angle) - math.pi / 2)) > 1e-3


def test_degenerate_ellipse_and_planes():
    p = np.column_stack([np.linspace(0, 1, 10), np.zeros(10)])
    e = confidence_ellipse(p)
    assert e.half_axes[1] == 0 and np.isfinite(e.half_axes).all()
    assert e.contains(np.array([[e.center[0], 0.0]])).all()
    assert not e.contains(np.array([[e.center[0], 0.1]])).any()
    z = np.ones((4, 3))
    with pytest.raises(InvalidInputError, match="differ"):
        plane_points(z, ("latent", 1, 1))
    with pytest.raises(InvalidInputError, match="out of range"):
        plane_points(z, ("latent", 0, 3))
    with pytest.raises(InvalidInputError, match="kind"):
        plane_points(z, ("foo", 0, 1))
    with pytest.raises(InvalidInputError, match="sigma_level"):
        confidence_ellipse(p, sigma_level=0)
    with pytest.raises(InvalidInputError, match="at least 2"):
        confidence_ellipse(p[:1])
    with pytest.raises(InvalidInputError, match="Ellipse"):
        fraction_inside(p, "x")
    assert isinstance(e, Ellipse)


def test_fit_moments_equals_fit():
    from latentexplorer.analysis.correlation import co_moments

    z = _data()
    a = LatentPCA().fit(z)
    b = LatentPCA(n_components=4).fit_moments(co_moments(z, chunk_size=333))
    assert np.allclose(a.components_[:4], b.components_, atol=1e-10)
    assert np.allclose(a.explained_variance_ratio_[:4], b.explained_variance_ratio_)
    assert np.allclose(b.pca_.transform(z), a.transform(z)[:, :4], atol=1e-8)
