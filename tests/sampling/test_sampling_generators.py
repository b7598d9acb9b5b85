"""Generators: the ellipse conditions for every pair of every vector, moments, validation."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from latentexplorer.errors import InvalidInputError
from latentexplorer.sampling.generators import (
    EllipseSampler, GridSampler, MultivariateNormalSampler, NormalSampler, UniformBoxSampler,
    ellipse_condition_violations, ellipse_draw_unit, ellipse_pair_max, ellipse_sample_pairwise_loop,
    make_sampler)

Z_DIM = 16


def _correlated_points(n=3000, z_dim=Z_DIM, seed=0):
    """Off-centre, correlated Gaussian cloud with a decaying spectrum (like real z-points)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((z_dim, z_dim)))
    scales = np.linspace(3.0, 0.2, z_dim)
    return (rng.standard_normal((n, z_dim)) * scales) @ q.T + rng.normal(0.0, 1.0, z_dim)


@pytest.fixture(scope="module")
def points():
    return _correlated_points()


def _brute_force_pairs_ok(v, a_scaled, tol=1e-9):
    """Explicit check of every pair (i < j) of every vector."""
    u2 = (v / a_scaled) ** 2
    k = u2.shape[1]
    for i, j in itertools.combinations(range(k), 2):
        if np.any(u2[:, i] + u2[:, j] > 1.0 + tol):
            return False
    return True


# ------------------------------------------------------------------ ellipse conditions

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_comp=st.integers(1, Z_DIM),
       fact=st.floats(0.05, 2.0), sigma_level=st.floats(0.5, 3.5), n=st.integers(1, 300))
def test_every_pair_of_every_vector_inside_its_ellipse(points, seed, n_comp, fact, sigma_level, n):
    s = EllipseSampler(n_components=n_comp, sigma_level=sigma_level, fact=fact).fit(points)
    a_scaled = s.half_axes_scaled_
    np.testing.assert_allclose(a_scaled, fact * sigma_level * s.sigma_)
    v = s.sample_pca(n, seed)
    assert v.shape == (n, n_comp)
    assert np.all(ellipse_pair_max(v, a_scaled) <= 1.0 + 1e-12)
    assert not ellipse_condition_violations(v, a_scaled).any()
    # every component inside its own interval too
    assert np.all(np.abs(v) <= a_scaled * (1 + 1e-12))
    # and the latent vectors (float32) projected back to PCA coordinates
    z = s.sample(n, seed)
    assert z.dtype == np.float32 and z.shape == (n, Z_DIM)
    assert np.all(ellipse_pair_max(s.to_pca(z), a_scaled) <= 1.0 + 1e-4)


@pytest.mark.parametrize("seed", range(30))
def test_brute_force_pairwise_check_small_cases(points, seed):
    rng = np.random.default_rng(seed)
    n_comp = int(rng.integers(2, 8))
    s = EllipseSampler(n_components=n_comp, sigma_level=2.35, fact=float(rng.uniform(0.3, 1.2)))
    s.fit(points)
    v = s.sample_pca(400, seed)
    assert _brute_force_pairs_ok(v, s.half_axes_scaled_)
    # the fast checker agrees with the brute force one
    assert np.all(ellipse_pair_max(v, s.half_axes_scaled_) <= 1.0 + 1e-12)


def test_violation_counter_matches_brute_force():
    rng = np.random.default_rng(1)
    k = 7
    a = rng.uniform(0.5, 2.0, k)
    v = rng.uniform(-1.2, 1.2, (500, k)) * a  # many vectors violate some pairs
    u2 = (v / a) ** 2
    expected = np.zeros(len(v), dtype=np.int64)
    for i, j in itertools.combinations(range(k), 2):
        expected += (u2[:, i] + u2[:, j] > 1.0 + 1e-9)
    got = ellipse_condition_violations(v, a)
    np.testing.assert_array_equal(got, expected)
    assert expected.sum() > 0
    worst = np.array([max(u2[m, i] + u2[m, j] for i, j in itertools.combinations(range(k), 2))
                      for m in range(len(v))])
    np.testing.assert_allclose(ellipse_pair_max(v, a), worst)


def test_checker_validates_shapes():
    with pytest.raises(InvalidInputError):
        ellipse_pair_max(np.zeros((3, 4)), np.ones(5))
    with pytest.raises(InvalidInputError):
        ellipse_condition_violations(np.zeros((3, 2)), np.array([1.0, 0.0]))


