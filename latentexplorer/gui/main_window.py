"""The explorer's main window.

Layout (fits 1366 x 768): a tab widget in the centre -- *Explorer* (plane controls on the left,
the latent scatter), *Training*, *Generator*, *Analysis* (the other panels are imported by name
and replaced by a placeholder when their module is missing) --, the decoded face in a right
dock, the path strip in a bottom dock, and a status bar with the task status, a progress bar and
Cancel. All long work runs in the :class:`~latentexplorer.gui.workers.TaskRunner`; every error
ends in a dialog.
"""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QMainWindow, QMessageBox, QProgressBar, QPushButton, QSpinBox,
                               QTabWidget, QVBoxLayout, QWidget)

from ..errors import InvalidInputError
from ..progress import ProgressReporter
from .face_view import FaceView
from .path_strip import PathStrip
from .scatter import LatentScatterWidget
from .banner import StaleBanner
from .state import AppState
from .widgets import LabeledSlider, configure_pyqtgraph
from .workers import TaskRunner, TaskWorker

log = logging.getLogger(__name__)

APP_TITLE = "LatentExplorer"
#: defaults of File > New from synthetic faces
SYNTH_DEFAULTS = {"n": 5000, "size": 64, "epochs": 8, "z_dim": 64, "kind": "ae", "seed": 0}


# ------------------------------------------------------------------------------------------------
# worker functions (Qt-free)
# ------------------------------------------------------------------------------------------------
def synthetic_workspace_task(params, reporter: ProgressReporter) -> Any:
    """Generate a synthetic-face store and create a workspace on it (not trained yet).

    Params: ``folder`` (new/empty), ``n``, ``size``, ``z_dim``, ``kind``, ``epochs``, ``seed``.
    Returns the :class:`~latentexplorer.workspace.Workspace`.
    """
    from ..data.synth import write_synthetic_store
    from ..schemas import ModelConfig
    from ..workspace import Workspace

    folder = Path(params["folder"])
    store_dir = folder / "faces"
    store = write_synthetic_store(store_dir, n=int(params["n"]), size=int(params["size"]),
                                  seed=int(params["seed"]), progress=reporter)
    reporter.raise_if_cancelled()
    cfg = ModelConfig.from_preset("case1", kind=params["kind"], z_dim=int(params["z_dim"]),
                                  image_size=store.size)
    return Workspace.create(folder / "workspace", store_dir, cfg,
                            training={"epochs": int(params["epochs"]), "seed": int(params["seed"])})


def encode_task(params, reporter: ProgressReporter) -> Any:
    """Encode the dataset of ``params["ws"]`` with its saved encoder (writes the latents)."""
    return params["ws"].encode(progress=reporter)


def fallback_training_task(params, reporter: ProgressReporter) -> Any:
    """Train then encode (used only when gui/training_view.py is not available)."""
    from ..workspace.training import train

    ws = params["ws"]
    history = train(ws, int(params["epochs"]), resume=ws.checkpoint_epoch > 0, progress=reporter)
    reporter.raise_if_cancelled()
    return {"history": history, "latents": ws.encode(progress=reporter)}


def _placeholder(text: str) -> QWidget:
    lab = QLabel(text)
    lab.setAlignment(Qt.AlignCenter)
    lab.setWordWrap(True)
    lab.setToolTip(text)
    return lab


