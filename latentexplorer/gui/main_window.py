"""The explorer's main window.

Layout (fits 1366 x 768 and 1024 x 600): tabs in the centre — *Explorer* (the welcome page until a
workspace is open; then the staleness banner, the plane controls and the scatter), *Training*,
*Generator*, *Analysis* —, the decoded face with the PCA-component sliders in a right dock, the path
strip in a bottom dock, and a status bar with the task status, a progress bar and Cancel. Long work
runs in the :class:`~latentexplorer.gui.workers.TaskRunner` through the
:class:`~latentexplorer.gui.controller.ExplorerController`; every error ends in a dialog.
"""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..errors import InvalidInputError
from .analysis_views import AnalysisViews
from .banner import StaleBanner
from .bookmarks_panel import BookmarksPanel
from .component_sliders import ComponentSliders
from .controller import ExplorerController, synthetic_workspace_task
from .directions_panel import DirectionsPanel
from .face_view import FaceView
from .facemap_overlay import FaceMapOverlay
from .filter_bar import FilterBar
from .generator_panel import GeneratorPanel
from .layers_overlay import LayersOverlay
from .menus import build_menus
from .path_strip import PathStrip
from .plane_controls import PlaneControls
from .scatter import LatentScatterWidget
from .selection_panel import SelectionPanel
from .settings import Settings
from .state import AppState
from .training_view import TrainingView
from .welcome import WelcomePage
from .widgets import configure_pyqtgraph
from .workers import TaskRunner, TaskWorker

log = logging.getLogger(__name__)

APP_TITLE = "LatentExplorer"
#: defaults of File > New from synthetic faces
SYNTH_DEFAULTS = {"n": 5000, "size": 64, "epochs": 8, "z_dim": 64, "kind": "ae", "seed": 0}
TAB_NAMES = ("explorer", "training", "generator", "analysis")


