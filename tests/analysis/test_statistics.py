import warnings

import numpy as np
import pytest

from latentexplorer.analysis.statistics import (ComponentStats, SaturationWarning,
                                                component_histograms, component_stats,
                                                dominant_components, dominant_components_mad,
                                                half_max_crossings, half_width)
from latentexplorer.errors import InvalidInputError

FWHM_PER_SIGMA = 2 * np.sqrt(2 * np.log(2))  # 2.3548


def test_histograms_match_numpy_per_component():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3000, 7)).astype(np.float32) * np.arange(1, 8)
    edges, counts = component_histograms(z, bin_width=0.25, chunk_size=500)
    assert counts.shape == (7, edges.size - 1)
    assert np.allclose(np.diff(edges), 0.25)
    assert np.allclose(edges / 0.25, np.round(edges / 0.25))       # aligned grid
    assert (counts.sum(axis=1) == 3000).all()                      # nothing dropped
    for i in range(7):
        ref, _ = np.histogram(z[:, i].astype(np.float64), bins=edges)
        assert np.abs(ref - counts[i]).sum() <= 2   # only float ties at edges may differ


def test_explicit_range_drops_outside_values():
    z = np.array([[-20.0], [-1.0], [0.1], [0.3], [11.99], [12.0], [13.0]])
    edges, counts = component_histograms(z, bin_width=0.25, range=(-12, 12))
    assert edges[0] == -12 and edges[-1] == 12 and counts.shape == (1, 96)
    assert counts.sum() == 5                                       # -20 and 13 dropped
    assert counts[0, -1] == 2                                      # 11.99 and 12 (closed)


@pytest.mark.parametrize("sigma", [1.3, 2.0, 3.0])
def test_fwhm_of_gaussian(sigma):
    rng = np.random.default_rng(1)
    z = rng.normal(0.7, sigma, size=(100_000, 1))
    stats = component_stats(z, bin_width=0.25)
    assert stats.half_width[0] == pytest.approx(FWHM_PER_SIGMA * sigma, rel=0.03)
    assert stats.mu[0] == pytest.approx(0.7, abs=0.03)
    assert stats.median[0] == pytest.approx(0.7, abs=0.03)
    assert stats.std[0] == pytest.approx(sigma, rel=0.01)
    assert stats.peak[0] == pytest.approx(0.7, abs=0.35)
    centre = 0.5 * (stats.half_max_left[0] + stats.half_max_right[0])
    assert centre == pytest.approx(0.7, abs=0.05)


def test_fwhm_of_uniform_is_full_width():
    rng = np.random.default_rng(2)
    z = rng.uniform(-1.5, 1.5, size=(100_000, 3))
    hw = component_stats(z).half_width
    assert np.allclose(hw, 3.0, rtol=0.02)


def test_half_width_vectorised_equals_single():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 50, size=(5, 30))
    edges = np.linspace(-3, 4.5, 31)
    hw = half_width(counts, edges)
    for i in range(5):
        assert hw[i] == pytest.approx(half_width(counts[i], edges))


def test_half_width_hand_computed():
    edges = np.arange(6.0)                   # centres 0.5 .. 4.5
    counts = np.array([0, 2, 10, 4, 0])      # peak 10 at 2.5, half 5
    left, right = half_max_crossings(counts, edges)
    assert left == pytest.approx(1.5 + (5 - 2) / 8)      # between 1.5 (2) and 2.5 (10)
    assert right == pytest.approx(3.5 - (5 - 4) / 6)     # between 3.5 (4) and 2.5 (10)
    # a single occupied bin: one bin width (resolution limit); empty: 0
    assert half_width(np.array([0, 0, 7, 0, 0]), edges) == pytest.approx(1.0)
    assert half_width(np.zeros(5), edges) == 0.0


def test_constant_component_gets_one_bin_width():
    z = np.column_stack([np.full(100, 2.0), np.linspace(-1, 1, 100)])
    s = component_stats(z)
    assert s.half_width[0] == pytest.approx(0.25)
    assert s.std[0] == 0 and s.mu[0] == 2.0 and s.peak[0] == pytest.approx(2.125)


def test_dominant_components_thresholds():
    rng = np.random.default_rng(4)
    n = 50_000
    z = np.column_stack([rng.normal(0, 0.4, n),          # small: not dominant
                         rng.normal(0.5, 0.4, n),        # |mu| >= 0.25
                         rng.normal(0, 1.0, n),          # hw 2.35 >= 1.5
                         rng.normal(-0.3, 0.3, n)])      # |mu| >= 0.25
    s = component_stats(z)
    assert dominant_components(s).tolist() == [1, 2, 3]
    assert dominant_components(s, mu_threshold=1.0).tolist() == [2]
    assert dominant_components(s, mu_threshold=1.0, hw_threshold=5).tolist() == []
    assert dominant_components(s, mu_threshold=0, hw_threshold=5).tolist() == [0, 1, 2, 3]
    with pytest.raises(InvalidInputError, match="hw_threshold"):
        dominant_components(s, hw_threshold=-1)
    with pytest.raises(InvalidInputError, match="ComponentStats"):
        dominant_components({"mu": 1})


