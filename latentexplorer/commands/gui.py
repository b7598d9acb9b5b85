"""``latentexplorer gui [WORKSPACE]`` opens the explorer; ``latentexplorer screenshot WORKSPACE
--out FILE.png`` renders it offscreen (for documentation and checks)."""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import os
import re
import stat
import sys
from pathlib import Path

from ..errors import EnvironmentProblem, InvalidInputError
from ..inputs import printable

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
    invisible window forever; a display that is named but not there (a Wayland socket that does
    not exist, an X server that refuses the connection) or a missing system library would abort
    inside Qt with a long message. Qt tries its platforms in order (``QT_QPA_PLATFORM``, else
    Wayland when ``WAYLAND_DISPLAY`` or a Wayland session is set, then X11): one usable is enough.
    """
    if not sys.platform.startswith("linux"):
        return
    env = os.environ
    hint = ("run it in a desktop session (or ssh -X); 'latentexplorer screenshot WS --out FILE.png' "
            "renders the explorer without one")
    explicit = [p.split(":")[0].strip().lower() for p in env.get("QT_QPA_PLATFORM", "").split(";")]
    explicit = [p for p in explicit if p]
    if explicit and explicit[0] in ("offscreen", "minimal", "minimalegl", "vnc"):
        raise NoDisplayError(f"no display: QT_QPA_PLATFORM={explicit[0]} shows no window; {hint}")
    if not explicit and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY") \
            and env.get("XDG_SESSION_TYPE", "").lower() != "wayland":
        raise NoDisplayError(f"no display: DISPLAY and WAYLAND_DISPLAY are not set; {hint}")
    candidates = explicit or _default_platforms(env)
    reasons: list[str] = []
    missing_library: NoDisplayError | None = None
    for platform in candidates:
        try:
            reason = _unusable(platform, env)
        except NoDisplayError as exc:  # its system library is missing
            missing_library = missing_library or exc
            continue
        if reason is None:
            return
        reasons.append(reason)
    if missing_library is not None:
        raise missing_library
    raise NoDisplayError(f"no display: {'; '.join(dict.fromkeys(reasons))}; {hint}")


def _default_platforms(env) -> list[str]:
    """Qt 6's order without ``QT_QPA_PLATFORM``: Wayland first when it is announced, then X11."""
    order = ["xcb"] if env.get("DISPLAY") else []
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        order.insert(0, "wayland")
    if "xcb" not in order:
        order.append("xcb")  # Qt's built-in default is always tried last
    return order


def _unusable(platform: str, env) -> str | None:
    """Why Qt's ``platform`` cannot show a window here (None: it can, or we cannot tell)."""
    if platform == "xcb":
        display = env.get("DISPLAY")
        if not display:
            return "DISPLAY is not set"
        _check_plugin("libqxcb.so", "X11")
        if _x11_refuses(display):
            return f"the X display DISPLAY={printable(display)} cannot be opened (no X server there?)"
        return None
    if platform.startswith("wayland"):
        name = env.get("WAYLAND_DISPLAY") or "wayland-0"
        runtime = env.get("XDG_RUNTIME_DIR")
        if not os.path.isabs(name) and not runtime:
            return f"WAYLAND_DISPLAY={printable(name)} but XDG_RUNTIME_DIR is not set"
        socket_path = Path(name if os.path.isabs(name) else os.path.join(runtime, name))
        try:
            is_socket = stat.S_ISSOCK(socket_path.stat().st_mode)
        except OSError:
            is_socket = False
        if not is_socket:
            return (f"no Wayland display at {printable(socket_path)} "
                    f"(WAYLAND_DISPLAY={printable(name)})")
        _check_plugin("libqwayland.so", "Wayland")
        return None
    return None  # eglfs, linuxfb, ...: Qt says itself whether it works


def _x11_refuses(display: str) -> bool:
    """True when libxcb cannot connect to ``display`` (False when it can, or libxcb is absent)."""
    try:
        lib = ctypes.CDLL("libxcb.so.1")
        lib.xcb_connect.restype = ctypes.c_void_p
        lib.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
        lib.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
        lib.xcb_disconnect.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return False
    conn = lib.xcb_connect(display.encode(), None)
    if not conn:
        return True
    try:
        return lib.xcb_connection_has_error(conn) != 0
    finally:
        lib.xcb_disconnect(conn)


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
