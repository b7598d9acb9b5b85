"""``latentexplorer score``: is it a face? An independent judge of a folder, a grid or a sweep.

IMAGES is a folder of images (cropped to a square and resized like an import), a grid PNG with
its sidecar ``GRID.json`` (the tiles are cut out with the sidecar's layout), or a sweep folder
(every grid its ``summary.json`` lists). Two detectors that ship with their weights judge each
image — MTCNN (primary) and OpenCV's Haar frontal-face cascade (lenient second opinion) — and each
set gets per detector the detection rate with its 95 % Wilson interval and the mean confidence,
plus a variety figure; ``--real FOLDER`` adds precision, recall, density and coverage against
real photos. One line per set on stdout; everything, per image too, in ``--out SCORE.json``.
``--calibrate`` prints the judge's rates on real photos, synthetic faces, blurred noise and the
mean face, as measured when it was set up.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..inputs import printable
from . import _args

PRESETS = ("center", "celeba")


def register(subparsers) -> None:
    p = subparsers.add_parser("score", help="judge images with independent face detectors "
                                            "(rate, interval, confidence, variety, coverage)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="?", type=Path, metavar="IMAGES",
                   help="a folder of images, a grid PNG (with its .json sidecar) or a sweep folder")
    p.add_argument("--out", type=Path, metavar="SCORE.json", help="write the full result here")
    p.add_argument("--calibrate", action="store_true",
                   help="print the judge's calibration (real photos, synthetic faces, noise, mean face)")
    p.add_argument("--real", type=Path, metavar="FOLDER",
                   help="real photos to measure precision / recall / density / coverage against")
    p.add_argument("--detectors", default="mtcnn,haar", type=_detector_list,
                   help="comma-separated: mtcnn, haar (default: both)")
    p.add_argument("--preset", choices=PRESETS, default="center",
                   help="crop of photos in a folder: centre square (default) or CelebA's box")
    p.add_argument("--size", type=_args.image_size, default=96,
                   help="side photos of a folder are resized to (default: %(default)s)")
    p.add_argument("--limit", type=_args.count, default=None,
                   help="at most this many photos of a folder (sorted by name)")
    p.add_argument("--no-per-image", action="store_true",
                   help="leave the per-image detections out of SCORE.json")
    _args.add_wait(p)
    p.set_defaults(handler=run_score)


def _detector_list(text: str) -> list[str]:
    from ..judge.detectors import DETECTOR_NAMES

    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in names if t not in DETECTOR_NAMES]
    if not names or bad:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(DETECTOR_NAMES)}, got {text!r}")
    return list(dict.fromkeys(names))


def run_score(args: argparse.Namespace) -> int:
    from ..errors import InvalidInputError

    if args.images is None and not args.calibrate:
        raise InvalidInputError("IMAGES: expected a folder of images, a grid PNG or a sweep folder "
                                "(or --calibrate)")
    if args.calibrate:
        from ..judge.calibration import format_calibration, load_calibration

        print(format_calibration(load_calibration()))
        if args.images is None:
            return 0
    if args.out is not None and args.out.suffix.lower() != ".json":
        raise InvalidInputError(f"--out {printable(args.out)}: expected a .json file")
    from ..judge.scoring import score_path, summary_line
    from ..progress import TerminalProgress

    result = score_path(args.images, detectors=args.detectors, real=args.real, preset=args.preset,
                        size=args.size, limit=args.limit, per_image=not args.no_per_image,
                        progress=TerminalProgress("score"))
    for entry in result["sets"]:
        print(f"score: {summary_line(entry)}")
    if args.out is not None:
        from ..fileio import atomic_write_json
        from ..locks import output_lock

        with output_lock(args.out).acquire(_args.wait_seconds(args)):
            atomic_write_json(args.out, result)
        print(f"score: {len(result['sets'])} set(s) -> {printable(args.out)}")
    return 0
