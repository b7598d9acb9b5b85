"""Face-likeness: data-like vectors score as faces, far-off vectors as garbage (exact linear AE)."""

import numpy as np
import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.render.closeness import ClosenessScorer, nearest_mse, pool_images


def test_pool_and_nearest_neighbour_match_brute_force():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (4, 6, 6, 3), dtype=np.uint8)
    pooled = pool_images(imgs, max_side=3)
    assert pooled.shape == (4, 3 * 3 * 3)
    np.testing.assert_allclose(pooled[0, :3], imgs[0, :2, :2].reshape(-1, 3).mean(0) / 255, rtol=1e-6)
    q, r = rng.random((7, 20)), rng.random((30, 20))
    best, idx = nearest_mse(q, r, chunk=3)
    brute = ((q[:, None, :] - r[None, :, :]) ** 2).mean(axis=2)
    np.testing.assert_allclose(best, brute.min(axis=1), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(idx, brute.argmin(axis=1))


@pytest.fixture(scope="module")
def scorer(linear):
    enc, dec, images, z = linear
    mu = z.mean(axis=0)
    hw = 2.3548 * z.std(axis=0)
    return ClosenessScorer(dec, enc, z, images, n_train=150, n_reference=60, mu=mu, half_width=hw, k=2.0)


def test_data_like_vectors_score_better_than_far_off_ones(linear, scorer):
    _, _, _, z = linear
    rng = np.random.default_rng(1)
    near = z.mean(axis=0) + rng.standard_normal((20, z.shape[1])) * z.std(axis=0) * 0.5
    far = rng.uniform(-40, 40, (20, z.shape[1]))
    good, bad = scorer.score(near), scorer.score(far)
    g, b = good.summary(), bad.summary()
    assert g["closeness_mean"] > 0.5 > b["closeness_mean"]
    assert b["cycle_ratio_median"] > 5 * g["cycle_ratio_median"]
    assert b["nn_ratio_median"] > 5 * g["nn_ratio_median"]
    assert g["all_hit_rate"] > b["all_hit_rate"]
    assert np.all((good.closeness >= 0) & (good.closeness <= 1))
    rows = good.to_dict()["per_vector"]
    assert len(rows) == 20 and {"cycle", "nn_mse", "hit_fraction", "closeness"} <= set(rows[0])
    assert g["reference"]["n_train_subset"] == 150


def test_real_points_are_the_reference(linear, scorer):
    enc, dec, images, z = linear
    real = scorer.score(z[:40])
    # the spread normalisation: cycle is relative to the RMS distance of the cloud from its mean
    spread = np.sqrt(np.mean(np.sum((z - z.mean(0)) ** 2, axis=1)))
    assert scorer.spread == pytest.approx(spread, rel=1e-5)
    assert np.median(real.cycle) < 0.05  # re-encoding reproduces real z nearly exactly
    np.testing.assert_allclose(real.hit_fraction, np.mean(
        np.abs(z[:40] - scorer.mu) <= 2.0 * scorer.half_width, axis=1))


def test_scorer_validation(linear):
    enc, dec, images, z = linear
    with pytest.raises(InvalidInputError, match="mu"):
        ClosenessScorer(dec, enc, z, images, mu=np.zeros(z.shape[1]))
    with pytest.raises(InvalidInputError, match="z_data"):
        ClosenessScorer(dec, enc, z[:, :2], images)
