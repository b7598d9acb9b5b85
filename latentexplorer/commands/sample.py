"""``latentexplorer sample`` and ``latentexplorer sweep``: generated z-vectors → decoded face grids.

``sample`` draws n vectors with one generator (fitted to the workspace's latents), decodes them,
writes ``GRID.png`` and the sidecar ``GRID.json`` (every z-vector, generator + settings, seed,
decoder fingerprint, face-likeness scores). ``sweep`` writes one grid per box half-width b
(uniform) or sigma (normal) and ``DIR/summary.json`` with radius and face-likeness per value —
the radius sweep of SPEC §5.7.

``--sharpen 0`` (default) means no post-processing; other values are PIL sharpness factors
(1 = unchanged, 3 … 7 as in the seeds).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..inputs import printable
from ..schemas import SWEEP_FORMAT
from . import _args

METHOD_CHOICES = ["uniform", "normal", "mvn", "ellipse", "grid"]
#: most images one grid may hold (10,000 tiles of 96 px are a 9600 x 9600 PNG; more only exhausts memory)
MAX_GRID_IMAGES = 10_000


def check_grid_n(n) -> int:
    """``n`` images for one grid: an integer in 1..MAX_GRID_IMAGES (checked before any model loads)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_GRID_IMAGES:
        raise InvalidInputError(f"n={n!r}: expected an integer from 1 to {MAX_GRID_IMAGES:,} images per grid")
    return int(n)


# --------------------------------------------------------------------------- library-level helpers

def sampler_params(method: str, *, b=None, sigma=None, center=None, n_comp=None, sigma_level=None,
                   fact=None, truncate=None, points_per_axis=None, z_dim: int | None = None) -> dict:
    """The parameters relevant to ``method`` (others ignored); ``n_comp`` defaults to min(100, z_dim)."""
    if method == "uniform":
        return {"b": 1.5 if b is None else b}
    if method == "normal":
        return {"sigma": 1.0 if sigma is None else sigma, "center": bool(center)}
    if method == "mvn":
        return {"truncate": truncate}
    if method == "ellipse":
        if n_comp is None:
            n_comp = 100 if z_dim is None else min(100, z_dim)
        return {"n_comp": n_comp, "sigma_level": 2.35 if sigma_level is None else sigma_level,
                "fact": 0.7 if fact is None else fact}
    if method == "grid":
        return {"b": 1.5 if b is None else b, "points_per_axis": 3 if points_per_axis is None else points_per_axis}
    raise InvalidInputError(f"method: unknown generator {method!r}; choose one of {', '.join(METHOD_CHOICES)}")


def build_scorer(ws, decoder=None, *, z=None, n_train: int = 2000, n_reference: int = 200,
                 k: float = 3.0, seed: int = 0, snapshot=None):
    """A :class:`~latentexplorer.render.facelikeness.FaceLikenessScorer` for a workspace
    (its decoder, encoder, latents, training images and per-component mu / half-width)."""
    from ..analysis.statistics import component_stats
    from ..render.decode import Decoder, Encoder
    from ..render.facelikeness import FaceLikenessScorer

    snapshot = snapshot or ws.snapshot()
    z = ws.latents().z if z is None else z
    stats = component_stats(z)
    decoder = decoder if decoder is not None else Decoder(ws.load_decoder(snapshot))
    encoder = Encoder(ws.load_encoder(snapshot))
    return FaceLikenessScorer(decoder, encoder, z, ws.dataset().images, n_train=n_train,
                              n_reference=n_reference, mu=stats.mu, half_width=stats.half_width,
                              k=k, seed=seed)


@dataclass
class SampleResult:
    """What :func:`sample_to_grid` wrote and the face-likeness summary."""

    png: Path
    sidecar: Path
    method: str
    params: dict
    radius_mean: float
    scores: dict | None

    def __str__(self) -> str:
        text = f"{self.method} {self.params}: radius {self.radius_mean:.2f}"
        if self.scores:
            s = self.scores
            text += (f", face score {s['face_score_mean']:.2f}, cycle x{s['cycle_ratio_median']:.2f}, "
                     f"nn x{s['nn_ratio_median']:.2f}")
            if "all_hit_rate" in s:
                text += f", hit {s['all_hit_rate']:.0%}"
        return text