# ------------------------------------------------------------------------------------------------
class PlaneControls(QWidget):
    """Coordinate system, the two axes, the quick list, sliders, colouring and mouse modes."""

    def __init__(self, state: AppState, scatter: LatentScatterWidget, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.scatter = scatter
        self._syncing = False

        plane_box = QGroupBox("Plane")
        pf = QFormLayout(plane_box)
        pf.setContentsMargins(6, 4, 6, 4)
        self.kind = QComboBox()
        self.kind.addItem("Latent components", "latent")
        self.kind.addItem("PCA components", "pca")
        self.kind.setToolTip("Coordinate system of the scatter: two components of z, or two "
                             "principal axes of the z-points (PCA)")
        self.x_spin = QSpinBox()
        self.y_spin = QSpinBox()
        self.x_spin.setToolTip("Horizontal axis: latent component index (0-based) or PCA axis (1 = largest variance)")
        self.y_spin.setToolTip("Vertical axis: latent component index (0-based) or PCA axis (1 = largest variance)")
        axes = QHBoxLayout()
        axes.addWidget(QLabel("x"))
        axes.addWidget(self.x_spin, 1)
        axes.addWidget(QLabel("y"))
        axes.addWidget(self.y_spin, 1)
        pf.addRow(self.kind)
        pf.addRow(axes)
        self.quick = QListWidget()
        self.quick.setMaximumHeight(150)
        self.quick.setToolTip("Dominant latent components (|μ| ≥ 0.25 or half-width ≥ 1.5, widest "
                              "first) or the leading PCA axes.\nClick: horizontal axis; "
                              "Ctrl/Shift+click: vertical axis.")
        self.quick_label = QLabel("Dominant components")
        pf.addRow(self.quick_label)
        pf.addRow(self.quick)

        ov_box = QGroupBox("Ellipses")
        of = QVBoxLayout(ov_box)
        of.setContentsMargins(6, 4, 6, 4)
        self.sigma = LabeledSlider("σ level", 0.25, 4.0, 0.05, state.sigma_level,
                                   tooltip="Sigma level of the confidence ellipse (red): for a "
                                           "Gaussian cloud 1 − exp(−k²/2) of the points lie inside; "
                                           "also the ellipse sampler's half-axes (k·σ)")
        self.fact = LabeledSlider("fact", 0.05, 1.5, 0.05, state.fact,
                                  tooltip="Scale of the sampling ellipse (green, dashed): half-axes "
                                          "= σ level × σ × fact (seed: 0.6–0.8 gave faces)")
        of.addWidget(self.sigma)
        of.addWidget(self.fact)

        view_box = QGroupBox("View")
        vf = QFormLayout(view_box)
        vf.setContentsMargins(6, 4, 6, 4)
        self.color_by = QComboBox()
        self.color_by.setToolTip("Colour the z-points by their density or by an attribute of the "
                                 "images (CelebA attributes or synthetic-face factors)")
        vf.addRow("Colour", self.color_by)
        self.snap = QCheckBox("Snap to data point")
        self.snap.setToolTip("Clicks select the nearest data point's own z-vector (same as Ctrl+click)")
        self.path_mode = QCheckBox("Path mode")
        self.path_mode.setToolTip("Drag draws a path and clicks add waypoints (same as Shift+drag); "
                                  "the strip below shows the decoded faces along it")
        self.reset = QPushButton("Reset zoom")
        self.reset.setToolTip("Zoom to the bulk of the z-points (Ctrl+0)")
        vf.addRow(self.snap)
        vf.addRow(self.path_mode)
        vf.addRow(self.reset)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(plane_box)
        lay.addWidget(ov_box)
        lay.addWidget(view_box)
        lay.addStretch(1)
        self.setFixedWidth(230)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.x_spin.valueChanged.connect(self._axes_changed)
        self.y_spin.valueChanged.connect(self._axes_changed)
        self.quick.itemClicked.connect(self._quick_clicked)
        self.sigma.valueChanged.connect(self._set_sigma)
        self.fact.valueChanged.connect(self._set_fact)
        self.color_by.currentIndexChanged.connect(self._color_changed)
        self.snap.toggled.connect(scatter.set_snap_mode)
        self.path_mode.toggled.connect(scatter.set_path_mode)
        self.reset.clicked.connect(scatter.refresh_data)

        state.planeChanged.connect(self.sync)
        state.analysisChanged.connect(self.sync)
        state.latentsChanged.connect(self._fill_color_by)
        state.colorByChanged.connect(self._fill_color_by)
        state.overlayChanged.connect(self._sync_sliders)
        self._fill_color_by()
        self.sync()

    # --------------------------------------------------------------------------- from state
    def sync(self) -> None:
        st = self.state
        self._syncing = True
        try:
            kind, i, j = st.plane
            self.kind.setCurrentIndex(0 if kind == "latent" else 1)
            pca_item = self.kind.model().item(1)
            pca_item.setEnabled(st.n_pca >= 2)
            pca_item.setToolTip("" if st.n_pca >= 2 else "PCA is being computed")
            n = st.z_dim if kind == "latent" else st.n_pca
            off = 0 if kind == "latent" else 1
            for spin, v in ((self.x_spin, i), (self.y_spin, j)):
                spin.setPrefix("" if kind == "latent" else "PC ")
                spin.setRange(off, max(off, n - 1 + off))
                spin.setValue(v + off)
            self._fill_quick()
        finally:
            self._syncing = False

    def _sync_sliders(self) -> None:
        self.sigma.setValue(self.state.sigma_level)
        self.fact.setValue(self.state.fact)

    def _fill_quick(self) -> None:
        st = self.state
        kind = st.plane[0]
        self.quick.clear()
        if kind == "latent":
            self.quick_label.setText("Dominant components")
            stats = st.stats or {}
            dom = list(stats.get("dominant", []))[:64]
            mu, hw = stats.get("mu"), stats.get("half_width")
            for k in dom:
                text = f"z[{k}]"
                if mu is not None and hw is not None:
                    text += f"   μ {mu[k]:+.2f}  hw {hw[k]:.2f}"
                it = QListWidgetItem(text)
                it.setData(Qt.UserRole, int(k))
                self.quick.addItem(it)
            if not dom:
                it = QListWidgetItem("(statistics being computed)" if st.z is not None and st.stats is None
                                     else "(none)")
                it.setFlags(Qt.NoItemFlags)
                self.quick.addItem(it)
        else:
            self.quick_label.setText("Leading PCA axes")
            ratio = getattr(st.pca, "explained_variance_ratio_", None)
            for k in range(min(st.n_pca, 32)):
                text = f"PC {k + 1}"
                if ratio is not None:
                    text += f"   {100 * ratio[k]:.1f} % var"
                it = QListWidgetItem(text)
                it.setData(Qt.UserRole, k)
                self.quick.addItem(it)

    def _fill_color_by(self) -> None:
        st = self.state
        self._syncing = True
        try:
            self.color_by.clear()
            self.color_by.addItem("none", None)
            self.color_by.addItem("density", "density")
            for name in st.attribute_names:
                self.color_by.addItem(name, name)
            k = self.color_by.findData(st.color_by)
            self.color_by.setCurrentIndex(max(k, 0))
        finally:
            self._syncing = False

    # ---------------------------------------------------------------------------- to state
    def _apply(self, kind: str, i: int, j: int) -> None:
        try:
            self.state.set_plane(kind, i, j)
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(str(exc))
            self.sync()

    def _kind_changed(self, _idx: int) -> None:
        if self._syncing:
            return
        kind = self.kind.currentData()
        if kind == self.state.plane[0]:
            return
        self._apply(kind, 0, 1)

    def _axes_changed(self, _v: int) -> None:
        if self._syncing:
            return
        kind = self.state.plane[0]
        off = 0 if kind == "latent" else 1
        i, j = self.x_spin.value() - off, self.y_spin.value() - off
        if i == j:  # keep the plane valid: swap with the old value
            oi, oj = self.state.plane[1], self.state.plane[2]
            if self.sender() is self.x_spin:
                j = oi
            else:
                i = oj
        self._apply(kind, i, j)

    def _quick_clicked(self, item: QListWidgetItem) -> None:
        k = item.data(Qt.UserRole)
        if k is None:
            return
        from PySide6.QtWidgets import QApplication

        kind, i, j = self.state.plane
        mods = QApplication.keyboardModifiers()
        if mods & (Qt.ControlModifier | Qt.ShiftModifier):
            j = k
            if j == i:
                i = self.state.plane[2]
        else:
            i = k
            if i == j:
                j = self.state.plane[1]
        self._apply(kind, i, j)

    def _set_sigma(self, v: float) -> None:
        self.state.set_sigma_level(v)

    def _set_fact(self, v: float) -> None:
        self.state.set_fact(v)

    def _color_changed(self, _idx: int) -> None:
        if self._syncing:
            return
        try:
            self.state.set_color_by(self.color_by.currentData())
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(str(exc))


# ------------------------------------------------------------------------------------------------
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
        self.state = AppState(runner=self.runner, parent=self)
        self._closing = False
        #: write gui_state.json when the window closes (off for screenshots)
        self.save_state_on_close = True
        #: error dialogs are shown (off for offscreen screenshots: a modal dialog would hang)
        self.interactive = True
        self._pending_training = False
        self._failed: dict[str, str] = {}

        # --- central tabs
        self.scatter = LatentScatterWidget(self.state)
        self.controls = PlaneControls(self.state, self.scatter)
        self.stale_banner = StaleBanner()
        explorer = QWidget()
        outer = QVBoxLayout(explorer)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addWidget(self.stale_banner)
        el = QHBoxLayout()
        el.setContentsMargins(2, 2, 2, 2)
        el.setSpacing(4)
        el.addWidget(self.controls)
        el.addWidget(self.scatter, 1)
        outer.addLayout(el, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(explorer, "Explorer")
        self.tabs.setTabToolTip(0, "The latent scatter: click to decode, Shift+drag for a path")
        self.training_view = self._optional("training_view", "TrainingView", "Training",
                                            "Live training: loss curves and the re-encoded subset")
        self.generator_panel = self._optional("generator_panel", "GeneratorPanel", "Generator",
                                              "Generate z-vectors (uniform, normal, mvn, ellipse) and "
                                              "decode them")
        self.analysis_views = self._optional("analysis_views", "AnalysisViews", "Analysis",
                                             "Histograms, radius, correlation, PCA, t-SNE, KMeans, VAE")
        self.setCentralWidget(self.tabs)

        # --- docks
        self.face_view = FaceView(self.state)
        self.face_dock = QDockWidget("Decoded face", self)
        self.face_dock.setObjectName("face_dock")
        self.face_dock.setWidget(self.face_view)
        self.face_dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                                   | QDockWidget.DockWidgetClosable)
        self.face_dock.setToolTip("The decoded face of the current z-vector")
        self.face_view.setMinimumWidth(250)
        self.addDockWidget(Qt.RightDockWidgetArea, self.face_dock)
        self.path_strip = PathStrip(self.state)
        self.path_dock = QDockWidget("Path strip", self)
        self.path_dock.setObjectName("path_dock")
        self.path_dock.setWidget(self.path_strip)
        self.path_dock.setFeatures(self.face_dock.features())
        self.addDockWidget(Qt.BottomDockWidgetArea, self.path_dock)
        self.resizeDocks([self.face_dock], [290], Qt.Horizontal)

        # --- status bar
        self.status_label = QLabel("Ready")
        self.status_label.setToolTip("What the application is doing")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
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

        self._build_menus()

        # --- wiring
        self.cancel_button.clicked.connect(self.cancel_tasks)
        self.runner.progress.connect(self._on_progress)
        self.runner.busyChanged.connect(self._on_busy)
        self.runner.started.connect(lambda name, _w: self._status(f"{name}: started"))
        self.runner.finished.connect(self._on_task_finished)
        self.runner.error.connect(lambda name, msg: self._failed.__setitem__(name, msg))
        self.state.errorOccurred.connect(lambda msg: self.show_error("LatentExplorer", msg))
        self.state.workspaceChanged.connect(self._on_workspace)
        self.state.latentsChanged.connect(self._on_latents)
        self.state.decoderChanged.connect(self.check_staleness)
        self.state.latentsChanged.connect(self.check_staleness)
        self.runner.finished.connect(lambda _name: self.check_staleness())
        self.stale_banner.reencodeRequested.connect(self.encode_again)
        if self.training_view is not None and hasattr(self.training_view, "trainingFinished"):
            self.training_view.trainingFinished.connect(self._on_training_finished)

        self.resize(1366, 768)
        if workspace is not None:
            QTimer.singleShot(0, lambda: self.open_workspace(workspace))

    # ------------------------------------------------------------------------------ building
    def _optional(self, module: str, cls: str, title: str, tip: str):
        """Add the other panels by module/class name; a placeholder when they are missing."""
        import importlib

        widget = None
        try:
            mod = importlib.import_module(f"latentexplorer.gui.{module}")
            widget = getattr(mod, cls)(self.state, self.runner)
            page = widget
        except Exception as exc:  # noqa: BLE001 -- a broken panel must not stop the explorer
            log.warning("%s panel not available: %s", title, exc)
            page = _placeholder(f"{title} panel not available ({type(exc).__name__}: {exc})")
        i = self.tabs.addTab(page, title)
        self.tabs.setTabToolTip(i, tip)
        return widget

    def _action(self, menu, text: str, slot: Callable, shortcut=None, tip: str = "",
                checkable: bool = False) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setToolTip(tip or text)
        act.setStatusTip(tip or text)
        act.setCheckable(checkable)
        (act.toggled if checkable else act.triggered).connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        mb.setToolTip("")
        f = mb.addMenu("&File")
        f.setToolTipsVisible(True)
        self.act_new = self._action(f, "&New from synthetic faces…", self.new_synthetic,
                                    QKeySequence.New, "Generate synthetic faces and train a model "
                                    "on them in the background (no download needed)")
        self.act_open = self._action(f, "&Open workspace…", self.open_workspace_dialog,
                                     QKeySequence.Open, "Open a workspace folder (config.json)")
        f.addSeparator()
        exp = f.addMenu("&Export")
        exp.setToolTipsVisible(True)
        self._action(exp, "Scatter plot as PNG/SVG…", self.export_scatter, "Ctrl+E",
                     "Save the scatter as an image")
        self._action(exp, "Path strip (PNG + JSON)…", self.path_strip.export_dialog, "Ctrl+Shift+E",
                     "Save the path strip with its z-vectors")
        self._action(exp, "Current z-vector (.npy/.csv)…", self.export_current_vector, None,
                     "Save the current z-vector")
        f.addSeparator()
        self._action(f, "&Quit", self.close, QKeySequence.Quit, "Close the explorer (Ctrl+Q)")
        self.act_quit = f.actions()[-1]
        self.act_quit.setShortcut(QKeySequence("Ctrl+Q"))

        v = mb.addMenu("&View")
        v.setToolTipsVisible(True)
        self._action(v, "Latent plane", lambda: self._set_kind("latent"), "Ctrl+L",
                     "Show latent components (z[i], z[j])")
        self._action(v, "PCA plane", lambda: self._set_kind("pca"), "Ctrl+P",
                     "Show PCA axes (PC i, PC j)")
        self._action(v, "Reset zoom", self.scatter.refresh_data, "Ctrl+0", "Zoom to the z-points")
        v.addSeparator()
        for k, name in enumerate(["Explorer", "Training", "Generator", "Analysis"]):
            self._action(v, f"{name} tab", lambda _=False, k=k: self.tabs.setCurrentIndex(k),
                         f"Ctrl+{k + 1}", f"Show the {name} tab")
        self.act_legend = self._action(v, "Show legend", self.scatter.legend.setVisible, "Ctrl+G",
                                       "Show the legend of the scatter's overlays", checkable=True)
        self.act_legend.setChecked(True)
        v.addSeparator()
        v.addAction(self.face_dock.toggleViewAction())
        v.addAction(self.path_dock.toggleViewAction())

        t = mb.addMenu("&Tools")
        t.setToolTipsVisible(True)
        self.act_snap = self._action(t, "Snap to data point", self.controls.snap.setChecked, "S",
                                     "Clicks select the nearest data point's own z-vector",
                                     checkable=True)
        self.act_path = self._action(t, "Path mode", self.controls.path_mode.setChecked, "P",
                                     "Drag/clicks in the scatter draw a path", checkable=True)
        self.controls.snap.toggled.connect(self.act_snap.setChecked)
        self.controls.path_mode.toggled.connect(self.act_path.setChecked)
        self._action(t, "Clear path", lambda: self.state.set_path(None), "Ctrl+Backspace",
                     "Remove the path")
        self._action(t, "Encode dataset again", self.encode_again, None,
                     "Re-encode the dataset with the saved encoder")
        self._action(t, "Cancel tasks", self.cancel_tasks, "Esc", "Stop all background tasks")

    # ------------------------------------------------------------------------------ tasks
    def start_task(self, name: str, fn, params=None, on_result: Callable | None = None) -> TaskWorker:
        """Run ``fn(params, reporter)`` as job ``name``; progress goes to the status bar, an
        error to a dialog, the result to ``on_result``."""
        w = self.runner.start(name, fn, params)
        if on_result is not None:
            w.result.connect(on_result)
        w.error.connect(lambda msg, name=name: self.show_error(f"Task '{name}' failed", msg))
        w.cancelled.connect(lambda name=name: self._status(f"{name}: cancelled"))
        return w

    def cancel_tasks(self) -> None:
        if self.runner.busy:
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
        self.progress.setVisible(busy)
        if not busy:
            self.progress.reset()

    def _on_task_finished(self, name: str) -> None:
        msg = self._failed.pop(name, None)
        self._status(f"{name}: failed — {msg}" if msg else f"{name}: done")

    def _status(self, text: str) -> None:
        self.status_label.setText(text)

    # ------------------------------------------------------------------------------ errors
    def show_error(self, title: str, message: str) -> None:
        """Show ``message`` in a warning dialog (never raises)."""
        log.warning("%s: %s", title, message)
        self._status(f"Error: {message}")
        self.errorShown.emit(message)
        if self._closing or not self.interactive:
            return
        try:
            QMessageBox.warning(self, title, message)
        except Exception:  # noqa: BLE001
            log.exception("could not show the error dialog")

    # ------------------------------------------------------------------------------ workspace
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
        self.state.load_workspace(ws)
        try:
            from .settings import Settings

            Settings().remember_folder(ws.path, "workspace")
        except Exception:  # noqa: BLE001
            pass
        self.workspaceOpened.emit(ws)
        return True

    def open_workspace_dialog(self) -> None:
        start = str(Path.home())
        try:
            from .settings import Settings

            start = Settings().last_folder("workspace")
        except Exception:  # noqa: BLE001
            pass
        folder = QFileDialog.getExistingDirectory(self, "Open workspace", start)
        if folder:
            self.open_workspace(folder)

    def _on_workspace(self) -> None:
        ws = self.state.workspace
        self.setWindowTitle(f"{APP_TITLE} — {Path(ws.path).name}" if ws is not None else APP_TITLE)
        if ws is None:
            return
        self._status(f"Opened {ws.path}")
        try:
            has_model, has_lat = ws.has_model, ws.has_latents
        except Exception:  # noqa: BLE001
            has_model, has_lat = False, False
        if has_model and not has_lat:
            self._status("The model has no latents yet: encoding the dataset…")
            self.start_task("encode", encode_task, {"ws": ws},
                            on_result=lambda _l, ws=ws: self.state.load_workspace(ws)
                            if self.state.workspace is ws else None)
        elif not has_model and self._pending_training:
            pass
        elif not has_model:
            self._status(f"{Path(ws.path).name}: no trained model yet — start training in the "
                         "Training tab")

    def _on_latents(self) -> None:
        st = self.state
        self._status(f"{st.n_points:,} z-points, z_dim {st.z_dim}")

    def check_staleness(self) -> None:
        """Show the banner when the loaded z-points were encoded by other weights than the
        committed model, or from other images than the store has now."""
        from ..workspace.staleness import check_staleness

        ws, meta = self.state.workspace, self.state.latents_meta
        message = None
        if ws is not None and meta is not None and not self.runner.is_running("encode"):
            try:
                stale = check_staleness(ws, meta)
                message = stale.message.split(" (run ")[0] if stale.stale else None
            except (InvalidInputError, OSError) as exc:
                message = str(exc)
        self.stale_banner.show_message(message)

    def save_gui_state(self) -> None:
        try:
            self.state.save_gui_state()
        except Exception as exc:  # noqa: BLE001 -- disposable file
            log.warning("gui_state.json not written: %s", exc)

    def encode_again(self) -> None:
        ws = self.state.workspace
        if ws is None:
            self.show_error("Encode", "Open a workspace first.")
            return
        self.start_task("encode", encode_task, {"ws": ws},
                        on_result=lambda _l, ws=ws: self.state.load_workspace(ws))

    # ------------------------------------------------------------------------------ synthetic
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
        self._pending_training = True
        self._status("Generating synthetic faces…")
        w = self.start_task("synth", synthetic_workspace_task, params,
                            on_result=self._synthetic_ready)
        w.finished.connect(lambda: setattr(self, "_pending_training", False)
                           if not self.runner.is_running("train") else None)
        return w

    def _synthetic_ready(self, ws) -> None:
        self.state.load_workspace(ws)
        self.start_training()

    def start_training(self):
        """Train the current workspace in the background (Training tab shows the live curves)."""
        ws = self.state.workspace
        if ws is None:
            return None
        if self.training_view is not None:
            self.tabs.setCurrentWidget(self.training_view)
            w = self.training_view.start_training(resume=ws.checkpoint_epoch > 0)
        else:
            w = self.start_task("train", fallback_training_task,
                                {"ws": ws, "epochs": ws.training.get("epochs", 8)},
                                on_result=lambda _r, ws=ws: self._on_training_finished(None))
        self._pending_training = False
        return w

    def _on_training_finished(self, _result) -> None:
        ws = self.state.workspace
        if ws is not None and self.training_view is None:
            self.state.load_workspace(ws)
        self.tabs.setCurrentIndex(0)
        self._status("Training finished — click the scatter to decode faces")

    # ------------------------------------------------------------------------------ export
    def export_scatter(self) -> None:
        try:
            from .export import export_plot_dialog
        except ImportError as exc:
            self.show_error("Export", f"export not available: {exc}")
            return
        try:
            export_plot_dialog(self, self.scatter, "scatter")
        except Exception as exc:  # noqa: BLE001
            self.show_error("Export", str(exc))

    def export_current_vector(self) -> None:
        v = self.state.current
        if v is None:
            self.show_error("Export", "There is no current z-vector.")
            return
        try:
            from .export import ask_save_path, save_vectors

            path = ask_save_path(self, "Export z-vector", "export",
                                 "NumPy array (*.npy);;CSV (*.csv)", "z_vector.npy")
            if path is not None:
                save_vectors(path, np.asarray(v)[None, :])
        except Exception as exc:  # noqa: BLE001
            self.show_error("Export", str(exc))

    def _set_kind(self, kind: str) -> None:
        st = self.state
        try:
            st.set_plane(kind, 0, 1)
        except InvalidInputError as exc:
            self.show_error("Plane", str(exc))

    # ------------------------------------------------------------------------------ closing
    def closeEvent(self, ev) -> None:  # noqa: N802
        """Save gui_state.json; stop background work (training keeps its checkpoint) and wait."""
        self._closing = True
        if self.save_state_on_close:
            self.save_gui_state()
        if self.runner.busy:
            self._status("Stopping background tasks…")
            self.runner.cancel_all(wait_ms=120_000)
        super().closeEvent(ev)

    # ------------------------------------------------------------------------------ tests / tools
    def wait_idle(self, timeout_ms: int = 60_000) -> bool:
        """Process events until no task runs and pending decodes are done (tests, screenshots)."""
        import time

        from PySide6.QtWidgets import QApplication

        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:
            QApplication.processEvents()
            if not self.runner.busy and not self.face_view._timer.isActive() \
                    and not self.path_strip._timer.isActive():
                QApplication.processEvents()
                return True
            time.sleep(0.01)
        return False
