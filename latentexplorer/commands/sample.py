"""``latentexplorer sample`` and ``latentexplorer sweep``: generated z-vectors → decoded face grids.

``sample`` draws n vectors with one generator (fitted to the workspace's latents), decodes them,
writes ``GRID.png`` and the sidecar ``GRID.json`` (every z-vector, generator + settings, seed,
decoder fingerprint, scores) and prints the generator's scoreboard line: face-detector rates
(MTCNN, Haar) with 95 % intervals, variety and precision/recall/density/coverage against held-out
photos, re-encode ratio, closeness to the data, radius. ``sweep`` writes one grid per box
half-width b (uniform) or sigma (normal) and ``DIR/summary.json`` with the scoreboard per value —
the radius sweep of SPEC §5.7.

``--sharpen 0`` (default) means no post-processing; other values are PIL sharpness factors
(1 = unchanged, 3 … 7 as in the seeds).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInputError
from ..explore.generate import (MAX_GRID_IMAGES, METHODS, GenerationContext, GeneratorSpec, generate,
                                write_grid)
from ..inputs import printable
from ..schemas import SWEEP_FORMAT
from . import _args

METHOD_CHOICES = list(METHODS)


@dataclass
class SampleResult:
    """What :func:`sample_to_grid` wrote, with the set's scoreboard entry."""

    png: Path
    sidecar: Path
    scoreboard: dict

    @property
    def radius_mean(self) -> float:
        return self.scoreboard["radius_mean"]

    def __str__(self) -> str:
        from ..explore.scoreboard import format_entry

        return format_entry(self.scoreboard)


def _write(ctx: GenerationContext, spec: GeneratorSpec, out: Path, *, sharpen: float, cols, scale: int,
           scores: bool, staged: bool = False) -> SampleResult:
    gen = generate(spec, ctx, score=scores)
    sidecar = write_grid(gen, ctx, out, sharpen=sharpen, cols=cols, scale=scale, staged=staged)
    return SampleResult(Path(out), sidecar, gen.scoreboard())


def sample_to_grid(ctx: GenerationContext, spec: GeneratorSpec, *, out, sharpen: float = 0,
                   cols: int | None = 7, scale: int = 1, scores: bool = True,
                   wait: float | None = 0.0) -> SampleResult:
    """Sample, decode and score ``spec`` and write ``out`` (.png) + sidecar under the output
    folder's lock (``wait`` seconds for another writer)."""
    from ..locks import folder_lock

    if spec.n > MAX_GRID_IMAGES:
        raise InvalidInputError(f"n={spec.n}: expected an integer from 1 to {MAX_GRID_IMAGES:,} images per grid")
    with folder_lock(Path(out).parent).acquire(wait):
        return _write(ctx, spec, Path(out), sharpen=sharpen, cols=cols, scale=scale, scores=scores)


def _radius_theory(method: str, value: float, z_dim: int) -> float:
    if method == "uniform":
        return value * math.sqrt(z_dim / 3.0)
    return value * math.sqrt(z_dim - 0.5)


def radius_sweep(ctx: GenerationContext, method: str, values, *, n: int = 14, seed: int = 0, out_dir,
                 sharpen: float = 0, cols: int | None = 7, scale: int = 1, scores: bool = True,
                 wait: float | None = 0.0) -> dict:
    """One grid per value (uniform: b; normal: sigma) in ``out_dir`` and ``out_dir/summary.json``.

    The folder is one unit: it is built under a temporary name and replaces an earlier sweep only
    when complete (an interrupted sweep leaves the earlier one); a folder that is not a sweep is
    never replaced.
    """
    from ..fileio import atomic_directory, write_json
    from ..locks import output_lock

    if method not in ("uniform", "normal"):
        raise InvalidInputError(f"sweep: method must be uniform (over b) or normal (over sigma), got {method!r}")
    values = [float(v) for v in values]
    bad = [v for v in values if not (math.isfinite(v) and v > 0)]
    if not values or bad:
        what = "b (box half-width)" if method == "uniform" else "sigma"
        raise InvalidInputError(f"sweep: {what} must be positive finite numbers, got {bad or values}")
    out_dir = Path(out_dir)
    key = "b" if method == "uniform" else "sigma"
    with output_lock(out_dir).acquire(wait):
        _check_replaceable_sweep(out_dir)
        entries = []
        with atomic_directory(out_dir, overwrite=True) as tmp:
            for v in values:
                name = f"sweep_{method}_{key}{v:g}.png"
                res = _write(ctx, GeneratorSpec.of(method, n, seed, **{key: v}), tmp / name,
                             sharpen=sharpen, cols=cols, scale=scale, scores=scores, staged=True)
                entries.append({key: v, "grid": name, "radius_mean": res.radius_mean,
                                "radius_theory_mean": _radius_theory(method, v, ctx.z.shape[1]),
                                "scoreboard": res.scoreboard})
                print(f"  {res}")
            summary = {"format": SWEEP_FORMAT, "method": method, "parameter": key, "n": n,
                       "seed": seed, "z_dim": int(ctx.z.shape[1]), "fingerprint": ctx.fingerprint,
                       **ctx.provenance,
                       "data_radius": ctx.data_radius, "entries": entries}
            write_json(tmp / "summary.json", summary)
    return summary


def _check_replaceable_sweep(out_dir: Path) -> None:
    """An existing ``out_dir`` may be replaced only if it is empty or an earlier sweep."""
    from ..fileio import check_replaceable
    from ..inputs import read_json
    from ..schemas import SweepSummary

    check_replaceable(out_dir, "summary.json", "a sweep folder")
    if (out_dir / "summary.json").is_file():
        read_json(out_dir / "summary.json", SweepSummary)  # someone else's summary.json: refuse


