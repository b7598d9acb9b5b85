import numpy as np
import pytest

from latentexplorer.analysis.correlation import mean_and_covariance
from latentexplorer.analysis.hits import (hit_fraction_box, hit_fraction_mahalanobis,
                                          hit_mask_box, mahalanobis_radius)
from latentexplorer.analysis.pca import LatentPCA
from latentexplorer.analysis.statistics import component_stats
from latentexplorer.errors import InvalidInputError


def test_box_known_cases():
    mu = np.array([0.0, 1.0])
    hw = np.array([1.0, 0.5])
    v = np.array([[0.0, 1.0],      # centre
                  [2.0, 2.0],      # exactly on the k=2 boundary: inside
                  [2.01, 1.0],     # outside in component 0
                  [0.0, -0.1]])    # outside in component 1
    assert hit_mask_box(v, mu, hw, 2).tolist() == [True, True, False, False]
    assert hit_fraction_box(v, mu, hw, 2) == 0.5
    assert hit_mask_box(v, mu, hw, 0).tolist() == [True, False, False, False]


def test_seed_hit_findings_on_gaussian_like_data():
    """Seed: k=3 gives zero hits for uniform b=3; b=1.5 with k=2 gives all hits."""
    rng = np.random.default_rng(0)
    d = 128
    sigma = np.concatenate([np.full(60, 0.35), rng.uniform(0.5, 1.5, d - 60)])
    z = rng.normal(size=(20_000, d)) * sigma
    stats = component_stats(z, bin_width=0.1)
    assert np.allclose(stats.half_width, 2.3548 * sigma, rtol=0.15)  # noisy 20k-point histograms
    u3 = rng.uniform(-3, 3, size=(2000, d))
    u15 = rng.uniform(-1.5, 1.5, size=(2000, d))
    assert hit_fraction_box(u3, stats.mu, stats.half_width, 3) == 0.0
    assert hit_fraction_box(u15, stats.mu, stats.half_width, 2) == 1.0
    # the data itself mostly lies inside mu +- 2 hw (|x| < 4.7 sigma)
    assert hit_fraction_box(z[:2000], stats.mu, stats.half_width, 2) > 0.99


def test_mahalanobis_pca_and_cov_agree():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 5))
    z = rng.normal(size=(5000, 5)) @ a + 3.0
    pca = LatentPCA().fit(z)
    mean, cov = mean_and_covariance(z)
    v = rng.normal(size=(50, 5)) @ a + 3.0
    r1 = mahalanobis_radius(v, pca)
    r2 = mahalanobis_radius(v, (mean, cov))
    ref = np.sqrt(np.einsum("ij,jk,ik->i", v - mean, np.linalg.inv(cov), v - mean))
    assert np.allclose(r1, ref, rtol=1e-8) and np.allclose(r2, ref, rtol=1e-8)
    # chi distribution with 5 dof: mean radius of the data ~ sqrt(5 - 1/2)
    assert mahalanobis_radius(z, pca).mean() == pytest.approx(np.sqrt(4.5), rel=0.02)
    assert hit_fraction_mahalanobis(z, pca, 1e9) == 1.0
    assert hit_fraction_mahalanobis(z, pca, 0.0) == 0.0


def test_mahalanobis_singular_covariance():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(1000, 3))
    z[:, 2] = 0.0
    mean, cov = mean_and_covariance(z)
    r = mahalanobis_radius(z, (mean, cov))
    assert np.isfinite(r).all()
    r_pca = mahalanobis_radius(z, LatentPCA().fit(z))
    assert np.allclose(r, r_pca, rtol=1e-6)


def test_invalid():
    with pytest.raises(InvalidInputError, match="mu"):
        hit_mask_box(np.zeros((2, 3)), np.zeros(2), np.ones(3), 1)
    with pytest.raises(InvalidInputError, match="k"):
        hit_mask_box(np.zeros((2, 3)), np.zeros(3), np.ones(3), -1)
    with pytest.raises(InvalidInputError, match="half_width"):
        hit_mask_box(np.zeros((2, 3)), np.zeros(3), -np.ones(3), 1)
    with pytest.raises(InvalidInputError, match="LatentPCA"):
        mahalanobis_radius(np.zeros((2, 3)), "nope")
    with pytest.raises(InvalidInputError, match="components per vector"):
        mahalanobis_radius(np.zeros((2, 3)), (np.zeros(4), np.eye(4)))
