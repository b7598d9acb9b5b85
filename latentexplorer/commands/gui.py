"""``latentexplorer gui [WORKSPACE]`` opens the explorer; ``latentexplorer screenshot WORKSPACE
--out FILE.png`` renders it offscreen (for documentation and checks)."""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import os
import re
import sys
from pathlib import Path

from ..errors import EnvironmentProblem, InvalidInputError

from . import _args

#: Debian / Ubuntu packages of the libraries Qt's X11 platform plugin needs most often
_DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1", "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}


class NoDisplayError(EnvironmentProblem):
    """The GUI cannot show a window here (no display, or Qt's platform plugin cannot load)."""


def check_display() -> None:
    """Fail with one line (exit 1) where the explorer's window could not be shown.

    No display (``DISPLAY`` / ``WAYLAND_DISPLAY`` unset, or an offscreen Qt platform) would run an
    invisible window forever; a missing system library would abort inside Qt with a long message.
    """
    if not sys.platform.startswith("linux"):
        return
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    has_x11, has_wayland = bool(os.environ.get("DISPLAY")), bool(os.environ.get("WAYLAND_DISPLAY"))
    hint = ("run it in a desktop session (or ssh -X); 'latentexplorer screenshot WS --out FILE.png' "
            "renders the explorer without one")
    if platform in ("offscreen", "minimal", "minimalegl", "vnc"):
        raise NoDisplayError(f"no display: QT_QPA_PLATFORM={platform} shows no window; {hint}")
    if not platform and not has_x11 and not has_wayland:
        raise NoDisplayError(f"no display: DISPLAY and WAYLAND_DISPLAY are not set; {hint}")
    if platform == "xcb" or (not platform and has_x11 and not has_wayland):
        _check_plugin("libqxcb.so", "X11")


def _check_plugin(name: str, what: str) -> None:
    """Load Qt's platform plugin library: the dynamic loader names a missing dependency."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        raise NoDisplayError("PySide6 is not installed (pip install the package again)")
    plugin = Path(spec.submodule_search_locations[0]) / "Qt" / "plugins" / "platforms" / name
    if not plugin.is_file():
        return
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        m = re.search(r"(lib[\w.+-]+\.so[.\d]*)", str(exc))
        lib = m.group(1) if m else str(exc)
        package = _DEBIAN_PACKAGES.get(lib, lib.split(".so")[0].lower())
        raise NoDisplayError(f"Qt cannot open the {what} display: the system library {lib} is "
                             f"missing (Debian/Ubuntu: sudo apt-get install {package}; other systems: "
                             f"the package that provides {lib})") from None


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
    s.add_argument("--timeout", type=_args.number(0.0, 86400.0, lo_open=True), default=300.0,
                   help="seconds to wait for loading (default 300)")
    s.set_defaults(handler=run_screenshot)


def run(args: argparse.Namespace) -> int:
    if args.workspace is not None:
        from ..workspace import Workspace

        Workspace.open(args.workspace)  # a clear error before any window
    check_display()
    from ..gui.app import run_gui

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
