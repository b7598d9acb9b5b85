"""``latentexplorer export``: the latents for TensorBoard's Embedding Projector or as a Parquet table.

``--format projector`` writes tensor.tsv, metadata.tsv (file names and attributes), sprite.png
(thumbnails of the images) and projector_config.pbtxt: open it with ``tensorboard --logdir OUT``.
``--format parquet`` writes latents.parquet (index, file_name, z and z_0.., the attributes, PCA and
the t-SNE / UMAP of a saved analysis) for pandas and Embedding Atlas
(``embedding-atlas OUT/latents.parquet --x pca_1 --y pca_2``). See docs/interop.md.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from ..inputs import printable
from . import _args


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="latents for TensorBoard's projector or as a Parquet table",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workspace", "-w", type=Path, required=True, metavar="WS",
                   help="workspace with encoded latents")
    p.add_argument("--format", required=True, choices=["projector", "parquet"],
                   help="projector: TensorBoard's Embedding Projector files; parquet: latents.parquet")
    p.add_argument("--out", "-o", type=Path, metavar="DIR",
                   help="output folder (default: WS/results/FORMAT, or WS/results/FORMAT-NAME with "
                        "--set); an earlier export there is replaced, another folder is refused")
    p.add_argument("--set", metavar="NAME",
                   help="export the named latent set NAME (made by 'encode --data STORE --name NAME') "
                        "instead of the training latents")
    p.add_argument("--max-points", type=_args.integer(0, 10**9), default=None, metavar="N",
                   help="a random subset of at most this many points (0 = all; default: all for "
                        "parquet, 100000 for projector, the most TensorBoard's projector loads)")
    p.add_argument("--seed", type=_args.seed, default=0, help="random state of the subset (0)")
    p.add_argument("--analysis", type=Path, metavar="DIR",
                   help="parquet: the 'analyze' folder whose t-SNE / UMAP become columns (default: "
                        "WS/results/analysis when it analyses these latents)")
    _args.add_wait(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..explore.interop import PROJECTOR_MAX_POINTS, export_latents
    from ..progress import TerminalProgress
    from ..workspace import Workspace

    ws = Workspace.open(args.workspace)
    name = args.format + (f"-{args.set}" if args.set else "")
    out = args.out or Path(args.workspace) / "results" / name
    max_points = args.max_points
    if max_points is None:
        max_points = PROJECTOR_MAX_POINTS if args.format == "projector" else 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = export_latents(ws, out, args.format, set_name=args.set, max_points=max_points,
                                seed=args.seed, analysis=args.analysis,
                                progress=TerminalProgress("export"), wait=_args.wait_seconds(args))
    for w in caught:
        _args.warn(printable(w.message))
    for note in report.notes:  # every cap and every column left out (also in export.json)
        _args.warn(note)
    print(f"export: {report.n_points:,} points, z_dim {report.z_dim} -> {printable(out)} "
          f"({', '.join(report.files)})")
    if args.format == "projector":
        print(f"open with: tensorboard --logdir {printable(out)}")
    else:
        xy = " --x pca_1 --y pca_2" if "pca_2" in report.columns else ""
        print(f"open with: embedding-atlas {printable(Path(out) / 'latents.parquet')}{xy}")
    return 0
