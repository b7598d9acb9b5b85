"""Exact medians guided by the histogram (``column_medians``) and ``component_stats(moments=)``."""

import numpy as np
import pytest

from latentexplorer.analysis.correlation import co_moments
from latentexplorer.analysis.statistics import (column_medians, component_histograms,
                                                component_stats)
from latentexplorer.errors import InvalidInputError


def _exact(z):
    return np.median(np.asarray(z, dtype=np.float64), axis=0)


@pytest.mark.parametrize("n", [1, 2, 3, 999, 1000, 4097])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_guided_medians_equal_numpy(n, dtype):
    rng = np.random.default_rng(n)
    z = (rng.normal(size=(n, 6)) * [0.1, 1, 3, 10, 1, 1] + [0, 0, 5, -2, 0, 0]).astype(dtype)
    edges, counts = component_histograms(z, bin_width=0.25, chunk_size=700)
    got = column_medians(z, edges, counts, chunk_size=700)
    assert got.dtype == np.float64 and got.shape == (6,)
    np.testing.assert_array_equal(got, _exact(z))


def test_values_on_bin_edges_ties_spikes_and_constants():
    rng = np.random.default_rng(5)
    n = 5001
    z = np.empty((n, 5))
    z[:, 0] = rng.integers(-3, 4, n) * 0.25          # every value sits on a bin edge
    z[:, 1] = 7.0                                    # constant: one bin holds everything
    z[:, 2] = np.where(rng.random(n) < 0.6, 0.5, rng.normal(size=n))  # a spike of ties
    z[:, 3] = rng.normal(size=n) * 1e-6              # narrower than one bin
    z[:, 4] = rng.standard_cauchy(n)                 # long tails, far-out values
    edges, counts = component_histograms(z, bin_width=0.25)
    np.testing.assert_array_equal(column_medians(z, edges, counts, chunk_size=1000), _exact(z))


def test_explicit_range_that_drops_values_stays_exact():
    rng = np.random.default_rng(6)
    z = rng.normal(3.0, 2.0, size=(3000, 3))
    edges, counts = component_histograms(z, bin_width=0.25, range=(-1, 1))  # most dropped
    np.testing.assert_array_equal(column_medians(z, edges, counts), _exact(z))


def test_without_histogram_and_on_a_memmap(tmp_path):
    rng = np.random.default_rng(7)
    z = rng.normal(size=(2000, 4)).astype(np.float32)
    path = tmp_path / "z.npy"
    np.save(path, z)
    mm = np.load(path, mmap_mode="r")
    edges, counts = component_histograms(mm)
    np.testing.assert_array_equal(column_medians(mm, edges, counts, chunk_size=300), _exact(z))
    np.testing.assert_array_equal(column_medians(mm), _exact(z))


def test_gathers_only_the_median_bin():
    """The guided pass partially sorts about a tenth of a Gaussian column, not all of it."""
    rng = np.random.default_rng(8)
    z = rng.normal(size=(20_000, 2))
    edges, counts = component_histograms(z, bin_width=0.25)
    cum = np.cumsum(counts, axis=1)
    b = (cum <= (20_000 - 1) // 2).sum(axis=1)
    assert (counts[np.arange(2), b] < 0.12 * 20_000).all()


def test_component_stats_with_moments_equals_without():
    rng = np.random.default_rng(9)
    z = (rng.normal(size=(3000, 5)) * [1, 2, 0.5, 3, 1]).astype(np.float32)
    a = component_stats(z, bin_width=0.25)
    b = component_stats(z, bin_width=0.25, moments=co_moments(z))
    for name in ("mu", "median", "std", "peak", "half_width", "edges", "counts"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-12, atol=1e-12,
                                   err_msg=name)


def test_component_stats_refuses_moments_of_other_data():
    rng = np.random.default_rng(10)
    z = rng.normal(size=(100, 3))
    with pytest.raises(InvalidInputError, match="moments: expected CoMoments of these 100 x 3"):
        component_stats(z, moments=co_moments(z[:50]))
    with pytest.raises(InvalidInputError, match="moments"):
        component_stats(z, moments="not moments")
