"""``latentexplorer analyze``: latent-space statistics → summary.json + PNG plots (SPEC §4)."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from ..errors import InvalidInputError
from ..inputs import printable
from . import _args


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "analyze", help="statistics of the latent vectors (summary.json + plots)",
        description="Component distributions, dominant components, radius distribution, "
                    "correlations, PCA (and optionally KMeans inertia and t-SNE) of the "
                    "encoded latent vectors. Writes OUT/summary.json and PNG plots.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--workspace", "-w", type=Path, help="workspace folder with encoded latents")
    src.add_argument("--latents", type=Path, metavar="FILE.npy",
                     help="a bare (n_points, z_dim) array instead of a workspace")
    p.add_argument("--out", "-o", type=Path,
                   help="output folder (default: WS/results/analysis with --workspace)")
    p.add_argument("--mu", type=Path, metavar="FILE.npy", help="VAE mu (with --latents)")
    p.add_argument("--logvar", type=Path, metavar="FILE.npy", help="VAE logvar (with --latents)")
    p.add_argument("--attributes", type=Path, metavar="FILE.npy",
                   help="(n_points, n_attributes) labels (with --latents)")
    p.add_argument("--bin-width", type=_args.number(0.001, 100.0), default=0.25,
                   help="component histogram bin (0.25)")
    p.add_argument("--radius-bin-width", type=_args.number(0.001, 100.0), default=0.5,
                   help="radius bin (0.5)")
    p.add_argument("--mu-threshold", type=_args.nonnegative, default=0.25,
                   help="dominant if |mu| >= this (0.25)")
    p.add_argument("--hw-threshold", type=_args.nonnegative, default=1.5,
                   help="dominant if half-width >= this (1.5)")
    p.add_argument("--pair-threshold", type=_args.number(0.0, 1.0), default=0.5,
                   help="list correlated pairs with |r| above this (0.5)")
    p.add_argument("--kmeans", action="store_true", help="also the KMeans inertia curve k=2..80")
    p.add_argument("--kmeans-max-points", type=_args.integer(0, 10**9), default=0,
                   help="random subset for KMeans (default 0 = all points: the curve is fitted "
                        "on 20,000 and evaluated on all, about 36 s for 200,000)")
    p.add_argument("--tsne", action="store_true", help="also a t-SNE embedding (openTSNE)")
    p.add_argument("--tsne-max-points", type=_args.integer(0, 10**9), default=20_000,
                   help="random subset for t-SNE (default 20000; 0 = all)")
    p.add_argument("--umap", action="store_true",
                   help="also a UMAP embedding (umap-learn) of every point (umap.npy, umap.png)")
    p.add_argument("--umap-max-points", type=_args.integer(0, 10**9), default=0,
                   help="random subset for UMAP (default 0 = all)")
    p.add_argument("--compare", metavar="NAME",
                   help="also compare the training latents with the named set NAME (made by "
                        "'encode --data STORE --name NAME'): radius, Mahalanobis distance to the "
                        "training cloud, and MTCNN face rates of originals and reconstructions")
    p.add_argument("--no-plots", action="store_true", help="write summary.json only")
    p.add_argument("--seed", type=_args.seed, default=0, help="random state (subsets, KMeans, t-SNE)")
    _args.add_wait(p)
    p.set_defaults(handler=run)


def _load_optional(path, *, rows: int, z_dim: int | None, kinds: str = "f", finite: bool = True):
    if path is None:
        return None
    from ..inputs import load_npy
    return load_npy(path, mmap=True, kinds=kinds, shape=(rows, z_dim), finite=finite)


def run(args: argparse.Namespace) -> int:
    from ..reports import write_analysis
    from ..progress import TerminalProgress

    if args.workspace is not None:
        if any(v is not None for v in (args.mu, args.logvar, args.attributes)):
            raise InvalidInputError("--mu/--logvar/--attributes go with --latents; a workspace "
                                    "provides its own")
        from ..workspace import Workspace

        source = Workspace.open(args.workspace)
        out = args.out or Path(args.workspace) / "results" / "analysis"
    else:
        if args.compare is not None:
            raise InvalidInputError("--compare needs --workspace (the named set lives in one)")
        source = args.latents
        if args.out is None:
            raise InvalidInputError("--out: an output folder is needed with --latents")
        out = args.out
    options = dict(bin_width=args.bin_width, radius_bin_width=args.radius_bin_width,
                   mu_threshold=args.mu_threshold, hw_threshold=args.hw_threshold,
                   pair_threshold=args.pair_threshold, kmeans=args.kmeans, tsne=args.tsne,
                   kmeans_max_points=args.kmeans_max_points or None,
                   tsne_max_points=args.tsne_max_points or None, umap=args.umap,
                   umap_max_points=args.umap_max_points or None, random_state=args.seed)
    if args.latents is not None:
        from ..analysis.report import load_latents
        z = load_latents(args.latents)[0]
        mu = _load_optional(args.mu, rows=z.shape[0], z_dim=z.shape[1])
        logvar = _load_optional(args.logvar, rows=z.shape[0], z_dim=z.shape[1])
        attrs = _load_optional(args.attributes, rows=z.shape[0], z_dim=None, kinds="fiub",
                               finite=False)
        source = z
        options.update(mu=mu, logvar=logvar, attributes=attrs)
    progress = TerminalProgress("analyze")
    extra = None
    if args.compare is not None:
        from ..explore.compare import compare_sets
        from ..workspace.latents import check_set_name

        check_set_name(args.compare, "--compare")
        extra = {"comparison": compare_sets(source, args.compare, seed=args.seed,
                                            progress=progress)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = write_analysis(source, out, plots=not args.no_plots, progress=progress,
                                 wait=_args.wait_seconds(args), extra=extra, **options)
    for w in caught:
        _args.warn(printable(w.message))
    rad = summary["radius"]
    corr = summary["correlation"]
    print(f"{summary['n_points']} points, z_dim {summary['z_dim']}: radius peak "
          f"{rad['peak']:.2f} (mean {rad['mean']:.2f}, p01 {rad['p01']:.2f}, "
          f"p99 {rad['p99']:.2f}); {len(summary['dominant'])} dominant components; "
          f"pairs |r|>0.1: {corr['counts_over'].get('0.1')}, >0.5: "
          f"{corr['counts_over'].get('0.5')}")
    if extra is not None:
        from ..explore.compare import format_comparison

        for line in format_comparison(extra["comparison"]):
            print(line)
    print(f"wrote {printable(Path(out) / 'summary.json')}"
          + (f" and {len(summary['plots'])} plots" if summary.get("plots") else ""))
    return 0