# --------------------------------------------------------------------------- CLI

def _float_list(text: str) -> list[float]:
    """Comma-separated positive finite numbers (at most 100 of them: one grid each)."""
    values = [_args.positive(x.strip()) for x in text.split(",") if x.strip()]
    if not 1 <= len(values) <= 100:
        raise argparse.ArgumentTypeError(f"expected 1 to 100 comma-separated numbers, got {text!r}")
    return values


def register(subparsers) -> None:
    p = subparsers.add_parser("sample", help="sample z-vectors with a generator and export a decoded grid",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workspace", metavar="WS", required=True, help="a trained and encoded workspace")
    p.add_argument("--method", choices=METHOD_CHOICES, default="ellipse",
                   help="generator (default: %(default)s; grid only demonstrates why it is impossible)")
    p.add_argument("-n", type=_args.integer(1, MAX_GRID_IMAGES), default=28,
                   help="number of vectors (default: %(default)s)")
    p.add_argument("--b", type=_args.positive, default=None, help="uniform/grid: box half-width (default 1.5)")
    p.add_argument("--sigma", type=_args.positive, default=None,
                   help="normal: standard deviation (default 1.0)")
    p.add_argument("--center", action="store_true", help="normal: centre on the data mean instead of 0")
    p.add_argument("--n-comp", type=_args.z_dim, default=None,
                   help="ellipse: kept PCA components (default min(100, z_dim))")
    p.add_argument("--sigma-level", type=_args.positive, default=None,
                   help="ellipse: half-axes in sigma (default 2.35)")
    p.add_argument("--fact", type=_args.positive, default=None,
                   help="ellipse: scale of the ellipses (default 0.7)")
    p.add_argument("--truncate", type=_args.positive, default=None,
                   help="mvn: Mahalanobis radius limit (default none)")
    p.add_argument("--points-per-axis", type=_args.integer(1, 100), default=None,
                   help="grid: values per axis (default 3)")
    _common(p)
    p.add_argument("--out", type=Path, required=True, metavar="GRID.png",
                   help="grid image; the sidecar GRID.json is written next to it")
    p.set_defaults(handler=run_sample)

    s = subparsers.add_parser("sweep", help="radius sweep: one grid per box half-width b (or sigma)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--workspace", metavar="WS", required=True, help="a trained and encoded workspace")
    s.add_argument("--method", choices=["uniform", "normal"], default="uniform",
                   help="uniform sweeps --b, normal sweeps --sigma (default: %(default)s)")
    s.add_argument("--b", type=_float_list, default=[0.5, 1, 1.5, 2, 3, 5, 8],
                   help="comma-separated half-widths (default 0.5,1,1.5,2,3,5,8)")
    s.add_argument("--sigma", type=_float_list, default=[0.5, 1, 1.5, 2, 3],
                   help="comma-separated sigmas for --method normal (default 0.5,1,1.5,2,3)")
    s.add_argument("-n", type=_args.integer(1, MAX_GRID_IMAGES), default=14,
                   help="vectors per grid (default: %(default)s)")
    _common(s)
    s.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    s.set_defaults(handler=run_sweep)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=_args.seed, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--sharpen", type=_args.number(0.0, 100.0), default=0.0,
                   help="PIL sharpness factor; 0 = no processing (default), 1 = unchanged, 3-7 sharpen")
    p.add_argument("--cols", type=_args.integer(1, 1000), default=7,
                   help="grid columns (default: %(default)s)")
    p.add_argument("--scale", type=_args.integer(1, 16), default=1,
                   help="integer enlargement of each tile, 1 to 16 (default 1)")
    p.add_argument("--no-scores", action="store_true",
                   help="skip the scoreboard (face detectors, variety, coverage, closeness; faster)")
    _args.add_wait(p)


def _context(path) -> GenerationContext:
    from ..workspace import Workspace

    return GenerationContext.from_workspace(Workspace.open(path), warn=_args.warn)


def run_sample(args: argparse.Namespace) -> int:
    from ..workspace import Workspace

    if args.out.suffix.lower() != ".png":
        raise InvalidInputError(f"--out {printable(args.out)}: the grid file must end in .png")
    z_dim = Workspace.open(args.workspace).model_config.z_dim
    spec = GeneratorSpec.of(args.method, args.n, args.seed, z_dim=z_dim, b=args.b, sigma=args.sigma,
                            center=args.center, n_comp=args.n_comp, sigma_level=args.sigma_level,
                            fact=args.fact, truncate=args.truncate, points_per_axis=args.points_per_axis)
    res = sample_to_grid(_context(args.workspace), spec, out=args.out, sharpen=args.sharpen,
                         cols=args.cols, scale=args.scale, scores=not args.no_scores,
                         wait=_args.wait_seconds(args))
    print(f"sample: {res}")
    print(f"sample: {args.n} images -> {printable(res.png)} (+ {printable(res.sidecar.name)})")
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    values = args.b if args.method == "uniform" else args.sigma
    print(f"sweep: {args.method} over {values}")
    summary = radius_sweep(_context(args.workspace), args.method, values, n=args.n, seed=args.seed, out_dir=args.out,
                           sharpen=args.sharpen, cols=args.cols, scale=args.scale, scores=not args.no_scores,
                           wait=_args.wait_seconds(args))
    print(f"sweep: {len(summary['entries'])} grids + summary.json -> {printable(args.out)}")
    return 0
