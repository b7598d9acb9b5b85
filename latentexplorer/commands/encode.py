"""``latentexplorer encode --workspace WS``: latent vectors of every dataset image into WS/latents."""

from __future__ import annotations

import argparse
import time

from . import _args


def register(subparsers) -> None:
    p = subparsers.add_parser("encode", help="encode the workspace's dataset into latent vectors",
                              description=__doc__)
    p.add_argument("--workspace", metavar="WS", required=True, help="a trained workspace")
    p.add_argument("--batch-size", type=_args.batch_size, default=256, help="default: %(default)s")
    _args.add_wait(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..progress import TerminalProgress
    from ..workspace import Workspace

    ws = Workspace.open(args.workspace)
    t0 = time.perf_counter()
    lat = ws.encode(batch_size=args.batch_size, progress=TerminalProgress("encode"),
                    wait=_args.wait_seconds(args))
    seconds = time.perf_counter() - t0
    extra = " (+ mu, logvar)" if lat.logvar is not None else ""
    print(f"encode: {lat.n} images -> z {lat.z.shape}{extra} in {ws.latents_dir}; "
          f"{seconds:.1f} s ({lat.n / max(seconds, 1e-9):.0f} img/s)")
    return 0
