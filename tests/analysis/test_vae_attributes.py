import numpy as np
import pytest

from latentexplorer.analysis.attributes import (attribute_direction, attribute_directions,
                                                binarize_labels)
from latentexplorer.analysis.vae import vae_diagnostics
from latentexplorer.errors import InvalidInputError


def test_vae_diagnostics_tiny_kl():
    rng = np.random.default_rng(0)
    mu = rng.normal(0, 1, size=(2000, 64))
    logvar = np.full_like(mu, -13.7) + rng.normal(0, 0.1, size=mu.shape)
    eps = rng.normal(size=mu.shape)
    z = mu + np.exp(0.5 * logvar) * eps
    d = vae_diagnostics(mu, logvar, z, chunk_size=300)
    assert d["logvar_mean"] == pytest.approx(-13.7, abs=0.01)
    assert d["logvar_min"] == pytest.approx(logvar.min()) and d["logvar_max"] == pytest.approx(logvar.max())
    assert d["max_abs_z_minus_mu"] == pytest.approx(np.abs(z - mu).max())
    rz, rmu = np.linalg.norm(z, axis=1), np.linalg.norm(mu, axis=1)
    assert d["radius_abs_diff_mean"] == pytest.approx(np.abs(rz - rmu).mean())
    assert d["radius_rel_diff_mean"] == pytest.approx((np.abs(rz - rmu) / rmu).mean())
    assert 1e-5 < d["radius_rel_diff_mean"] < 3e-4          # seed: ~6e-5
    kl = -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).sum(axis=1).mean()
    assert d["kl_mean"] == pytest.approx(kl)
    assert all(isinstance(v, (int, float)) for v in d.values())


def test_vae_diagnostics_without_z_and_invalid():
    mu = np.zeros((3, 2))
    d = vae_diagnostics(mu, np.zeros((3, 2)))
    assert "max_abs_z_minus_mu" not in d and d["kl_mean"] == 0.0 and d["sigma_mean"] == 1.0
    with pytest.raises(InvalidInputError, match="logvar"):
        vae_diagnostics(mu, np.zeros((3, 3)))
    with pytest.raises(InvalidInputError, match="z"):
        vae_diagnostics(mu, mu, np.zeros((2, 2)))


def test_binarize_conventions():
    lab = np.array([[-1, 0, 0.1, 5], [1, 1, 0.5, 5], [1, 0, 0.9, 5], [-1, 1, 0.7, 5]])
    pos = binarize_labels(lab)
    assert pos[:, 0].tolist() == [False, True, True, False]      # +-1
    assert pos[:, 1].tolist() == [False, True, False, True]      # 0/1
    assert pos[:, 2].tolist() == [False, False, True, True]      # > median 0.6
    assert not pos[:, 3].any()                                    # constant: no positives


def test_attribute_direction_recovers_planted_direction():
    rng = np.random.default_rng(1)
    n, d = 4000, 32
    direction = rng.normal(size=d)
    direction /= np.linalg.norm(direction)
    labels = rng.choice([-1, 1], size=n)
    z = rng.normal(size=(n, d)) + np.outer(labels == 1, direction) * 2.0
    est = attribute_direction(z, labels)
    assert est @ direction / np.linalg.norm(est) > 0.98
    assert np.linalg.norm(est) == pytest.approx(2.0, rel=0.1)


def test_attribute_table_sorted_by_separation():
    rng = np.random.default_rng(2)
    n, d = 3000, 16
    strong = rng.integers(0, 2, n)
    weak = rng.integers(0, 2, n)
    noise = rng.integers(0, 2, n)
    cont = rng.normal(size=n)
    z = rng.normal(size=(n, d))
    z[:, 0] += 3 * strong
    z[:, 1] += 0.5 * weak
    z[:, 2] += cont
    ad = attribute_directions(z, np.column_stack([noise, weak, strong, cont]),
                              names=["noise", "weak", "strong", "cont"])
    table = ad.table()
    assert [r["name"] for r in table][:2] == ["strong", "cont"]
    assert table[-1]["name"] == "noise"
    strong_row = table[0]
    assert strong_row["d_prime"] == pytest.approx(3.0, rel=0.1)
    from math import erf, sqrt
    assert strong_row["auc"] == pytest.approx(0.5 * (1 + erf(3 / 2)), abs=0.02)  # Phi(3/sqrt2)
    assert ad.unit("strong") @ np.eye(d)[0] > 0.95
    del sqrt


def test_attribute_invalid_and_degenerate():
    z = np.random.default_rng(3).normal(size=(10, 3))
    ad = attribute_directions(z, np.ones((10, 1)))
    assert not ad.valid[0] and ad.d_prime[0] == 0 and ad.auc[0] == 0.5
    assert np.all(ad.directions == 0)
    with pytest.raises(InvalidInputError, match="labels"):
        attribute_directions(z, np.ones((9, 1)))
    with pytest.raises(InvalidInputError, match="names"):
        attribute_directions(z, np.ones((10, 2)), names=["a"])
    with pytest.raises(InvalidInputError, match="NaN"):
        attribute_directions(z, np.full((10, 1), np.nan))


def test_vae_diagnostics_samples_z_when_only_mu_is_known():
    """Tiny logvar (tiny-KL VAE) → sampled z hardly differs from mu; logvar 0 → clearly does."""
    from latentexplorer.analysis.vae import vae_diagnostics

    rng = np.random.default_rng(0)
    mu = rng.normal(size=(2000, 16)) * 3
    tiny = vae_diagnostics(mu, np.full_like(mu, -13.7), sample=True)
    wide = vae_diagnostics(mu, np.zeros_like(mu), sample=True)
    assert tiny["radius_rel_diff_mean"] < 1e-3
    assert tiny["max_abs_z_minus_mu"] <= 5 * np.exp(-13.7 / 2) + 1e-12
    assert wide["radius_rel_diff_mean"] > 0.05
    assert wide["max_abs_z_minus_mu"] <= 5.0 + 1e-12   # eps clipped at 5