class _Context:
    """Workspace things loaded once and shared by several grids."""

    def __init__(self, ws, *, scores: bool = True) -> None:
        from ..render.decode import Decoder
        from ..render.images import weights_fingerprint

        self.ws = ws
        snapshot = ws.snapshot()  # everything below comes from this one committed epoch
        latents = ws.latents()
        staleness = ws.staleness(latents)
        if staleness.stale:
            _args.warn(f"{printable(ws.path)}: {staleness.message}")
        self.z = latents.z
        keras_decoder = ws.load_decoder(snapshot)
        self.fingerprint = weights_fingerprint(keras_decoder)
        self.decoder = Decoder(keras_decoder)
        self.scorer = build_scorer(ws, self.decoder, z=self.z, snapshot=snapshot) if scores else None
        self.kind = ws.model_config.kind
        self.provenance = {
            "workspace": str(Path(ws.path).resolve()), "model_kind": self.kind,
            "model_epoch": snapshot.epoch,
            "latents": {"fingerprint": latents.fingerprint, "epoch": latents.meta.epoch,
                        "stale": staleness.message if staleness.stale else None}}


def _write_grid(ctx: _Context, method: str, params: dict, *, n: int, seed: int, out: Path,
                sharpen: float = 0, cols: int | None = None, scale: int = 1,
                staged: bool = False) -> SampleResult:
    from ..render.images import save_grid
    from ..sampling.generators import make_sampler

    out = Path(out)
    sampler = make_sampler(method, **params).fit(ctx.z)
    z = sampler.sample(n, np.random.default_rng(seed))
    images = ctx.decoder.decode(z)
    scores = None
    if ctx.scorer is not None:
        fl = ctx.scorer.score(z, images)
        scores = fl.to_dict()
    radius = np.linalg.norm(z.astype(np.float64), axis=1)
    cols = min(n, cols) if cols else None
    sidecar = save_grid(out, images, z, generator=sampler.name, settings=sampler.params(), seed=seed,
                        fingerprint=ctx.fingerprint, scores=scores, cols=cols, sharpen=sharpen, scale=scale,
                        extra={**ctx.provenance,
                               "radius": {"mean": float(radius.mean()), "std": float(radius.std())}},
                        staged=staged)
    return SampleResult(out, sidecar, sampler.name, sampler.params(), float(radius.mean()),
                        None if scores is None else scores["summary"])


_CONTEXT_CACHE: dict = {}


def _context(ws, scores: bool) -> _Context:
    """The last context, reused while the same workspace, model and latents are asked for
    (several grids in a row load the decoder and build the scorer once)."""
    meta = ws.latent_set().meta()
    key = (str(Path(ws.path).resolve()), ws.model_fingerprint(), meta and meta.dir, scores)
    ctx = _CONTEXT_CACHE.get(key)
    if ctx is None:
        _CONTEXT_CACHE.clear()
        ctx = _CONTEXT_CACHE[key] = _Context(ws, scores=scores)
    return ctx


def sample_to_grid(ws, method: str, params: dict, n: int = 28, seed: int = 0, *, out, sharpen: float = 0,
                   cols: int | None = 7, scale: int = 1, scores: bool = True,
                   wait: float | None = 0.0) -> SampleResult:
    """Sample ``n`` vectors with ``method`` / ``params`` (e.g. ``{"b": 1.5}``, ``{"n_comp": 100,
    "sigma_level": 2.35, "fact": 0.7}``), decode them and write ``out`` (.png) + sidecar, under the
    output's lock (``wait`` seconds for another writer)."""
    from ..locks import folder_lock
    from ..sampling.generators import make_sampler

    n = check_grid_n(n)
    make_sampler(method, **params)  # unknown method / parameter: fail before loading the model
    with folder_lock(Path(out).parent).acquire(wait):
        ctx = _context(ws, scores)
        return _write_grid(ctx, method, params, n=n, seed=seed, out=Path(out), sharpen=sharpen,
                           cols=cols, scale=scale)


