import numpy as np
import pytest

from latentexplorer.analysis.correlation import (correlation_matrix, counts_over,
                                                 mean_and_covariance, pairs_over,
                                                 strongest_pair)
from latentexplorer.errors import InvalidInputError


def _correlated(n=3000, d=12, seed=0, offset=50.0):
    rng = np.random.default_rng(seed)
    mix = np.eye(d) + 0.6 * rng.normal(size=(d, d)) * (rng.random((d, d)) < 0.3)
    return (rng.normal(size=(n, d)) @ mix + offset).astype(np.float32)


@pytest.mark.parametrize("chunk_size", [1, 7, 256, 100_000])
def test_chunked_equals_corrcoef(chunk_size):
    z = _correlated(n=1000 if chunk_size == 1 else 3000)
    r = correlation_matrix(z, chunk_size=chunk_size)
    ref = np.corrcoef(z.astype(np.float64), rowvar=False)
    assert np.abs(r - ref).max() < 1e-10
    assert np.allclose(np.diag(r), 1) and np.array_equal(r, r.T)


def test_covariance_matches_numpy_with_large_mean():
    z = _correlated(offset=1e4).astype(np.float64)
    mean, cov = mean_and_covariance(z, chunk_size=333)
    assert np.allclose(mean, z.mean(axis=0), rtol=0, atol=1e-9)
    assert np.abs(cov - np.cov(z, rowvar=False)).max() < 1e-8


def test_constant_components_give_zero_not_nan():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(500, 4))
    z[:, 2] = 3.14159
    r = correlation_matrix(z, chunk_size=64)
    assert np.isfinite(r).all()
    assert (r[2, [0, 1, 3]] == 0).all() and (r[[0, 1, 3], 2] == 0).all() and r[2, 2] == 1
    ref = np.corrcoef(z[:, [0, 1, 3]], rowvar=False)
    assert np.abs(r[np.ix_([0, 1, 3], [0, 1, 3])] - ref).max() < 1e-12
    assert np.linalg.eigvalsh(r).min() > -1e-12          # still a valid correlation matrix


def test_counts_and_pairs():
    r = np.eye(4)
    r[0, 1] = r[1, 0] = 0.55
    r[0, 3] = r[3, 0] = -0.85
    r[2, 3] = r[3, 2] = 0.15
    r[1, 2] = r[2, 1] = 0.1       # not > 0.1
    assert counts_over(r).tolist() == [3, 2, 2, 2, 2, 1]
    assert counts_over(r, [0.5]).tolist() == [2]
    assert pairs_over(r, 0.5) == [(0, 3, -0.85), (0, 1, 0.55)]
    assert pairs_over(r, 0.9) == []
    assert strongest_pair(r) == (0, 3, -0.85)
    assert strongest_pair(np.eye(1)) is None


def test_pairs_tie_order_and_counts_consistency():
    rng = np.random.default_rng(2)
    r = correlation_matrix(_correlated(d=20, seed=3))
    pairs = pairs_over(r, 0.2)
    assert len(pairs) == counts_over(r, [0.2])[0]
    vals = [abs(p[2]) for p in pairs]
    assert vals == sorted(vals, reverse=True)
    assert all(i < j for i, j, _ in pairs)
    del rng


@pytest.mark.parametrize("bad, msg", [
    (np.ones((1, 3)), "at least 2"),
    (np.array([[1.0, np.nan], [0, 1]]), "NaN"),
    (np.ones((3, 3, 3)), "2-D"),
])
def test_invalid(bad, msg):
    with pytest.raises(InvalidInputError, match=msg):
        correlation_matrix(bad)


def test_invalid_thresholds():
    with pytest.raises(InvalidInputError, match="threshold"):
        counts_over(np.eye(3), [1.5])
    with pytest.raises(InvalidInputError, match="threshold"):
        pairs_over(np.eye(3), -0.1)
    with pytest.raises(InvalidInputError, match="square"):
        pairs_over(np.ones((2, 3)), 0.5)
    with pytest.raises(InvalidInputError, match="chunk_size"):
        correlation_matrix(np.ones((3, 2)), chunk_size=0)