def test_records_and_memmap(tmp_path):
    z = np.random.default_rng(5).normal(size=(400, 3)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    zm = np.load(tmp_path / "z.npy", mmap_mode="r")
    s = component_stats(zm, chunk_size=64)
    assert isinstance(s, ComponentStats) and s.z_dim == 3 and s.n_points == 400
    rec = s.to_records()
    assert [r["index"] for r in rec] == [0, 1, 2]
    assert rec[1]["mu"] == pytest.approx(float(z[:, 1].astype(np.float64).mean()))


@pytest.mark.parametrize("bad, msg", [
    (np.empty((0, 3)), "empty"),
    (np.ones(5), "2-D"),
    (np.array([[1.0, np.nan]]), "NaN"),
    (np.array([[1.0, np.inf]]), "NaN or infinite"),
    (np.array([["a"]]), "numbers"),
])
def test_invalid_inputs(bad, msg):
    with pytest.raises(InvalidInputError, match=msg):
        component_stats(bad)


def test_invalid_options():
    z = np.zeros((3, 2))
    with pytest.raises(InvalidInputError, match="bin_width"):
        component_histograms(z, bin_width=0)
    with pytest.raises(InvalidInputError, match="range"):
        component_histograms(z, range=(1, -1))
    with pytest.raises(InvalidInputError, match="bins"):
        component_histograms(np.array([[0.0], [1e9]]), bin_width=0.25)
    with pytest.raises(InvalidInputError, match="edges"):
        half_width(np.ones((2, 4)), np.arange(4.0))


# ------------------------------------------------------------------ smoothed half-width (issue 12)
@pytest.mark.parametrize("n, tol_median", [(300, 0.05), (1000, 0.03), (10_000, 0.01),
                                           (100_000, 0.01)])
def test_smoothed_half_width_holds_at_any_n(n, tol_median):
    """Gaussian samples: the median FWHM / (2.3548 σ) over 48 components is within 5 % of 1
    at n = 300, 3 % at 1,000 and 1 % from 10,000 points; >= 90 % of the components lie within
    two of their own standard errors; the raw histogram is far off at small n for wide σ."""
    rng = np.random.default_rng(n)
    sigma = rng.uniform(1.0, 4.0, 48)
    z = (rng.normal(size=(n, 48)) * sigma + rng.normal(size=48)).astype(np.float32)
    s = component_stats(z)
    truth = FWHM_PER_SIGMA * sigma
    assert abs(np.median(s.half_width / truth) - 1) < tol_median
    assert np.mean(np.abs(s.half_width - truth) <= 2 * s.half_width_se) >= 0.9
    assert np.all(s.half_width_se > 0) and np.all(s.bandwidth > 0)
    if n <= 1000:
        assert np.median(s.half_width_hist / truth) < 0.85        # what the histogram gave
    centre = 0.5 * (s.half_max_left + s.half_max_right)
    assert np.allclose(centre, s.mu, atol=0.25 * truth)


def test_smoothed_peak_is_the_mode():
    rng = np.random.default_rng(11)
    z = np.column_stack([rng.normal(0.7, 1.0, 50_000), rng.gamma(4.0, 1.0, 50_000)])
    s = component_stats(z)
    # a mode is a noisy thing (its error shrinks like n^(-2/7)): about 0.07 σ at 50,000 points
    assert s.peak[0] == pytest.approx(0.7, abs=0.25)
    assert s.peak[1] == pytest.approx(3.0, abs=0.3)           # mode of Gamma(4, 1) = 3
    assert s.peak_hist is not None and s.peak_hist.shape == (2,)
    grid, dens = s.density.grid(0), s.density.density[0]          # the curve, for drawing
    assert grid[np.argmax(dens)] == pytest.approx(s.peak[0], abs=2 * s.density.step[0])
    assert np.sum(dens) * s.density.step[0] == pytest.approx(1.0)


def test_records_hold_the_uncertainty():
    z = np.random.default_rng(12).normal(size=(500, 2))
    rec = component_stats(z).to_records()
    assert rec[0]["half_width_se"] > 0 and rec[0]["half_width_hist"] > 0


# ------------------------------------------------------------------ dominant components (issue 12)
def _cloud(n=20_000, d=32, seed=13):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d))
    z[:, 3] *= 3.0            # wide
    z[:, 7] += 2.0            # off centre
    z[:, 9] *= 2.5            # wide
    return z


def test_dominant_mad_finds_the_outstanding_components():
    s = component_stats(_cloud())
    assert dominant_components_mad(s).tolist() == [3, 7, 9]
    assert dominant_components_mad(s, k=1e6).tolist() == []
    with pytest.raises(InvalidInputError, match="k"):
        dominant_components_mad(s, k=-1)


def test_seed_criterion_saturates_and_warns_on_unit_components():
    """σ ≈ 1 everywhere (as in the seeds' cloud of radius 16 in 256 dimensions): the FWHM is
    2.35 >= 1.5 for every component; read as the seeds' HWHM (1.18) only the real outliers stay."""
    s = component_stats(_cloud())
    with pytest.warns(SaturationWarning, match="32 of 32"):
        assert dominant_components(s).size == 32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dominant_components(s, width="half").tolist() == [3, 7, 9]
        dominant_components_mad(s)
    np.testing.assert_allclose(s.hwhm, s.half_width / 2)
    with pytest.raises(InvalidInputError, match="width"):
        dominant_components(s, width="fwhm")


@pytest.mark.parametrize("bw", [0.25, 0.1, 1 / 3])
def test_one_pass_histogram_equals_component_histograms(bw):
    """component_stats counts its display histogram in the smoothing pass: bin for bin the same as
    component_histograms, values on bin edges (quarter steps, integers, constants) included."""
    rng = np.random.default_rng(14)
    z = rng.normal(size=(3000, 6)) * [0.01, 1, 5, 1, 2, 0]
    z[:, 3] = np.round(z[:, 3] * 4) / 4
    z[:, 4] = np.round(z[:, 4])
    for arr in (z, z.astype(np.float32)):
        s = component_stats(arr, bin_width=bw)
        edges, counts = component_histograms(arr, bin_width=bw)
        np.testing.assert_array_equal(s.edges, edges)
        np.testing.assert_array_equal(s.counts, counts)
