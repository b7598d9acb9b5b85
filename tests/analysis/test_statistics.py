import numpy as np
import pytest

from latentexplorer.analysis.statistics import (ComponentStats, component_histograms,
                                                component_stats, dominant_components,
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
