import numpy as np
import pytest

from latentexplorer.analysis.kmeans import (STATED_RELATIVE_ERROR, InertiaCurve,
                                            kmeans_inertia)
from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.progress import ProgressReporter


def _cloud(n=6000, d=16, seed=0):
    """Latent-like: correlated Gaussian with decaying scales, an offset and a few loose groups."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    z = rng.standard_normal((n, d)) @ (np.geomspace(2.0, 0.2, d)[:, None] * q.T)
    z += rng.normal(scale=1.5, size=(6, d))[rng.integers(0, 6, n)] + 0.3
    return z.astype(np.float32)


def _inertia(z, centres):
    d = ((z[:, None, :].astype(np.float64) - centres[None].astype(np.float64)) ** 2).sum(-1)
    return float(d.min(axis=1).sum()), d.argmin(axis=1)


def test_curve_within_the_stated_bound_of_full_data_kmeans():
    from sklearn.cluster import KMeans

    z = _cloud()
    ks = [2, 4, 8, 12]
    k, inertia = kmeans_inertia(z, k_values=ks, fit_points=2000, random_state=0)
    assert k.tolist() == ks
    for kk, ours in zip(ks, inertia):
        full = np.median([KMeans(n_clusters=kk, n_init=1, random_state=seed).fit(z).inertia_
                          for seed in range(5)])
        assert ours <= (1 + STATED_RELATIVE_ERROR) * full, (kk, ours / full)


def test_inertia_is_exact_on_all_points_and_centres_are_lloyd_fixed_points():
    z = _cloud(n=1500, d=6)
    curve = InertiaCurve(k_values=[1, 3, 7], fit_points=None, tol=0.0, random_state=2).fit(z)
    assert curve.n_fit_points_ == 1500 and curve.n_iter_.min() >= 1
    for i, k in enumerate(curve.k_):
        c = curve.centers_[i]
        assert c.shape == (k, 6)
        exact, labels = _inertia(z, c)
        assert curve.inertia_[i] == pytest.approx(exact, rel=1e-5)
        # converged Lloyd: every centre is the mean of its points
        means = np.array([z[labels == j].mean(axis=0) for j in range(k)])
        np.testing.assert_allclose(means, c, atol=1e-4)
    assert curve.inertia_[0] == pytest.approx(((z - z.mean(0)) ** 2).sum(), rel=1e-5)


def test_subsample_fit_evaluates_on_all_points():
    z = _cloud(n=4000, d=8)
    curve = InertiaCurve(k_values=[5], fit_points=500, random_state=1).fit(z)
    assert curve.n_fit_points_ == 500
    exact, _ = _inertia(z, curve.centers_[0])
    assert curve.inertia_[0] == pytest.approx(exact, rel=1e-5)
    assert curve.subsample_inertia_[0] == pytest.approx(exact, rel=0.2)   # the early estimate


def test_refinement_and_more_seedings_never_raise_the_inertia():
    z = _cloud(n=3000, d=8)
    base = InertiaCurve(k_values=range(2, 9), fit_points=300, random_state=0).fit(z)
    refined = InertiaCurve(k_values=range(2, 9), fit_points=300, refine_iter=2,
                           random_state=0).fit(z)
    assert (refined.inertia_ <= base.inertia_ * (1 + 1e-6)).all()
    several = InertiaCurve(k_values=range(2, 9), fit_points=300, n_init=3, random_state=0).fit(z)
    sub_one = InertiaCurve(k_values=range(2, 9), fit_points=300, n_init=1, random_state=0).fit(z)
    assert several.inertia_.shape == sub_one.inertia_.shape == (7,)
    np.testing.assert_array_equal(InertiaCurve(k_values=range(2, 9), fit_points=300,
                                               random_state=0).fit(z).inertia_, base.inertia_)


def test_progress_metrics_and_cancel_mid_run():
    z = _cloud(n=3000, d=8)
    seen = []
    rep = ProgressReporter(lambda d, t, m, metrics: seen.append((d, t, m, metrics)))
    k, inertia = kmeans_inertia(z, k_values=range(2, 11), fit_points=1000, progress=rep)
    curves = [m for *_, m in seen if m and m.get("event") == "kmeans_curve"]
    assert [c["final"] for c in curves] == [False, True]
    assert curves[-1]["k"].tolist() == k.tolist()
    np.testing.assert_array_equal(curves[-1]["inertia"], inertia)
    assert seen[-1][0] == seen[-1][1] and all(d <= t for d, t, *_ in seen)
    assert all(np.diff([d for d, *_ in seen]) >= 0)

    rep = ProgressReporter(lambda d, t, m, metrics: rep.cancel() if "Lloyd iteration 2" in m
                           else None)
    with pytest.raises(Cancelled):
        kmeans_inertia(z, k_values=range(2, 11), fit_points=1000, progress=rep)


def test_checks():
    z = _cloud(n=50, d=3)
    with pytest.raises(InvalidInputError, match="exceeds"):
        kmeans_inertia(z, k_values=[51])
    with pytest.raises(InvalidInputError, match="at least one"):
        kmeans_inertia(z, k_values=[])
    with pytest.raises(InvalidInputError, match=">= 1"):
        kmeans_inertia(z, k_values=[0, 2])
    with pytest.raises(InvalidInputError, match="fit_points"):
        kmeans_inertia(z, fit_points=1, k_values=[2])
    with pytest.raises(InvalidInputError, match="max_points"):
        kmeans_inertia(z, max_points=1, k_values=[2])
    k, inertia = kmeans_inertia(z, k_values=[2, 3], max_points=20)
    assert inertia.shape == (2,) and (inertia > 0).all()