def _radius_theory(method: str, value: float, z_dim: int) -> float:
    if method == "uniform":
        return value * math.sqrt(z_dim / 3.0)
    return value * math.sqrt(z_dim - 0.5)


def radius_sweep(ws, method: str, values, *, n: int = 14, seed: int = 0, out_dir, sharpen: float = 0,
                 cols: int | None = 7, scale: int = 1, scores: bool = True,
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
    if not values:
        raise InvalidInputError("sweep: no values given")
    n = check_grid_n(n)
    bad = [v for v in values if not (math.isfinite(v) and v > 0)]
    if bad:
        what = "b (box half-width)" if method == "uniform" else "sigma"
        raise InvalidInputError(f"sweep: {what} must be positive finite numbers, got {bad}")
    out_dir = Path(out_dir)
    with output_lock(out_dir).acquire(wait):
        _check_replaceable_sweep(out_dir)
        ctx = _context(ws, scores)
        key = "b" if method == "uniform" else "sigma"
        data_r = np.linalg.norm(ctx.z.astype(np.float64), axis=1)
        entries = []
        with atomic_directory(out_dir, overwrite=True) as tmp:
            for v in values:
                name = f"sweep_{method}_{key}{v:g}.png"
                res = _write_grid(ctx, method, {key: v}, n=n, seed=seed, out=tmp / name,
                                  sharpen=sharpen, cols=cols, scale=scale, staged=True)
                entries.append({key: v, "grid": name, "radius_mean": res.radius_mean,
                                "radius_theory_mean": _radius_theory(method, v, ctx.z.shape[1]),
                                "face_likeness": res.scores})
                print(f"  {res}")
            summary = {"format": SWEEP_FORMAT, "method": method, "parameter": key, "n": n,
                       "seed": seed, "z_dim": int(ctx.z.shape[1]), "fingerprint": ctx.fingerprint,
                       **ctx.provenance,
                       "data_radius": {"mean": float(data_r.mean()),
                                       "p01": float(np.percentile(data_r, 1)),
                                       "p99": float(np.percentile(data_r, 99))},
                       "entries": entries}
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
    p.add_argument("--no-scores", action="store_true", help="skip the face-likeness scores (faster)")
    _args.add_wait(p)


def _open(path):
    from ..workspace import Workspace

    return Workspace.open(path)


def run_sample(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() != ".png":
        raise InvalidInputError(f"--out {printable(args.out)}: the grid file must end in .png")
    ws = _open(args.workspace)
    params = sampler_params(args.method, b=args.b, sigma=args.sigma, center=args.center, n_comp=args.n_comp,
                            sigma_level=args.sigma_level, fact=args.fact, truncate=args.truncate,
                            points_per_axis=args.points_per_axis, z_dim=ws.model_config.z_dim)
    res = sample_to_grid(ws, args.method, params, n=args.n, seed=args.seed, out=args.out,
                         sharpen=args.sharpen, cols=args.cols, scale=args.scale, scores=not args.no_scores,
                         wait=_args.wait_seconds(args))
    print(f"sample: {res}")
    print(f"sample: {args.n} images -> {printable(res.png)} (+ {printable(res.sidecar.name)})")
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    ws = _open(args.workspace)
    values = args.b if args.method == "uniform" else args.sigma
    print(f"sweep: {args.method} over {values}")
    summary = radius_sweep(ws, args.method, values, n=args.n, seed=args.seed, out_dir=args.out,
                           sharpen=args.sharpen, cols=args.cols, scale=args.scale, scores=not args.no_scores,
                           wait=_args.wait_seconds(args))
    print(f"sweep: {len(summary['entries'])} grids + summary.json -> {printable(args.out)}")
    return 0
