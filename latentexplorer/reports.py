"""The written report of ``latentexplorer analyze``: ``summary.json``, the t-SNE arrays and one PNG
plot per analysis, committed as one folder.

This is the top floor (next to ``commands/``): the numbers come from
:func:`latentexplorer.analysis.report.analyze_latents` and never need Qt; only the plots are drawn
with :mod:`latentexplorer.gui.analysis_plots` (imported when plots are asked for — without Qt the
summary is still written and the reason recorded).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .analysis.report import SUMMARY_FORMAT, analyze_latents, load_latents
from .fileio import atomic_directory, check_replaceable, save_npy, write_json
from .locks import output_lock

__all__ = ["write_analysis"]


def _top_components(stats, dominant, limit=12):
    if len(dominant):
        score = np.abs(stats.mu[dominant]) / 0.25 + stats.half_width[dominant] / 1.5
        return [int(i) for i in np.asarray(dominant)[np.argsort(-score)][:limit]]
    return [int(i) for i in np.argsort(-stats.half_width)[:min(limit, 8)]]


def _write_plots(summary, results, out_dir: Path, *, width: int = 1000) -> list[str]:
    from .gui import analysis_plots as ap

    ap.ensure_qapp()
    stats = results["stats"]
    written = []

    def save(item, name):
        try:
            ap.export_png(item, out_dir / name, width=width)
            written.append(name)
        finally:
            ap.dispose(item)  # free the off-screen widget here, in this thread

    top = _top_components(stats, results["dominant"])
    save(ap.plot_component_histograms(
        stats.edges, stats.counts, top, mu=stats.mu, half_width=stats.half_width,
        half_max_left=stats.half_max_left, half_max_right=stats.half_max_right,
        title=f"Dominant components ({len(results['dominant'])}; |μ| ≥ "
              f"{summary['dominant_thresholds']['mu']:g} or hw ≥ "
              f"{summary['dominant_thresholds']['half_width']:g})"),
        "components_dominant.png")
    save(ap.plot_histogram_overview(stats.edges, stats.counts), "components_all.png")
    save(ap.plot_radius_distribution(results["radius_edges"], results["radius_counts"],
                                     n_dim=summary["z_dim"], normal_sigma=1.0,
                                     uniform_b=(1.5,)), "radius.png")
    save(ap.plot_correlation_heatmap(results["correlation"]), "correlation.png")
    save(ap.plot_pca_spectrum(results["pca"].explained_variance_ratio_), "pca_spectrum.png")
    if "kmeans" in results:
        save(ap.plot_kmeans_inertia(*results["kmeans"]), "kmeans_inertia.png")
    if "tsne" in results:
        idx, emb = results["tsne"]
        save(ap.plot_scatter(emb, title=f"t-SNE ({idx.size} points)"), "tsne.png")
    if "umap" in results:
        idx, emb = results["umap"]
        save(ap.plot_scatter(emb, title=f"UMAP ({idx.size} points)"), "umap.png")
    return written


def write_analysis(source, out_dir, *, plots: bool = True, plot_width: int = 1000,
                   progress=None, wait: float | None = 0.0, extra: dict | None = None,
                   **options) -> dict:
    """Analyse latents and write ``out_dir/summary.json`` plus PNG plots.

    Parameters
    ----------
    source : Workspace, Latents, ndarray, or path (``.npy`` file or workspace folder)
    out_dir : str or Path
        Written as one unit: an earlier analysis there is replaced only once the new one is
        complete; a folder that is not an analysis is refused.
    plots : bool, keyword-only
        Write the PNG plots (needs Qt; skipped with a warning when it cannot load).
    plot_width : int, keyword-only
    progress : ProgressReporter, optional, keyword-only
    wait : float or None, keyword-only
        Seconds to wait for another writer of ``out_dir`` (None: as long as it takes).
    extra : dict, optional, keyword-only
        Further entries of ``summary.json`` computed by the caller (``analyze --compare`` adds
        ``"comparison"``), written in the same unit.
    **options
        Passed to :func:`analyze_latents` (``bin_width``, ``kmeans``, ``tsne``, ...).

    Returns
    -------
    summary : dict
        As written; ``summary["plots"]`` lists the PNG files (relative to ``out_dir``) and
        ``summary["plots_skipped"]`` gives the reason when plots were not written.
    """
    out_dir = Path(out_dir)
    _check_replaceable_analysis(out_dir)  # before the work: a folder we may not replace fails now
    z, mu, logvar, attributes, names, origin = load_latents(source)
    # explicit options win over what the source provides
    given_mu, given_logvar = options.pop("mu", None), options.pop("logvar", None)
    if given_mu is not None or given_logvar is not None:
        mu, logvar = given_mu, given_logvar
    if options.get("attributes") is None:
        options["attributes"] = attributes
        options["attribute_names"] = options.get("attribute_names") or names
    summary, results = analyze_latents(z, mu=mu, logvar=logvar, progress=progress, **options)
    summary["source"] = origin
    summary.update(extra or {})
    # the folder is one unit: built aside, it replaces an earlier analysis only when complete
    with output_lock(out_dir).acquire(wait):
        _check_replaceable_analysis(out_dir)  # again: another writer may have finished meanwhile
        with atomic_directory(out_dir, overwrite=True) as tmp:
            _write_outputs(summary, results, tmp, plots=plots, plot_width=plot_width,
                           progress=progress)
    return summary


def _check_replaceable_analysis(out_dir: Path) -> None:
    """Only an earlier analysis (its summary.json has the analysis format) is ever replaced: never
    a sweep's folder, a workspace or a folder of the user's."""
    from .outputs import check_output

    check_output(out_dir, kind="folder")
    check_replaceable(out_dir, "summary.json", "an analysis folder", formats=(SUMMARY_FORMAT,),
                      legacy_keys=("n_points", "z_dim", "radius", "components"))


def _write_outputs(summary, results, out_dir: Path, *, plots, plot_width, progress) -> None:
    if "tsne" in results:
        idx, emb = results["tsne"]
        save_npy(out_dir / "tsne.npy", emb.astype(np.float32))
        save_npy(out_dir / "tsne_indices.npy", idx.astype(np.int64))
    if "umap" in results:
        idx, emb = results["umap"]
        save_npy(out_dir / "umap.npy", emb.astype(np.float32))
        save_npy(out_dir / "umap_indices.npy", idx.astype(np.int64))
    summary["plots"] = []
    if plots:
        try:
            from .gui import analysis_plots  # noqa: F401  (Qt/pyqtgraph import check)
        except Exception as exc:  # Qt missing or no platform plugin
            reason = f"Qt/pyqtgraph could not be loaded ({type(exc).__name__}: {exc})"
            warnings.warn(f"plots skipped: {reason}", stacklevel=2)
            summary["plots_skipped"] = reason
        else:
            if progress is not None:
                progress.raise_if_cancelled()
            summary["plots"] = _write_plots(summary, results, out_dir, width=plot_width)
    else:
        summary["plots_skipped"] = "disabled"
    write_json(out_dir / "summary.json", summary)
