"""``latentexplorer synth``: write the embedded synthetic face dataset (works offline)."""

from __future__ import annotations

import argparse
import time

from ..progress import TerminalProgress
from . import _args


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synth", help="generate the synthetic face dataset (offline default)",
        description="Generate procedural colour face images with their factor values as attributes "
                    "into a dataset store (deterministic for a seed).")
    p.add_argument("--out", required=True, help="output store folder (must not exist unless --overwrite)")
    p.add_argument("-n", "--count", dest="n", type=_args.count, default=20000,
                   help="number of images (default 20000)")
    p.add_argument("--size", type=_args.integer(16, 2048), default=96,
                   help="image side in pixels, 16 to 2048 (default 96)")
    p.add_argument("--seed", type=_args.seed, default=0, help="dataset seed, >= 0 (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store at --out")
    _args.add_wait(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..data.synth import write_synthetic_store  # lazy: keeps `--help` fast

    t0 = time.monotonic()
    store = write_synthetic_store(args.out, n=args.n, size=args.size, seed=args.seed,
                                  progress=TerminalProgress("synth"), overwrite=args.overwrite,
                                  wait=_args.wait_seconds(args))
    print(f"synth: {store.n} images {store.size}x{store.size} in {time.monotonic() - t0:.1f} s "
          f"-> {store.path}")
    return 0
