"""``latentexplorer encode --workspace WS``: latent vectors of every dataset image into WS/latents.

With ``--data STORE --name NAME`` the images of another prepared store (held-out photos, a user's
own pictures) are encoded into the named set ``WS/latent_sets/NAME`` instead; the training latents
are not touched. The explorer shows named sets as extra layers and ``analyze --compare NAME``
compares them with the training set.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import _args


def register(subparsers) -> None:
    p = subparsers.add_parser("encode", help="encode the workspace's dataset (or another store) into latent vectors",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workspace", metavar="WS", required=True, help="a trained workspace")
    p.add_argument("--data", type=Path, metavar="STORE", default=None,
                   help="another prepared store of the model's image size (needs --name)")
    p.add_argument("--name", default=None, metavar="NAME",
                   help="the named latent set to write (WS/latent_sets/NAME; needs --data)")
    p.add_argument("--batch-size", type=_args.batch_size, default=256, help="default: %(default)s")
    _args.add_wait(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..progress import TerminalProgress
    from ..workspace import Workspace

    from ..data.store import DatasetStore
    from ..errors import InvalidInputError
    from ..inputs import printable
    from ..workspace import check_set_name

    if (args.data is None) != (args.name is None):
        raise InvalidInputError("--data and --name go together: --data STORE --name NAME encodes "
                                "another store into the named set NAME")
    if args.name is not None:
        check_set_name(args.name)
    ws = Workspace.open(args.workspace)
    store = None
    if args.data is not None:
        store = DatasetStore.open(args.data)
        size = ws.model_config.image_size
        if store.size != size:
            raise InvalidInputError(f"{printable(store.path)}: images are {store.size}x{store.size} px, the "
                                    f"model takes {size}x{size} (prepare them with --size {size})")
    t0 = time.perf_counter()
    lat = ws.encode(batch_size=args.batch_size, progress=TerminalProgress("encode"),
                    wait=_args.wait_seconds(args), data=store, name=args.name)
    seconds = time.perf_counter() - t0
    extra = " (+ mu, logvar)" if lat.logvar is not None else ""
    where = ws.latent_set(args.name).root if args.name else ws.latents_dir
    print(f"encode: {lat.n} images -> z {lat.z.shape}{extra} in {printable(where)}; "
          f"{seconds:.1f} s ({lat.n / max(seconds, 1e-9):.0f} img/s)")
    return 0
