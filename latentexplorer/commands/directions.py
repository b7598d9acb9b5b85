"""``latentexplorer directions``: latent directions, their entanglement report and a grid along each.

Methods: ``pca`` (principal axes of the z-points, GANSpace), ``sefa`` (closed-form directions of the
decoder's first Dense layer, SeFa), ``attribute`` (mean difference of an attribute's groups, scored
on held-out points; InterFaceGAN-style). ``--orthogonal-to NAME`` makes every direction orthogonal
to those attributes' directions; the report is then written before and after.

DIR holds ``directions.npy`` (k x z_dim float32), ``directions.json`` (names, method, scores,
decoder fingerprint), ``entanglement.json`` (cosines, attribute slopes per σ step) and one grid
``grid_NN_NAME.png`` + sidecar per direction (rows: the data mean, then seeded data points;
columns: the steps). The folder is one unit: it replaces an earlier directions folder only when
complete, never another folder. See docs/directions.md.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from ..analysis.directions import DIRECTIONS_FORMAT, METHODS
from ..errors import InvalidInputError
from ..inputs import printable
from . import _args

#: most directions one run draws a grid for (a grid each)
MAX_DIRECTIONS = 64


def register(subparsers) -> None:
    p = subparsers.add_parser("directions", help="latent directions (PCA, SeFa, attributes) with an "
                              "entanglement report and a grid along each", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workspace", metavar="WS", required=True, help="a trained and encoded workspace")
    p.add_argument("--method", choices=list(METHODS), required=True,
                   help="pca (GANSpace), sefa (decoder's first Dense layer) or attribute")
    p.add_argument("--attribute", metavar="NAME", nargs="+", action="extend", default=[],
                   help="attribute: the attributes whose directions are wanted")
    p.add_argument("--orthogonal-to", metavar="NAME", nargs="+", action="extend", default=[],
                   help="make every direction orthogonal to these attributes' directions")
    p.add_argument("--count", type=_args.integer(1, MAX_DIRECTIONS), default=6,
                   help="pca / sefa: number of directions (default: %(default)s)")
    p.add_argument("--measure", metavar="NAME", nargs="+", action="extend", default=[],
                   help="attributes whose change the report measures (default: the named ones; "
                        "for pca / sefa without names: all)")
    p.add_argument("--steps", type=_args.integer(2, 101), default=7,
                   help="steps along each direction, grid columns (default: %(default)s)")
    p.add_argument("--range", type=_args.number(0.0, 100.0, lo_open=True), default=2.0,
                   help="steps run from -R to +R standard deviations of the data (default 2)")
    p.add_argument("--rows", type=_args.integer(1, 20), default=3,
                   help="grid rows: the data mean, then seeded data points (default: %(default)s)")
    p.add_argument("--neighbors", type=_args.integer(1, 1000), default=10,
                   help="nearest data points averaged per moved vector (default: %(default)s)")
    p.add_argument("--starts", type=_args.integer(1, 10_000), default=32,
                   help="data points moved along each direction for the report (default: %(default)s)")
    p.add_argument("--seed", type=_args.seed, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--sharpen", type=_args.number(0.0, 100.0), default=0.0,
                   help="PIL sharpness factor of the grids; 0 = no processing (default)")
    p.add_argument("--scale", type=_args.integer(1, 16), default=1,
                   help="integer enlargement of each tile, 1 to 16 (default 1)")
    _args.add_wait(p)
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    p.set_defaults(handler=run)


def _check_out(out: Path) -> None:
    """Only an earlier directions folder (or an empty one) is ever replaced."""
    from ..fileio import check_replaceable
    from ..outputs import check_output

    check_output(out, kind="folder")
    check_replaceable(out, "directions.json", "a directions folder", formats=(DIRECTIONS_FORMAT,))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40] or "direction"


def _attributes(ws, n: int):
    """(labels (n, a), names) of the workspace's store, or (None, []) without attributes."""
    store = ws.dataset()
    if store.attributes is None or store.n != n:
        return None, []
    return store.attributes, list(store.attribute_names)


def _check_names(args, names: list[str]) -> list[str]:
    """Refuse unknown attribute names before any work; the attributes the report measures."""
    known = set(names)
    for option, values in (("--attribute", args.attribute), ("--orthogonal-to", args.orthogonal_to),
                           ("--measure", args.measure)):
        bad = [v for v in values if v not in known]
        if bad:
            raise InvalidInputError(f"{option} {printable(bad[0])}: unknown attribute; known: "
                                    f"{', '.join(names) or 'none (the store has no attributes)'}")
    if args.method == "attribute" and not args.attribute:
        raise InvalidInputError("--method attribute: name the attributes with --attribute NAME ... "
                                f"(known: {', '.join(names) or 'none'})")
    if args.method != "attribute" and args.attribute:
        raise InvalidInputError(f"--attribute goes with --method attribute (not {args.method}); "
                                "use --measure to choose what the report measures")
    if args.method == "attribute" and len(set(args.attribute)) > MAX_DIRECTIONS:
        raise InvalidInputError(f"--attribute: at most {MAX_DIRECTIONS} directions per run")
    measured = list(dict.fromkeys(args.measure or (args.attribute + args.orthogonal_to)))
    return measured or list(names)