def test_first_drawn_component_is_uniform_and_order_is_random():
    rng = np.random.default_rng(7)
    n, k = 20000, 12
    u, order = ellipse_draw_unit(n, k, rng, return_order=True)
    rows = np.arange(n)
    first = u[rows, order[:, 0]]
    assert stats.kstest(first, stats.uniform(loc=-1, scale=2).cdf).pvalue > 1e-3
    # every component is drawn first about equally often; each row is a permutation
    counts = np.bincount(order[:, 0], minlength=k)
    assert stats.chisquare(counts).pvalue > 1e-3
    assert np.all(np.sort(order, axis=1) == np.arange(k))
    # later draws respect the running maximum: |u_j| <= sqrt(1 - max earlier u^2)
    drawn = np.take_along_axis(u, order, axis=1)
    running = np.maximum.accumulate(drawn ** 2, axis=1)
    assert np.all(drawn[:, 1:] ** 2 <= 1.0 - running[:, :-1] + 1e-12)


def test_single_component_is_uniform_in_fact_scaled_interval(points):
    s = EllipseSampler(n_components=1, sigma_level=2.0, fact=0.6).fit(points)
    a = s.half_axes_scaled_[0]
    v = s.sample_pca(20000, 3)[:, 0]
    assert np.all(np.abs(v) <= a)
    assert stats.kstest(v, stats.uniform(loc=-a, scale=2 * a).cdf).pvalue > 1e-3


def test_dropped_components_are_zero_and_mean_is_data_mean(points):
    s = EllipseSampler(n_components=5, sigma_level=2.35, fact=0.7).fit(points)
    z = s.sample(5000, 11).astype(np.float64)
    centred = z - s.mean_
    residual = centred - (centred @ s.components_.T) @ s.components_
    assert np.abs(residual).max() < 1e-4
    np.testing.assert_allclose(z.mean(axis=0), points.mean(axis=0), atol=0.1)
    # PCA axes are sorted by decreasing spread
    assert np.all(np.diff(s.sigma_) <= 0)


def test_sample_and_sample_pca_share_the_random_stream(points):
    s = EllipseSampler(n_components=6).fit(points)
    np.testing.assert_allclose(s.from_pca(s.sample_pca(40000, 5)), s.sample(40000, 5), atol=1e-4)


def test_pairwise_loop_baseline_satisfies_conditions_like_the_fast_method(points):
    s = EllipseSampler(n_components=6, sigma_level=2.35, fact=0.7).fit(points)
    a = s.half_axes_scaled_
    slow = ellipse_sample_pairwise_loop(a, 600, 0)
    fast = s.sample_pca(6000, 0)
    for v in (slow, fast):
        assert _brute_force_pairs_ok(v, a)
        assert not ellipse_condition_violations(v, a).any()
    # same distribution (per-component marginals)
    for i in range(len(a)):
        assert stats.ks_2samp(slow[:, i], fast[:, i]).pvalue > 1e-4


def test_ellipse_validation(points):
    with pytest.raises(InvalidInputError, match="n_components"):
        EllipseSampler(n_components=0).fit(points)
    with pytest.raises(InvalidInputError, match="n_components"):
        EllipseSampler(n_components=Z_DIM + 1).fit(points)
    with pytest.raises(InvalidInputError, match="sigma_level"):
        EllipseSampler(n_components=3, sigma_level=0).fit(points)
    with pytest.raises(InvalidInputError, match="fact"):
        EllipseSampler(n_components=3, fact=-1).fit(points)
    with pytest.raises(InvalidInputError, match="z-points"):
        EllipseSampler(n_components=3).fit(np.full((10, 4), np.nan))
    with pytest.raises(InvalidInputError, match="at least"):
        EllipseSampler(n_components=8).fit(points[:5])
    with pytest.raises(InvalidInputError, match="fit"):
        EllipseSampler(n_components=3).sample(5, 0)


def test_ellipse_100k_vectors_100_components_keep_every_pair_condition():
    """A large draw (its speed is the bench's business: row ellipse_100k) keeps the pairwise
    ellipse condition of every kept PCA component pair."""
    z = _correlated_points(n=1500, z_dim=256, seed=2)
    s = EllipseSampler(n_components=100, sigma_level=2.35, fact=0.7).fit(z)
    out = s.sample(100_000, 1)
    assert out.shape == (100_000, 256) and out.dtype == np.float32 and np.isfinite(out).all()
    v = s.sample_pca(100_000, 1)
    assert v.shape == (100_000, 100)
    assert int(ellipse_condition_violations(v, s.half_axes_scaled_).sum()) == 0


# ------------------------------------------------------------------ other generators

def test_uniform_moments_and_bounds(points):
    z = UniformBoxSampler(b=1.5).fit(points).sample(50000, 0)
    assert z.shape == (50000, Z_DIM) and z.dtype == np.float32
    assert z.min() >= -1.5 and z.max() <= 1.5
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=0.03)
    np.testing.assert_allclose(z.var(axis=0), 1.5**2 / 3, rtol=0.05)


@pytest.mark.parametrize("center", [False, True])
def test_normal_moments(points, center):
    z = NormalSampler(sigma=0.8, center=center).fit(points).sample(50000, 0)
    expected_mean = points.mean(axis=0) if center else 0.0
    np.testing.assert_allclose(z.mean(axis=0), expected_mean, atol=0.03)
    np.testing.assert_allclose(z.std(axis=0), 0.8, rtol=0.03)


