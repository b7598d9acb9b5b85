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


def _offscreen() -> None:
    """Screenshots render with the offscreen Qt platform (no display needed)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _app():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("LatentExplorer")
        app.setOrganizationName("LatentExplorer")
        # Python's cyclic GC may otherwise run in a worker thread and destroy a QWidget there,
        # which deadlocks (the destructor waits for the GUI thread). Collect on a GUI timer instead.
        from pyqtgraph.util.garbage_collector import GarbageCollector

        app._gc = GarbageCollector(interval=1.0)
    return app


def run_gui(workspace: str | os.PathLike | None = None) -> int:
    """Open the explorer (optionally on ``workspace``) and run the Qt event loop.

    The caller has checked that a window can be shown (``commands.gui.check_display``).
    """
    app = _app()
    from .main_window import MainWindow
    from .widgets import install_excepthook

    win = MainWindow(workspace=workspace)
    install_excepthook(lambda: win)
    stopped = _close_on_stop_signals(win)
    win.show()
    if workspace is None:
        # load TensorFlow while the user looks at the window: its import holds the GIL for a
        # while, better now than in the middle of the first interaction
        win.runner.start("warm-up", _import_tensorflow)
    code = int(app.exec())
    return 128 + stopped[0] if stopped else code


def _close_on_stop_signals(win) -> list[int]:
    """SIGTERM / SIGHUP / SIGINT close the window as File > Quit does (its state is saved, the
    exit code is 128 + the signal) instead of raising inside whatever Qt callback runs.

    Python runs signal handlers only between bytecodes; a timer lets it look while Qt waits."""
    import signal

    from PySide6.QtCore import QTimer

    from ..signals import STOP_SIGNALS

    stopped: list[int] = []

    def on_signal(signum, frame) -> None:
        if not stopped:
            stopped.append(int(signum))
            QTimer.singleShot(0, win.close)

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    tick = QTimer(win)
    tick.timeout.connect(lambda: None)
    tick.start(200)
    return stopped


def _import_tensorflow(params, reporter) -> None:
    reporter.update(0, 1, "loading TensorFlow")
    from .. import _env  # noqa: F401 -- imports TensorFlow quietly

    reporter.update(1, 1, "TensorFlow ready")


def render_screenshot(workspace: str | os.PathLike, out: str | os.PathLike,
                      size: tuple[int, int] = (1366, 768), timeout_s: float = 300.0,
                      tab: str | None = None, plane: tuple[str, int, int] | None = None,
                      path: bool = True) -> Path:
    """Render the main window on ``workspace`` offscreen into the PNG ``out``.

    Waits until the workspace's data, PCA and statistics are loaded and a point is decoded;
    draws a short diagonal path so the strip is filled (``path=False``: none).
    """
    _offscreen()
    app = _app()
    from .main_window import MainWindow

    win = MainWindow()
    win.save_state_on_close = False  # a screenshot leaves the workspace's gui_state.json alone
    win.interactive = False  # errors go to the log (stderr), never to a modal dialog
    try:
        win.resize(*size)
        win.show()
        _render_into(app, win, workspace, out, timeout_s=timeout_s, tab=tab, plane=plane, path=path)
    finally:
        close_window(win)  # also on errors/timeouts: no thread may outlive the window
    return Path(out)


def _tab_index(win, tab: str) -> tuple[int, str | None]:
    """Index of the main tab named ``tab`` ("analysis/radius": the Analysis tab and the name of
    its sub-tab); raises RuntimeError naming the choices for an unknown name."""
    main, _, sub = tab.lower().partition("/")
    names = [win.tabs.tabText(i).lower().replace("&", "") for i in range(win.tabs.count())]
    if main not in names:
        raise RuntimeError(f"--tab {tab!r}: expected one of {', '.join(names)}")
    return names.index(main), (sub or None)


def _select_sub_tab(page, sub: str) -> None:
    from PySide6.QtWidgets import QTabWidget

    for tw in [page] + page.findChildren(QTabWidget):
        if not isinstance(tw, QTabWidget):
            continue
        names = [tw.tabText(i).lower().replace("&", "") for i in range(tw.count())]
        hits = [i for i, n in enumerate(names) if n.startswith(sub)]
        if hits:
            tw.setCurrentIndex(hits[0])
            return
    raise RuntimeError(f"--tab: no sub-tab {sub!r} on this page")


def _render_into(app, win, workspace, out, *, timeout_s, tab, plane, path) -> None:
    if not win.open_workspace(workspace):
        raise RuntimeError(f"cannot open {workspace}")
    if not win.wait_idle(int(timeout_s * 1000)):
        raise RuntimeError("timed out waiting for the workspace to load")
    m = win.model
    if plane is not None:
        m.set_plane(plane)
    if path and m.z is not None and m.path is None:
        e = m.confidence_ellipse(1.5)
        if e is not None:  # along the major axis of the 1.5-sigma ellipse
            d = e.half_axes[0] * np.array([math.cos(e.angle), math.sin(e.angle)])
            m.set_path(np.array([e.center - d, e.center + d]))
    if tab:
        index, sub = _tab_index(win, tab)
        # showing the Generator tab fills its grid once (it generates in the background)
        win.tabs.setCurrentIndex(index)
        if sub:
            _select_sub_tab(win.tabs.widget(index), sub)
    if not win.wait_idle(int(timeout_s * 1000)):
        raise RuntimeError("timed out waiting for the background tasks")
    t_end = time.monotonic() + 0.3
    while time.monotonic() < t_end:
        app.processEvents()
        time.sleep(0.02)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not win.grab().save(str(out)):
        raise RuntimeError(f"could not write {out}")


def close_window(win, wait_ms: int = 120_000) -> None:
    """Close ``win`` (a :class:`MainWindow`) for good, for scripts and one-shot commands.

    Stops its background tasks and waits for their threads, closes it, deletes it (and its
    child widgets, pyqtgraph items and timers) through ``deleteLater`` and processes the pending
    events, so nothing Qt-side is left for the interpreter's shutdown to tear down in an
    arbitrary order (which can end in "Fatal Python error" / a segfault at exit).
    """
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    win._closing = True  # no error dialogs from here on
    runner = getattr(win, "runner", None)
    if runner is not None:
        runner.cancel_all(wait_ms=wait_ms)
    win.close()
    win.deleteLater()
    app = QApplication.instance()
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
        if app is not None:
            app.processEvents()
