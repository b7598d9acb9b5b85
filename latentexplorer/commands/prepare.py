"""``latentexplorer prepare SRC --out DIR``: import a folder of face photos into a dataset store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import _args

# how many skipped files are listed by name (all of them are counted in the summary line)
_LIST_SKIPPED = 20


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "prepare", help="import a folder of face photos (e.g. CelebA) into a dataset store",
        description="Crop, resize and store the images of SRC as a uint8 dataset store. Bad files "
                    "are skipped and listed; the store holds all the good ones.")
    p.add_argument("src", help="folder holding the images (not searched recursively)")
    p.add_argument("--out", required=True, help="store folder to create")
    p.add_argument("--preset", choices=["celeba", "center"], default="celeba",
                   help="crop: CelebA aligned face box (178x218 and scaled copies) or centre square "
                        "(default: %(default)s)")
    p.add_argument("--attributes", metavar="FILE",
                   help="CelebA list_attr_celeba.txt; rows are matched to images by file name")
    p.add_argument("--size", type=_args.image_size, default=96,
                   help="output side in pixels (default: %(default)s)")
    p.add_argument("--limit", type=_args.count, metavar="N",
                   help="import only the first N files (sorted by name)")
    p.add_argument("--workers", type=_args.integer(1, 256), metavar="K",
                   help="decoding processes (default: number of CPUs; 1 = no extra processes)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing store at --out (only once the new one is complete)")
    _args.add_wait(p)
    p.set_defaults(handler=run)

    m = subparsers.add_parser("merge", help="concatenate dataset stores of the same image size",
                              description="Merge stores (e.g. two imported CelebA folders) into one; "
                                          "attributes missing in a store become NaN (unknown).")
    m.add_argument("stores", nargs="+", help="two or more store folders")
    m.add_argument("--out", required=True, help="store folder to create")
    m.add_argument("--overwrite", action="store_true", help="replace an existing store at --out")
    _args.add_wait(m)
    m.set_defaults(handler=run_merge)


def run(args: argparse.Namespace) -> int:
    from ..data.prepare import prepare_dataset
    from ..inputs import printable
    from ..progress import TerminalProgress

    src = Path(args.src)
    default_attr = src / "list_attr_celeba.txt"
    if args.attributes is None and default_attr.is_file():
        print(f"note: {printable(default_attr)} found; pass --attributes {printable(default_attr)} to "
              "attach the CelebA attributes", file=sys.stderr)
    report = prepare_dataset(src, args.out, preset=args.preset, attributes=args.attributes,
                             size=args.size, limit=args.limit, workers=args.workers,
                             progress=TerminalProgress("prepare"), overwrite=args.overwrite,
                             wait=_args.wait_seconds(args))
    for name, reason in report.skipped[:_LIST_SKIPPED]:
        print(f"  skipped {printable(name)}: {reason}", file=sys.stderr)
    if len(report.skipped) > _LIST_SKIPPED:
        print(f"  ... and {len(report.skipped) - _LIST_SKIPPED} more skipped", file=sys.stderr)
    print(f"prepare: {report.summary()}")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    from ..data.merge import merge_stores
    from ..progress import TerminalProgress

    store = merge_stores(args.stores, args.out, overwrite=args.overwrite, progress=TerminalProgress("merge"),
                         wait=_args.wait_seconds(args))
    print(f"merge: {store.n} images ({store.size}x{store.size}) from {len(args.stores)} stores -> {store.path}")
    return 0