def test_mvn_reproduces_mean_and_covariance(points):
    s = MultivariateNormalSampler().fit(points)
    z = s.sample(60000, 4).astype(np.float64)
    cov_data = np.cov(points, rowvar=False)
    cov_gen = np.cov(z, rowvar=False)
    assert np.abs(cov_gen - cov_data).max() < 0.05 * np.abs(cov_data).max()
    np.testing.assert_allclose(z.mean(axis=0), points.mean(axis=0), atol=0.05)


def test_mvn_truncation_respected(points):
    radius = np.sqrt(Z_DIM - 0.5)  # about half of the vectors are rejected at first
    s = MultivariateNormalSampler(truncate=radius).fit(points)
    z = s.sample(5000, 2)
    assert np.all(s.mahalanobis(z) <= radius * (1 + 1e-5))
    untruncated = MultivariateNormalSampler().fit(points)
    assert np.any(untruncated.mahalanobis(untruncated.sample(5000, 2)) > radius)
    with pytest.raises(InvalidInputError, match="truncate"):
        MultivariateNormalSampler(truncate=0.5).fit(points).sample(20000, 0)


def test_mvn_singular_covariance_gets_jitter():
    rng = np.random.default_rng(0)
    few = rng.standard_normal((5, 12))  # 5 points in 12 dimensions: rank-deficient covariance
    s = MultivariateNormalSampler().fit(few)
    assert s.jitter_ > 0
    z = s.sample(100, 0)
    assert np.all(np.isfinite(z))


def test_grid_refuses_high_dimensions_with_an_explanation():
    with pytest.raises(InvalidInputError, match=r"3\^256.*1e122.*grid"):
        GridSampler(b=1.0, points_per_axis=3).fit(np.zeros((4, 256)))


def test_grid_small_dimension_enumerates_points():
    g = GridSampler(b=1.0, points_per_axis=3).fit(np.zeros((4, 2)))
    z = g.sample(9, 0)
    assert sorted(map(tuple, z.tolist())) == sorted(itertools.product([-1.0, 0.0, 1.0], repeat=2))
    assert g.sample(20, 0).shape == (20, 2)


@pytest.mark.parametrize("method,params", [
    ("uniform", {"b": 1.0}), ("normal", {"sigma": 1.0}), ("mvn", {"truncate": None}),
    ("ellipse", {"n_comp": 4, "sigma_level": 2.35, "fact": 0.7}), ("grid", {"points_per_axis": 2}),
])
def test_deterministic_for_a_seed(points, method, params):
    s = make_sampler(method, **params).fit(points)
    a, b, c = s.sample(64, 123), s.sample(64, 123), s.sample(64, 124)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32 and a.shape == (64, Z_DIM)
    assert s.name == method
    assert isinstance(s.params(), dict)


def test_make_sampler_errors_and_aliases():
    s = make_sampler("ellipse", n_comp=7, sigma_level=2.0, fact=None)
    assert s.params() == {"n_components": 7, "sigma_level": 2.0, "fact": 0.7}
    with pytest.raises(InvalidInputError, match="unknown generator"):
        make_sampler("banana")
    with pytest.raises(InvalidInputError, match="unknown parameter"):
        make_sampler("uniform", sigma=1.0)


@pytest.mark.parametrize("bad_n", [0, -1, 10_000_001, 2.5, True])
def test_n_validated(points, bad_n):
    with pytest.raises(InvalidInputError, match="n"):
        UniformBoxSampler(1.0).fit(points).sample(bad_n, 0)


def test_positive_parameters_validated(points):
    with pytest.raises(InvalidInputError, match="b"):
        UniformBoxSampler(b=0).fit(points)
    with pytest.raises(InvalidInputError, match="sigma"):
        NormalSampler(sigma=-1).fit(points)
    with pytest.raises(InvalidInputError, match="b"):
        GridSampler(b=float("nan")).fit(points)


def test_fit_from_an_existing_pca_equals_fit(points):
    from sklearn.decomposition import PCA

    pca = PCA().fit(points)
    a = EllipseSampler(n_components=5).fit(points)
    b = EllipseSampler(n_components=5).fit_from_pca(pca)
    np.testing.assert_allclose(b.sigma_, a.sigma_, rtol=1e-6)
    np.testing.assert_allclose(np.abs(b.components_ @ a.components_.T), np.eye(5), atol=1e-6)
    v = b.sample_pca(500, 0)
    assert not ellipse_condition_violations(v, b.half_axes_scaled_).any()
    with pytest.raises(InvalidInputError, match="n_components"):
        EllipseSampler(n_components=Z_DIM + 1).fit_from_pca(pca)
    with pytest.raises(InvalidInputError, match="pca"):
        EllipseSampler(n_components=2).fit_from_pca(object())
