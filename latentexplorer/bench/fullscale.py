"""Cases 12 and 13: the analyses on every one of 200,000 points (issue 14).

* ``kmeans_curve_200k`` — the inertia curve k = 2 … 80 by
  :func:`~latentexplorer.analysis.kmeans.kmeans_inertia` against scikit-learn's ``KMeans``
  fitted per k on all points (measured at three k and interpolated over k = 2 … 80: fitting all
  79 would take longer than the rest of the bench together).
* ``tsne_200k`` and ``umap_200k`` — both 2-D maps of the same 200,000 PCA-reduced points; t-SNE
  has an absolute budget (8 minutes on two cores), UMAP is measured against t-SNE.
"""

from __future__ import annotations

import time

import numpy as np

from .data import latent_cloud
from .runner import Context, Result, speedup


def _clustered(n: int, d: int = 256, seed: int = 5) -> np.ndarray:
    """A latent-like cloud with 12 loose groups (so that the curve and the maps have structure)."""
    rng = np.random.default_rng(seed)
    z = latent_cloud(n, d, seed=seed)
    z += rng.normal(scale=3.0, size=(12, d)).astype(np.float32)[rng.integers(0, 12, n)]
    return z


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_kmeans_curve(ctx: Context) -> list[Result]:
    from sklearn.cluster import KMeans

    from ..analysis.kmeans import kmeans_inertia

    n, k_max = (5_000, 20) if ctx.quick else (200_000, 80)
    ks = list(range(2, k_max + 1))
    probes = (2, k_max // 4, k_max)
    z = _clustered(n)
    ctx.log(f"KMeans curve k = 2..{k_max} on {n:,} x 256; scikit-learn at k = {probes}")
    ours_s, (k, inertia) = _timed(lambda: kmeans_inertia(z, k_values=ks, random_state=0))
    sk_s, sk_inertia = [], []
    for kk in probes:
        t, model = _timed(lambda kk=kk: KMeans(n_clusters=kk, n_init=1, random_state=0).fit(z))
        sk_s.append(t)
        sk_inertia.append(float(model.inertia_))
    baseline = float(np.interp(ks, probes, sk_s).sum())  # every k fitted on its own
    ratios = {kk: float(inertia[ks.index(kk)] / s) for kk, s in zip(probes, sk_inertia)}
    return [Result(
        "kmeans_curve_200k", "KMeans inertia curve k = 2..80, every point", ours_s, baseline, "s",
        ratio=speedup(ours_s, baseline), budget="< 60 s",
        passed=ours_s < 60, quick=ctx.quick,
        notes=f"{n:,} x 256 clustered cloud; ours: kmeans_inertia (3 shared k-means++ seedings, "
              "Lloyd on 20,000 points, inertia on all); baseline: sklearn KMeans(n_init=1) per k "
              f"on all points, timed at k = {', '.join(map(str, probes))} "
              f"({', '.join(f'{t:.1f}' for t in sk_s)} s) and interpolated over the {len(ks)} k; "
              "inertia ours/sklearn at those k: "
              + ", ".join(f"{r:.3f}" for r in ratios.values()),
        details={"n": n, "sklearn_probe_s": dict(zip(probes, sk_s)), "inertia_ratio": ratios})]


def bench_maps(ctx: Context) -> list[Result]:
    from ..analysis.embedding import tsne_embedding, umap_embedding
    from ..analysis.pca import LatentPCA

    n = 1_500 if ctx.quick else 200_000
    z = _clustered(n, seed=7)
    x = LatentPCA(n_components=50).fit(z).transform(z)
    ctx.log(f"t-SNE and UMAP of {n:,} x 50 PCA-reduced points (all cores)")
    tsne_s, _ = _timed(lambda: tsne_embedding(x, n_pca=0, random_state=0, n_jobs=-1))
    umap_s, _ = _timed(lambda: umap_embedding(x, n_pca=0, random_state=None, n_jobs=-1))
    budget_s = 480.0
    return [
        Result("tsne_200k", "t-SNE of every point", tsne_s, budget_s, "s",
               ratio=speedup(tsne_s, budget_s), budget="< 8 min (480 s) on two cores",
               passed=tsne_s < budget_s, quick=ctx.quick,
               notes=f"{n:,} x 50 PCA-reduced points (12 groups), perplexity 30, 250 + 500 "
                     "iterations; openTSNE with approximate (Annoy) neighbours above 100,000 "
                     "points, FFT gradients, all cores; the baseline column is the budget",
               details={"n": n}),
        Result("umap_200k", "UMAP of every point", umap_s, tsne_s, "s",
               ratio=speedup(umap_s, tsne_s), budget="report (against t-SNE on the same points)",
               passed=None, quick=ctx.quick,
               notes=f"the same {n:,} points; umap-learn, 15 neighbours, its default epochs, all "
                     "cores (random_state None: a seed would force one thread); baseline: t-SNE "
                     "above",
               details={"n": n}),
    ]
