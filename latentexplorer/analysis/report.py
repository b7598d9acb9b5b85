"""All SPEC §4 analyses in one call (the numbers of ``latentexplorer analyze``).

:func:`analyze_latents` works on arrays and returns ``(summary, results)``: a JSON-ready dict and
the arrays/objects the plots need; :func:`load_latents` takes them from a workspace, a ``Latents``
object, an array or a ``.npy`` file. Writing the report (summary.json and the plots) is the top
floor's job: :func:`latentexplorer.reports.write_analysis`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..inputs import load_npy, printable
from ..schemas import MAX_LATENT_ABS
from ._validation import check_matrix, check_nonnegative, check_positive
from .correlation import DEFAULT_THRESHOLDS, co_moments, counts_over, pairs_over, strongest_pair
from .pca import LatentPCA
from .radius import (normal_radius_theory, radii, radius_histogram, radius_stats,
                     uniform_radius_theory)
from .statistics import component_stats, dominant_components

__all__ = ["analyze_latents", "load_latents", "SUMMARY_FORMAT"]

SUMMARY_FORMAT = "latentexplorer-analysis/1"


def _step(progress, i, total, message):
    if progress is not None:
        progress.raise_if_cancelled()
        progress.update(i, total, message)


def analyze_latents(z, *, mu=None, logvar=None, attributes=None, attribute_names=None,
                    bin_width: float = 0.25, radius_bin_width: float = 0.5,
                    mu_threshold: float = 0.25, hw_threshold: float = 1.5,
                    pair_threshold: float = 0.5, thresholds=DEFAULT_THRESHOLDS,
                    uniform_b: float = 1.5, kmeans: bool = False, kmeans_k=range(2, 81),
                    kmeans_max_points: int | None = None, tsne: bool = False,
                    tsne_max_points: int | None = 20_000, umap: bool = False,
                    umap_max_points: int | None = None, random_state: int = 0,
                    progress=None):
    """Run the statistics of SPEC §4 on latent vectors.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
        Latent vectors (AE: the codes; VAE: the sampled z). n_points >= 2.
    mu, logvar : ndarray of shape (n_points, z_dim), optional, keyword-only
        VAE encoder outputs; both given → ``summary["vae"]``.
    attributes : ndarray of shape (n_points, n_attributes), optional, keyword-only
        Labels per point → ``summary["attributes"]`` (directions sorted by separation).
    attribute_names : list of str, optional, keyword-only
    bin_width, radius_bin_width : float, keyword-only
        Histogram bin widths for components (0.25) and radii (0.5).
    mu_threshold, hw_threshold : float, keyword-only
        Dominant component thresholds.
    pair_threshold : float, keyword-only
        ``|r|`` threshold of the listed pairs (key ``pairs_over_<t>``).
    thresholds : sequence of float, keyword-only
        Thresholds of ``counts_over``.
    uniform_b : float, keyword-only
        Box half-width of the uniform radius theory shown next to N(0, 1).
    kmeans, tsne, umap : bool, keyword-only
        Also compute the KMeans inertia curve / a t-SNE / a UMAP embedding (slow).
    kmeans_k : iterable of int; kmeans_max_points, tsne_max_points, umap_max_points : int or None
        k range, and seeded subsets of the points for KMeans / t-SNE / UMAP (``None`` = all).
    random_state : int, keyword-only
    progress : ProgressReporter, optional, keyword-only

    Returns
    -------
    summary : dict
        JSON-ready: ``format``, ``n_points``, ``z_dim``, ``radius`` {``mean``, ``std``,
        ``peak``, ``p01``, ``p99``, ``min``, ``max``, ``bin_width``, ``theory``},
        ``components`` [{``index``, ``mu``, ``median``, ``std``, ``peak``,
        ``half_width``}], ``dominant`` [indices], ``dominant_thresholds``, ``correlation``
        {``counts_over`` {"0.1": n, ...}, ``pairs_over_0.5`` [[i, j, r], ...], ``strongest``
        [i, j, r], ``n_pairs``}, ``pca`` {``explained_variance_ratio``, ``cumulative``,
        ``std``}, and optionally ``vae``, ``attributes``, ``kmeans``, ``tsne``, ``umap``.
    results : dict
        ``stats`` (ComponentStats), ``dominant``, ``radii``, ``radius_edges``,
        ``radius_counts``, ``correlation`` (z_dim x z_dim), ``pca`` (LatentPCA) and optionally
        ``attributes`` (AttributeDirections), ``kmeans`` ((k, inertia)), ``tsne``
        ((indices, embedding)).
    """
    z = check_matrix(z, min_rows=2)
    check_positive(bin_width, "bin_width")
    check_positive(radius_bin_width, "radius_bin_width")
    check_nonnegative(mu_threshold, "mu_threshold")
    check_nonnegative(hw_threshold, "hw_threshold")
    check_positive(uniform_b, "uniform_b")
    # every option is checked before the first (slow) step, so a typo fails at once
    from .correlation import _check_threshold
    _check_threshold(pair_threshold)
    for t in np.atleast_1d(thresholds):
        _check_threshold(t)
    for name, limit in (("kmeans_max_points", kmeans_max_points), ("tsne_max_points", tsne_max_points),
                        ("umap_max_points", umap_max_points)):
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer))
                                  or limit < 2):
            raise InvalidInputError(f"{name}: expected an integer >= 2 (or none for all points), "
                                    f"got {limit!r}")
    n, d = z.shape
    total = 5 + int(mu is not None) + int(attributes is not None) + int(kmeans) + int(tsne) + int(umap)
    step = 0
    summary: dict = {"format": SUMMARY_FORMAT, "n_points": int(n), "z_dim": int(d)}
    results: dict = {}

    _step(progress, step, total, "component histograms")
    moments = co_moments(z)  # one streamed pass shared by the statistics, correlations and PCA
    if tsne and bool(np.all(moments.constant)):
        # t-SNE of identical points divides by their zero spread: refuse before any other work
        raise InvalidInputError(f"z: all {n:,} points are identical (every component is constant), "
                                "t-SNE has nothing to embed; leave out --tsne (a collapsed model?)")
    stats = component_stats(z, bin_width=bin_width, moments=moments)
    dom = dominant_components(stats, mu_threshold=mu_threshold, hw_threshold=hw_threshold)
    results.update(stats=stats, dominant=dom)
    summary["bin_width"] = float(bin_width)
    summary["components"] = stats.to_records()
    summary["dominant"] = [int(i) for i in dom]
    summary["dominant_thresholds"] = {"mu": float(mu_threshold), "half_width": float(hw_threshold)}
    step += 1

    _step(progress, step, total, "radius distribution")
    r = radii(z)
    edges, counts = radius_histogram(r, bin_width=radius_bin_width)
    rs = radius_stats(r, bin_width=radius_bin_width)
    results.update(radii=r, radius_edges=edges, radius_counts=counts)
    th_n = normal_radius_theory(d, 1.0)
    th_u = uniform_radius_theory(d, uniform_b)
    summary["radius"] = {**rs.to_dict(), "theory": {
        "normal_sigma_1": {"mean": th_n.mean, "std": th_n.std},
        f"uniform_b_{uniform_b:g}": {"mean": th_u.mean, "std": th_u.std}}}
    step += 1

    _step(progress, step, total, "correlation matrix")
    corr = moments.correlation()
    results["correlation"] = corr
    cnt = counts_over(corr, thresholds)
    strongest = strongest_pair(corr)
    summary["correlation"] = {
        "n_pairs": int(d * (d - 1) // 2),
        "counts_over": {f"{t:g}": int(c) for t, c in zip(np.atleast_1d(thresholds), cnt)},
        f"pairs_over_{pair_threshold:g}": [list(p) for p in pairs_over(corr, pair_threshold)],
        "strongest": list(strongest) if strongest else None}
    step += 1

    _step(progress, step, total, "PCA")
    pca = LatentPCA(random_state=random_state)
    pca = pca.fit_moments(moments) if n >= d else pca.fit(z)
    results["pca"] = pca
    ratio = pca.explained_variance_ratio_
    summary["pca"] = {"explained_variance_ratio": ratio.tolist(),
                      "cumulative": np.cumsum(ratio).tolist(), "std": pca.std_.tolist()}
    step += 1

    if mu is not None or logvar is not None:
        if mu is None or logvar is None:
            raise InvalidInputError("mu/logvar: give both VAE outputs or neither")
        from .vae import vae_diagnostics
        _step(progress, step, total, "VAE diagnostics")
        # the stored z of a VAE is mu (predict mode): sample z as in training to compare
        same = z is mu or (z is not None and np.shares_memory(z, mu)) or \
            (z is not None and z.shape == mu.shape and np.array_equal(z[:64], mu[:64]))
        summary["vae"] = vae_diagnostics(mu, logvar, None if same else z, sample=same)
        step += 1

    if attributes is not None:
        from .attributes import attribute_directions
        _step(progress, step, total, "attribute directions")
        ad = attribute_directions(z, attributes, names=attribute_names)
        results["attributes"] = ad
        summary["attributes"] = ad.table()
        step += 1

    rng = np.random.default_rng(random_state)

    def subset(limit):
        if limit is None or limit >= n:
            return np.arange(n)
        return np.sort(rng.choice(n, size=int(limit), replace=False))

    if kmeans:
        from .embedding import kmeans_inertia
        _step(progress, step, total, "KMeans inertia")
        idx = subset(kmeans_max_points)
        ks = [k for k in kmeans_k if k <= idx.size]
        k_arr, inertia = kmeans_inertia(z[idx], k_values=ks, random_state=random_state,
                                        progress=progress)
        results["kmeans"] = (k_arr, inertia)
        summary["kmeans"] = {"n_points": int(idx.size), "k": k_arr.tolist(),
                             "inertia": inertia.tolist()}
        step += 1

    from . import embedding

    maps = (("tsne", "t-SNE", tsne, tsne_max_points, embedding.tsne_embedding,
             "pass a larger tsne_max_points or leave out t-SNE"),
            ("umap", "UMAP", umap, umap_max_points, embedding.umap_embedding, "leave out UMAP"))
    for key, label, wanted, limit, embed, hint in maps:
        if not wanted:
            continue
        _step(progress, step, total, label)
        idx = subset(limit)
        if np.all(np.ptp(np.asarray(z[idx]), axis=0) == 0):
            raise InvalidInputError(f"z: the {idx.size:,} points drawn for {label} are all "
                                    f"identical; {hint}")
        results[key] = (idx, embed(z[idx], random_state=random_state, progress=progress))
        summary[key] = {"n_points": int(idx.size)}
        step += 1

    _step(progress, total, total, "analysis done")
    return summary, results


def load_latents(source):
    """``(z, mu, logvar, attributes, attribute_names, origin)`` of a source.

    ``source`` is a :class:`~latentexplorer.workspace.Workspace` (its training latents and the
    store's attributes; stale latents are warned about), a workspace folder, a
    :class:`~latentexplorer.workspace.Latents`, an ndarray or a ``.npy`` path.
    """
    from ..workspace import Latents, Workspace

    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_dir():
            z = load_npy(path, mmap=True, kinds="fiu", ndim=2, max_abs=MAX_LATENT_ABS,
                         what="latent array")
            if z.shape[0] < 2:
                raise InvalidInputError(f"{printable(path)}: {z.shape[0]} latent vectors, expected "
                                        "at least 2")
            return z, None, None, None, None, str(path)
        source = Workspace.open(path)
    if isinstance(source, np.ndarray):
        return source, None, None, None, None, "array"
    if isinstance(source, Latents):
        return source.z, source.mu, source.logvar, None, None, "latents"
    if not isinstance(source, Workspace):
        raise TypeError(f"load_latents: expected a Workspace, Latents, array or path, got "
                        f"{type(source).__name__}")
    lat = source.latents()
    staleness = source.staleness(lat)
    if staleness.stale:
        warnings.warn(staleness.message, stacklevel=2)
    origin = {"workspace": str(Path(source.path).resolve()), "latents_epoch": lat.meta.epoch,
              "latents_fingerprint": lat.fingerprint,
              "stale": staleness.message if staleness.stale else None}
    attributes = names = None
    try:
        store = source.dataset()
    except InvalidInputError as exc:  # the dataset may have moved; attributes are optional
        warnings.warn(f"attributes not available: {exc}", stacklevel=2)
    else:
        if store.attributes is not None and store.n == lat.n:
            attributes, names = store.attributes, store.attribute_names
    return lat.z, lat.mu, lat.logvar, attributes, names, origin