def _nearest_index(z: np.ndarray):
    """The explorer's exact nearest-point index (its PCA bound for large sets)."""
    from ..analysis.pca import LatentPCA
    from ..explore.neighbors import PCA_CACHED_AXES, NearestIndex

    if z.shape[0] <= NearestIndex.BRUTE_FORCE_MAX:
        return NearestIndex(z)
    return NearestIndex(z, LatentPCA(n_components=min(PCA_CACHED_AXES, z.shape[1])).fit(z))


def run(args: argparse.Namespace) -> int:
    from ..analysis.directions import first_dense_kernel, make_directions
    from ..analysis.entanglement import ENTANGLEMENT_FORMAT, entanglement_report
    from ..explore.generate import GenerationContext
    from ..progress import TerminalProgress
    from ..workspace import Workspace

    out = Path(args.out)
    _check_out(out)
    ws = Workspace.open(args.workspace)
    n = ws.latents().n
    labels, names = _attributes(ws, n)
    measured = _check_names(args, names)
    ctx = GenerationContext.from_workspace(ws, warn=_args.warn)
    z = ctx.z
    kernel = first_dense_kernel(ctx.decoder.model) if args.method == "sefa" else None
    original, ortho = make_directions(
        args.method, z, count=args.count, select=list(dict.fromkeys(args.attribute)),
        orthogonal_to=list(dict.fromkeys(args.orthogonal_to)), attributes=labels,
        attribute_names=names, kernel=kernel, random_state=args.seed)
    final = ortho or original
    steps = np.linspace(-args.range, args.range, args.steps)
    cols = [names.index(a) for a in measured]
    attrs = labels[:, cols] if labels is not None else np.zeros((z.shape[0], 0), np.float32)
    progress = TerminalProgress("directions")
    options = dict(attribute_names=measured, steps=steps, n_starts=args.starts,
                   n_neighbors=args.neighbors, random_state=args.seed, progress=progress,
                   neighbors=_nearest_index(z))
    before = entanglement_report(z, original, attrs, **options)
    after = entanglement_report(z, ortho, attrs, **options) if ortho is not None else None
    report = {"format": ENTANGLEMENT_FORMAT, "before": before.to_dict(),
              "after": None if after is None else after.to_dict()}
    summary = {**final.to_dict(), "fingerprint": ctx.fingerprint, **ctx.provenance,
               "steps_sigma": steps.tolist(), "range": args.range, "seed": args.seed,
               "sigma": (after or before).sigma.tolist()}
    _write(out, args, ctx, final, original if ortho is not None else None, summary, report,
           (after or before).sigma, steps)
    print(("before orthogonalisation:\n" if after is not None else "") + before.format_table())
    if after is not None:
        print("after orthogonalisation:\n" + after.format_table())
    print(f"directions: {len(final)} {args.method} directions, entanglement.json and "
          f"{len(final)} grids -> {printable(out)}")
    return 0


def _write(out: Path, args, ctx, final, original, summary: dict, report: dict, sigma, steps) -> None:
    """The folder as one unit, under its output lock (like a sweep)."""
    from ..analysis.directions import direction_grid, grid_settings, grid_starts
    from ..fileio import atomic_directory, save_npy, write_json
    from ..locks import output_lock
    from ..render.images import save_grid

    starts = grid_starts(ctx.z, args.rows, random_state=args.seed)
    labels = final.labels()
    with output_lock(out).acquire(_args.wait_seconds(args)):
        _check_out(out)  # again: another writer may have finished meanwhile
        with atomic_directory(out, overwrite=True) as tmp:
            save_npy(tmp / "directions.npy", final.vectors.astype(np.float32))
            if original is not None:
                save_npy(tmp / "directions_original.npy", original.vectors.astype(np.float32))
            grids = []
            for i in range(len(final)):
                vectors = direction_grid(starts, final.vectors[i], sigma[i], steps)
                name = f"grid_{i + 1:02d}_{_slug(final.names[i])}.png"
                tile_labels = None
                if ctx.decoder.image_shape[1] * args.scale >= 48:  # room for "+1.5" (σ) under a tile
                    tile_labels = [f"{t:+.1f}" for t in steps] * len(starts)
                save_grid(tmp / name, ctx.decoder.decode(vectors), vectors, generator="direction",
                          settings=grid_settings(final, i, steps, sigma[i], len(starts), args.seed),
                          seed=args.seed, fingerprint=ctx.fingerprint, rows=len(starts),
                          cols=len(steps), labels=tile_labels, sharpen=args.sharpen,
                          scale=args.scale, staged=True, extra=dict(ctx.provenance))
                grids.append({"direction": labels[i], "grid": name})
            write_json(tmp / "entanglement.json", report)
            write_json(tmp / "directions.json", {**summary, "grids": grids})
