"""``latentexplorer gui [WORKSPACE]`` opens the explorer; ``latentexplorer screenshot WORKSPACE
--out FILE.png`` renders it offscreen (for documentation and checks)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InvalidInputError


def register(subparsers) -> None:
    p = subparsers.add_parser("gui", help="open the explorer GUI (the default command)",
                              description="Open the LatentExplorer desktop GUI, optionally on a workspace.")
    p.add_argument("workspace", nargs="?", default=None, metavar="WORKSPACE",
                   help="workspace folder to open (optional)")
    p.set_defaults(handler=run)

    s = subparsers.add_parser("screenshot", help="render the explorer window on a workspace to a PNG",
                              description="Open WORKSPACE in the explorer offscreen, wait until its data "
                                          "is loaded and a point decoded, and save the window as PNG.")
    s.add_argument("workspace", metavar="WORKSPACE", help="workspace folder")
    s.add_argument("--out", required=True, type=Path, metavar="FILE.png", help="PNG file to write")
    s.add_argument("--size", default="1366x768", help="window size WxH (default %(default)s)")
    s.add_argument("--tab", default=None,
                   help="tab to show: explorer (default), training, generator, analysis; "
                        "a sub-tab after a slash, e.g. analysis/radius")
    s.add_argument("--plane", default=None, metavar="KIND,I,J",
                   help="plane to show, e.g. pca,0,1 or latent,3,7")
    s.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for loading (default 300)")
    s.set_defaults(handler=run_screenshot)


def run(args: argparse.Namespace) -> int:
    from ..gui.app import run_gui

    if args.workspace is not None and not Path(args.workspace).is_dir():
        raise InvalidInputError(f"{args.workspace}: workspace folder not found")
    return run_gui(args.workspace)


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InvalidInputError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1366x768") from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise InvalidInputError(f"--size {text!r}: width and height must be in 200..8000")
    return w, h


def _parse_plane(text: str | None):
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != 3 or parts[0] not in ("latent", "pca"):
        raise InvalidInputError(f"--plane {text!r}: expected KIND,I,J with KIND latent or pca")
    try:
        return parts[0], int(parts[1]), int(parts[2])
    except ValueError:
        raise InvalidInputError(f"--plane {text!r}: I and J must be integers") from None


def run_screenshot(args: argparse.Namespace) -> int:
    from ..workspace import Workspace

    size = _parse_size(args.size)
    plane = _parse_plane(args.plane)
    Workspace.open(args.workspace)  # clear error before Qt starts
    from ..gui.app import render_screenshot

    try:
        out = render_screenshot(args.workspace, args.out, size=size, timeout_s=args.timeout,
                                tab=args.tab, plane=plane)
    except RuntimeError as exc:
        raise InvalidInputError(f"screenshot: {exc}") from None
    print(f"screenshot: {out} ({size[0]}x{size[1]})")
    return 0
