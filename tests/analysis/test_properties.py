"""Property tests: random shapes and degenerate data never crash and give finite outputs."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latentexplorer.analysis.correlation import correlation_matrix, counts_over, pairs_over
from latentexplorer.analysis.ellipse import confidence_ellipse, plane_points
from latentexplorer.analysis.hits import hit_mask_box, mahalanobis_radius
from latentexplorer.analysis.pca import LatentPCA
from latentexplorer.analysis.radius import radii, radius_stats
from latentexplorer.analysis.statistics import component_stats, dominant_components

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def latents(draw):
    n = draw(st.integers(2, 40))
    d = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([1e-3, 1.0, 50.0]))
    z = rng.normal(size=(n, d)) * scale + draw(st.floats(-5, 5))
    kind = draw(st.sampled_from(["plain", "constant_cols", "duplicates", "all_constant",
                                 "integers"]))
    if kind == "constant_cols":
        z[:, rng.random(d) < 0.5] = draw(st.floats(-3, 3))
    elif kind == "duplicates":
        z[:] = z[rng.integers(0, max(1, n // 3), size=n)]
    elif kind == "all_constant":
        z[:] = 1.5
    elif kind == "integers":
        z = np.round(z)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return z.astype(dtype)


@SETTINGS
@given(latents(), st.sampled_from([0.05, 0.25, 1.0]))
def test_statistics_and_radius_finite(z, bw):
    s = component_stats(z, bin_width=bw, chunk_size=7)
    for arr in (s.mu, s.median, s.std, s.peak, s.half_width, s.half_width_hist):
        assert arr.shape == (z.shape[1],) and np.isfinite(arr).all()
    assert (s.half_width_hist >= bw * 0.999).all()         # the histogram's: at least a bin
    assert (s.half_width >= 0).all()                       # the smoothed one has no such floor
    assert (s.counts.sum(axis=1) == z.shape[0]).all()
    dom = dominant_components(s)
    assert set(dom.tolist()) <= set(range(z.shape[1]))
    r = radii(z)
    rs = radius_stats(r)
    assert np.isfinite(list(rs.to_dict().values())).all()


@SETTINGS
@given(latents())
def test_correlation_finite_and_valid(z):
    r = correlation_matrix(z, chunk_size=5)
    assert r.shape == (z.shape[1],) * 2 and np.isfinite(r).all()
    assert np.allclose(r, r.T) and np.allclose(np.diag(r), 1)
    assert (np.abs(r) <= 1).all()
    c = counts_over(r)
    assert (np.diff(c) <= 0).all()
    assert len(pairs_over(r, 0.5)) == counts_over(r, [0.5])[0]


@SETTINGS
@given(latents())
def test_pca_ellipse_hits_finite(z):
    pca = LatentPCA().fit(z)
    assert np.isfinite(pca.explained_variance_ratio_).all()
    assert np.isfinite(pca.std_).all()
    coords = pca.transform(z)
    assert np.isfinite(coords).all()
    assert np.isfinite(mahalanobis_radius(z, pca)).all()
    if z.shape[1] >= 2:
        plane = ("pca", 0, 1) if pca.n_components_ >= 2 else ("latent", 0, 1)
        e = confidence_ellipse(plane_points(z, plane, pca), sigma_level=2.0)
        assert np.isfinite(e.half_axes).all() and np.isfinite(e.angle)
        assert np.isfinite(e.polyline(16)).all()
        assert e.contains(plane_points(z, plane, pca)).dtype == bool
        out = pca.plane_to_latent(z[0], (0, 1), [[0.0, 0.0]]) if pca.n_components_ >= 2 else None
        assert out is None or np.isfinite(out).all()
    s = component_stats(z)
    hits = hit_mask_box(z, s.mu, s.half_width, 3.0)
    assert hits.shape == (z.shape[0],) and hits.dtype == bool
    # a box wider than the data range contains every point
    wide = (z.max(axis=0) - z.min(axis=0)).astype(np.float64) + 1.0
    assert hit_mask_box(z, s.mu, wide, 1.0).all()