class MainWindow(QMainWindow):
    """The explorer window.

    Parameters
    ----------
    workspace : path or Workspace, optional
        Opened right away.
    runner : TaskRunner, optional
    """

    workspaceOpened = Signal(object)
    errorShown = Signal(str)

    def __init__(self, workspace=None, runner: TaskRunner | None = None, parent=None) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.setWindowTitle(APP_TITLE)
        self.runner = runner or TaskRunner(self)
        self.state = AppState(parent=self)
        self.model = self.state.model
        self.controller = ExplorerController(self.state, self.runner, self)
        self._closing = False
        #: write gui_state.json when the window closes (off for screenshots)
        self.save_state_on_close = True
        #: error dialogs are shown (off for offscreen screenshots: a modal dialog would hang)
        self.interactive = True
        self._failed: dict[str, str] = {}
        self._cancelled: set[str] = set()
        self._noticed: set[str] = set()  # running tasks that have shown a confirmation

        # --- the Explorer tab: welcome page, or banner + controls + scatter
        self.scatter = LatentScatterWidget(self.state)
        self.controls = PlaneControls(self.state, self.scatter)
        self.face_map = FaceMapOverlay(self.scatter, self.state, self.runner, self)
        self.layers = LayersOverlay(self.scatter, self.state, self)
        self.stale_banner = StaleBanner()
        self.filter_bar = FilterBar(self.state)
        self.welcome = WelcomePage(Settings().recent_workspaces())
        explorer = QWidget()
        outer = QVBoxLayout(explorer)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addWidget(self.stale_banner)
        row = QHBoxLayout()
        row.setContentsMargins(2, 2, 2, 2)
        # the plane controls' column (~400 px tall) scrolls on a 600-px screen
        controls = _scrolled(self.controls)
        controls.setFrameShape(QScrollArea.NoFrame)
        controls.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        controls.setMinimumWidth(self.controls.minimumSizeHint().width()
                                 + controls.verticalScrollBar().sizeHint().width())
        row.addWidget(controls)
        plot = QVBoxLayout()
        plot.setSpacing(2)
        plot.addWidget(self.filter_bar)
        plot.addWidget(self.scatter, 1)
        row.addLayout(plot, 1)
        outer.addLayout(row, 1)
        self.explorer_stack = QStackedWidget()
        self.explorer_stack.addWidget(self.welcome)
        self.explorer_stack.addWidget(explorer)

        self.training_view = TrainingView(self.state, self.controller)
        self.generator_panel = GeneratorPanel(self.state, self.controller)
        self.analysis_views = AnalysisViews(self.state, self.controller)
        self.tabs = QTabWidget()
        # their plots stack taller than a 600-px screen: they scroll rather than force it larger
        self.training_page = _scrolled(self.training_view)
        self.analysis_page = _scrolled(self.analysis_views)
        for page, title, tip in (
                (self.explorer_stack, "Explorer", "The latent scatter: click to decode, drag the red "
                                                  "point to scrub, Shift+drag for a path"),
                (self.training_page, "Training", "Live training: loss curves and the re-encoded subset"),
                (self.generator_panel, "Generator", "Generate z-vectors (uniform, normal, mvn, "
                                                    "ellipse) and decode them"),
                (self.analysis_page, "Analysis", "Histograms, radius, correlation, PCA, t-SNE, "
                                                  "KMeans, VAE")):
            self.tabs.setTabToolTip(self.tabs.addTab(page, title), tip)
        self.setCentralWidget(self.tabs)

        # --- docks
        self.face_view = FaceView(self.state, self.controller.neighbours)
        self.sliders = ComponentSliders(self.state)
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.face_view, 1)
        sl.addWidget(self.sliders)
        self.face_dock = self._dock("Decoded face", "face_dock", _scrolled(side),
                                    Qt.RightDockWidgetArea)
        self.face_dock.setToolTip("The decoded face of the current z-vector and its PCA components")
        self.path_strip = PathStrip(self.state, self.controller)
        self.path_dock = self._dock("Path strip", "path_dock", _scrolled(self.path_strip),
                                    Qt.BottomDockWidgetArea)
        self.selection_panel = SelectionPanel(self.state, self.controller)
        # its four columns need ~1,060 px: scroll rather than force the window wider than the screen
        self.selection_dock = self._dock("Selection", "selection_dock", _scrolled(self.selection_panel),
                                         Qt.BottomDockWidgetArea)
        self.selection_dock.setToolTip("The lasso / rectangle selection and the current vector's "
                                       "nearest data points")
        self.tabifyDockWidget(self.path_dock, self.selection_dock)
        self.path_dock.raise_()
        self.state.toolChanged.connect(lambda tool: self.selection_dock.raise_() if tool else None)
        self.bookmarks_panel = BookmarksPanel(self.state, generator_spec=self.generator_panel.spec,
                                              apply_generator=self.generator_panel.apply_spec)
        self.bookmarks_dock = self._dock("Bookmarks", "bookmarks_dock", _scrolled(self.bookmarks_panel),
                                         Qt.BottomDockWidgetArea)
        self.bookmarks_dock.setToolTip("Named explorer states of this workspace (WS/bookmarks.json)")
        self.tabifyDockWidget(self.path_dock, self.bookmarks_dock)
        self.directions_panel = DirectionsPanel(self.state, self.runner)
        self.directions_dock = self._dock("Directions", "directions_dock",
                                          _scrolled(self.directions_panel),
                                          Qt.RightDockWidgetArea)
        self.directions_dock.setToolTip("PCA, SeFa and attribute directions: a slider each, the "
                                        "entanglement report, grids along a direction")
        self.tabifyDockWidget(self.face_dock, self.directions_dock)
        self.face_dock.raise_()
        self.path_dock.raise_()
        self.resizeDocks([self.face_dock], [290], Qt.Horizontal)

        # --- status bar
        self.status_label = QLabel("Ready")
        self.status_label.setToolTip("What the application is doing")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setToolTip("Progress of the running background task")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop all background tasks (training keeps its last complete "
                                      "epoch) — Esc")
        self.cancel_button.setEnabled(False)
        sb = self.statusBar()
        sb.addWidget(self.status_label, 1)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)

        build_menus(self)

        # --- wiring
        self.cancel_button.clicked.connect(self.cancel_tasks)
        self.runner.progress.connect(self._on_progress)
        self.runner.busyChanged.connect(self._on_busy)
        self.runner.started.connect(lambda name, _w: self._status(f"{name}: started"))
        self.runner.finished.connect(self._on_task_finished)
        self.runner.error.connect(lambda name, msg: self._failed.__setitem__(name, msg))
        self.state.errorOccurred.connect(lambda msg: self.show_error("LatentExplorer", msg))
        self.state.notice.connect(self._notice)
        self.state.workspaceChanged.connect(self._on_workspace)
        self.state.dataChanged.connect(self._on_data)
        self.state.decoderChanged.connect(lambda _d: self.controller.check_staleness())
        self.state.staleChanged.connect(self.stale_banner.show_message)
        self.runner.finished.connect(lambda _name: self.controller.check_staleness())
        self.stale_banner.reencodeRequested.connect(self.controller.encode)
        self.scatter.hovered.connect(self.face_view.show_hovered)
        self.welcome.newRequested.connect(self.act_new.trigger)
        self.welcome.openRequested.connect(self.act_open.trigger)
        self.welcome.recentChosen.connect(self.open_workspace)
        self.training_view.trainingFinished.connect(self._on_training_finished)
        self.analysis_views.planeRequested.connect(self.show_plane)
        self.controller.loaded.connect(self._restore_tab)

        self._fit_to_screen(1366, 768)
        if workspace is not None:
            QTimer.singleShot(0, lambda: self.open_workspace(workspace))

    def _fit_to_screen(self, width: int, height: int) -> None:
        """``width`` x ``height``, or the available screen area where that is smaller (a
        1024x600 netbook gets a window that fits, not one that spills off the screen)."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            width, height = min(width, area.width()), min(height, area.height())
        self.resize(width, height)

    # ------------------------------------------------------------------ building
    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                         | QDockWidget.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    # ------------------------------------------------------------------ tasks
    def start_task(self, name: str, fn, params=None, on_result: Callable | None = None) -> TaskWorker:
        """Run ``fn(params, reporter)`` as job ``name``; errors go to a dialog."""
        w = self.runner.start(name, fn, params)
        if on_result is not None:
            w.result.connect(on_result)
        w.error.connect(lambda msg, name=name: self.show_error(f"Task '{name}' failed", msg))
        return w

    def cancel_tasks(self) -> None:
        """Esc: stop the background tasks; with none running, leave the selection tool and clear
        the selection."""
        if not self.runner.busy and (self.model.select_tool or len(self.model.selection)):
            self.selection_panel._clear()
            return
        if self.runner.busy:
            self._cancelled.update(self.runner.running_names())
            self.runner.cancel_all(0)
            self._status("Cancelling… (training stops after the current batch)")

    def _on_progress(self, name: str, done: int, total: int, message: str) -> None:
        self.progress.show()
        self.progress.setMaximum(max(total, 1) if total > 0 else 0)
        if total > 0:
            self.progress.setValue(min(done, total))
        self._status(f"{name}: {message}" if message else name)

    def _on_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        if not busy:
            self.progress.reset()
            self.progress.hide()

    def _on_task_finished(self, name: str) -> None:
        msg = self._failed.pop(name, None)
        if msg:
            self._status(f"{name}: failed — {msg}")
        elif name in self._cancelled:
            self._status(f"{name}: cancelled")
        elif name not in self._noticed:  # a task's own confirmation says more than "done"
            self._status(f"{name}: done")
        self._cancelled.discard(name)
        self._noticed.discard(name)

    def _notice(self, text: str) -> None:
        self._noticed.update(self.runner.running_names())
        self._status(text)

    def _status(self, text: str) -> None:
        self.status_label.setText(text)

    def show_error(self, title: str, message: str) -> None:
        """Show ``message`` in a warning dialog (never raises)."""
        log.warning("%s: %s", title, message)
        self._status(f"Error: {message}")
        self.errorShown.emit(message)
        if self._closing or not self.interactive:
            return
        QMessageBox.warning(self, title, message)

    # ------------------------------------------------------------------ workspaces
    def open_workspace(self, ws) -> bool:
        """Open a workspace (path or Workspace); its data loads in the background."""
        from ..workspace import Workspace

        try:
            if not isinstance(ws, Workspace):
                ws = Workspace.open(Path(ws))
        except (InvalidInputError, OSError) as exc:
            self.show_error("Open workspace", str(exc))
            return False
        self.save_gui_state()
        self.controller.open_workspace(ws)
        Settings().remember_folder(ws.path, "workspace")
        Settings().remember_workspace(ws.path)
        self.workspaceOpened.emit(ws)
        return True

    def open_workspace_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open workspace", Settings().last_folder("workspace"))
        if folder:
            self.open_workspace(folder)

    def _on_workspace(self, ws) -> None:
        self.setWindowTitle(f"{APP_TITLE} — {Path(ws.path).name}" if ws is not None else APP_TITLE)
        self.explorer_stack.setCurrentIndex(0 if ws is None else 1)
        if ws is None:
            return
        self._status(f"Opened {ws.path}")
        if ws.has_model and not ws.has_latents:
            self._status("The model has no latents yet: encoding the dataset…")
            self.controller.encode()
        elif not ws.has_model and not self.runner.is_running("train") and not self.runner.is_running("synth"):
            self._status(f"{Path(ws.path).name}: no trained model yet — start training in the Training tab")

    def _restore_tab(self, _ws) -> None:
        tab = self.controller.restored.get("tab")
        if tab in TAB_NAMES and self.runner.is_running("train") is False:
            self.tabs.setCurrentIndex(TAB_NAMES.index(tab))

    def _on_data(self, model) -> None:
        if model.z is not None:
            self._status(f"{model.n_points:,} z-points, z_dim {model.z_dim}")

    def save_gui_state(self) -> None:
        self.controller.save_gui_state(tab=TAB_NAMES[self.tabs.currentIndex()])

    def show_plane(self, plane) -> None:
        """Show ``plane`` in the Explorer tab (from the menus, a correlation pair, an analysis)."""
        try:
            self.model.set_plane(plane)
        except InvalidInputError as exc:
            self.show_error("Plane", str(exc))
            return
        self.tabs.setCurrentIndex(0)

    # ------------------------------------------------------------------ new from synthetic faces
    def new_synthetic(self, folder: str | Path | None = None, ask: bool = True, **overrides):
        """File > New from synthetic faces: generate a dataset, create a workspace, train it.

        Without ``folder`` a new folder under ``~/LatentExplorer`` is used. Returns the worker.
        """
        params = dict(SYNTH_DEFAULTS, **overrides)
        if folder is None:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            folder = Path.home() / "LatentExplorer" / f"synthetic-{stamp}"
        folder = Path(folder)
        if ask:
            answer = QMessageBox.question(
                self, "New from synthetic faces",
                f"Generate {params['n']:,} synthetic faces ({params['size']}×{params['size']} px) "
                f"and train a {params['kind'].upper()} (z_dim {params['z_dim']}, "
                f"{params['epochs']} epochs) in the background?\n\nFolder: {folder}")
            if answer != QMessageBox.Yes:
                return None
        if folder.exists() and any(folder.iterdir()):
            self.show_error("New from synthetic faces", f"{folder}: exists and is not empty")
            return None
        params["folder"] = str(folder)
        self._status("Generating synthetic faces…")
        return self.start_task("synth", synthetic_workspace_task, params, on_result=self._synthetic_ready)

    def _synthetic_ready(self, ws) -> None:
        self.open_workspace(ws)
        self.tabs.setCurrentWidget(self.training_page)
        self.training_view.start_training(resume=False)

    def _on_training_finished(self, _result) -> None:
        self.tabs.setCurrentIndex(0)
        self._status("Training finished — click the scatter to decode faces")

    # ------------------------------------------------------------------ grids, exports
    def open_grid_dialog(self) -> None:
        ws = self.state.workspace
        start = str(ws.results_dir) if ws is not None else Settings().last_folder("export")
        name, _ = QFileDialog.getOpenFileName(self, "Open grid or strip", start, "Grid or strip (*.json *.png)")
        if name:
            self.open_grid(name)

    def open_grid(self, path) -> None:
        """Show the z-vectors of a grid / strip sidecar in the scatter (its path too, for a strip)."""
        from ..explore.paths import path_from_dict
        from ..render.images import load_sidecar

        try:
            rec = load_sidecar(path)
            if rec.z_dim != self.model.z_dim:
                raise InvalidInputError(f"{path}: z_dim {rec.z_dim}, the open workspace has {self.model.z_dim}")
            info = {"generator": rec.generator, "settings": rec.settings, "seed": rec.seed, "file": str(path)}
            self.model.set_samples(rec.z, info)
            self.model.set_current(rec.z[0])
            if rec.generator == "path" and rec.extra.get("path"):
                self.model.set_path(path_from_dict(rec.extra["path"]))
        except (InvalidInputError, OSError) as exc:
            self.show_error("Open grid or strip", str(exc))
            return
        if rec.fingerprint != self.state.decoder_fingerprint:
            self._status(f"{Path(path).name}: made with another decoder ({rec.fingerprint}); its "
                         "vectors are shown, the faces come from the open model")
        else:
            self._status(f"{Path(path).name}: {rec.n} z-vectors shown")
        self.tabs.setCurrentIndex(0)

    def export_scatter(self) -> None:
        from .export import export_plot_dialog

        try:
            path = export_plot_dialog(self, self.scatter, "scatter", workspace=self.state.workspace)
        except (InvalidInputError, OSError) as exc:
            self.show_error("Export", str(exc))
            return
        if path is not None:
            self._status(f"Scatter saved: {path}")

    def export_current_vector(self) -> None:
        from .export import VECTOR_FILTER, ask_save_path, save_vectors

        cur = self.model.current
        if cur is None:
            self.show_error("Export", "There is no current z-vector.")
            return
        try:
            path = ask_save_path(self, "Export z-vector", "export", VECTOR_FILTER, "z_vector.npy",
                                 workspace=self.state.workspace)
            if path is not None:
                save_vectors(path, np.asarray(cur.vector)[None, :])
                self._status(f"z-vector saved: {path}")
        except (InvalidInputError, OSError) as exc:
            self.show_error("Export", str(exc))

    # ------------------------------------------------------------------ closing
    def closeEvent(self, ev) -> None:  # noqa: N802
        """Save gui_state.json; stop background work (training keeps its checkpoint) and wait."""
        self._closing = True
        if self.save_state_on_close:
            self.save_gui_state()
        if self.runner.busy:
            self._status("Stopping background tasks…")
        self.runner.close(wait_ms=120_000)
        self.controller.close()
        super().closeEvent(ev)

    def wait_idle(self, timeout_ms: int = 60_000) -> bool:
        """Process events until no task runs and no decode is pending (tests, screenshots)."""
        import time

        from PySide6.QtWidgets import QApplication

        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:
            QApplication.processEvents()
            if not self.runner.busy and self.controller.decoding.idle:
                QApplication.processEvents()
                if not self.runner.busy and self.controller.decoding.idle:
                    return True
            time.sleep(0.01)
        return False


def _scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a resizable scroll area: a dock that scrolls instead of forcing the window
    larger than a small screen."""
    scroll = QScrollArea()
    scroll.setWidget(widget)
    scroll.setWidgetResizable(True)
    return scroll
