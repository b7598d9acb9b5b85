"""Application entry points: :func:`run_gui` (interactive) and :func:`render_screenshot`."""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def _ensure_platform(offscreen: bool = False) -> None:
    """Use the offscreen Qt platform when asked or when there is no display (Linux)."""
    if offscreen or (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
                     and not os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _app():
    from .. import _env  # noqa: F401 -- quiet TensorFlow before it is imported by a worker
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("LatentExplorer")
        app.setOrganizationName("LatentExplorer")
    return app


def run_gui(workspace: str | os.PathLike | None = None) -> int:
    """Open the explorer (optionally on ``workspace``) and run the Qt event loop."""
    _ensure_platform()
    app = _app()
    from .main_window import MainWindow
    from .widgets import install_excepthook

    win = MainWindow(workspace=workspace)
    install_excepthook(lambda: win)
    win.show()
    if workspace is None:
        # load TensorFlow while the user looks at the window: its import holds the GIL for a
        # while, better now than in the middle of the first interaction
        win.runner.start("warm-up", _import_tensorflow)
    return int(app.exec())


def _import_tensorflow(params, reporter) -> None:
    reporter.update(0, 1, "loading TensorFlow")
    import tensorflow  # noqa: F401

    reporter.update(1, 1, "TensorFlow ready")


def render_screenshot(workspace: str | os.PathLike, out: str | os.PathLike,
                      size: tuple[int, int] = (1366, 768), timeout_s: float = 300.0,
                      tab: str | None = None, plane: tuple[str, int, int] | None = None,
                      path: bool = True) -> Path:
    """Render the main window on ``workspace`` offscreen into the PNG ``out``.

    Waits until the workspace's data, PCA and statistics are loaded and a point is decoded;
    draws a short diagonal path so the strip is filled (``path=False``: none).
    """
    _ensure_platform(offscreen=True)
    app = _app()
    from .main_window import MainWindow

    win = MainWindow()
    win.resize(*size)
    win.show()
    if not win.open_workspace(workspace):
        raise RuntimeError(f"cannot open {workspace}")
    if not win.wait_idle(int(timeout_s * 1000)):
        raise RuntimeError("timed out waiting for the workspace to load")
    st = win.state
    if plane is not None:
        st.set_plane(*plane)
    if path and st.z is not None and st.path_points is None:
        e = st.confidence_ellipse(1.5)
        if e is not None:  # along the major axis of the 1.5-sigma ellipse
            d = e.half_axes[0] * np.array([math.cos(e.angle), math.sin(e.angle)])
            st.set_path(np.array([e.center - d, e.center + d]))
    if st.current is not None:
        st.set_current(st.current, index=st.current_index)
    if tab:
        names = [win.tabs.tabText(i).lower() for i in range(win.tabs.count())]
        if tab.lower() in names:
            win.tabs.setCurrentIndex(names.index(tab.lower()))
    win.wait_idle(int(timeout_s * 1000))
    t_end = time.monotonic() + 0.3
    while time.monotonic() < t_end:
        app.processEvents()
        time.sleep(0.02)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not win.grab().save(str(out)):
        raise RuntimeError(f"could not write {out}")
    win._closing = True
    win.runner.cancel_all(wait_ms=30_000)
    win.close()
    return out
