"""``latentexplorer reconstruct``: originals and their reconstructions as ``GRID.png`` + ``GRID.json``.

Any trained workspace: ``-n`` images of its dataset's test split (or ``--split train|all``, or the
images of another prepared store with ``--data``) are encoded and decoded with the committed
epoch; the grid shows each row of originals above its reconstructions. MTCNN and Haar judge both
sets (``--no-scores`` skips that); the sidecar holds the encodings, the image indices and the scores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InvalidInputError
from ..inputs import printable
from . import _args


def register(subparsers) -> None:
    p = subparsers.add_parser("reconstruct", help="originals above their reconstructions (any model)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workspace", metavar="WS", required=True, help="a trained workspace")
    p.add_argument("--data", type=Path, metavar="STORE", default=None,
                   help="another prepared store of the model's image size (default: the workspace's)")
    p.add_argument("-n", type=_args.integer(1, 1000), default=16, help="images (default %(default)s)")
    p.add_argument("--split", choices=["test", "train", "all"], default="test",
                   help="which images of the store (default: test, never trained on)")
    p.add_argument("--cols", type=_args.integer(1, 100), default=8, help="images per row (default 8)")
    p.add_argument("--seed", type=_args.seed, default=0, help="random choice of the images (default 0)")
    p.add_argument("--no-scores", action="store_true", help="skip the face detectors")
    p.add_argument("--out", type=Path, required=True, metavar="GRID.png",
                   help="grid image; GRID.json is written next to it")
    _args.add_wait(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..data.store import DatasetStore
    from ..explore.reconstruct import reconstruct, write_reconstruction_grid
    from ..locks import folder_lock
    from ..workspace import Workspace

    if args.out.suffix.lower() != ".png":
        raise InvalidInputError(f"--out {printable(args.out)}: the grid file must end in .png")
    ws = Workspace.open(args.workspace)
    store = None if args.data is None else DatasetStore.open(args.data)
    rec = reconstruct(ws, store=store, n=args.n, split=args.split, seed=args.seed,
                      judge=not args.no_scores)
    if len(rec.indices) < args.n:
        _args.warn(f"the {args.split} split has only {len(rec.indices)} images; all of them are shown")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(args.out.parent).acquire(_args.wait_seconds(args)):
        sidecar = write_reconstruction_grid(rec, args.out, cols=args.cols)
    print(f"reconstruct: {len(rec.indices)} images of {printable(rec.store_path)} ({args.split}), "
          f"epoch {rec.epoch} -> {printable(args.out)} (+ {printable(sidecar.name)})")
    if rec.judge:
        for name, s in rec.judge.items():
            m, h = s["mtcnn"], s["haar"]
            print(f"reconstruct: {name}: MTCNN finds a face in {m['detected']}/{s['n']} "
                  f"({m['rate']:.0%} [{m['interval'][0]:.0%}-{m['interval'][1]:.0%}]), Haar {h['detected']}/{s['n']}")
    return 0
