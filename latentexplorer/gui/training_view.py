"""Live training view: loss curves, and a fixed image subset re-encoded after every epoch.

Training runs as the ``"train"`` job of the :class:`~latentexplorer.gui.workers.TaskRunner`
(:func:`training_task` calls :func:`latentexplorer.models.training.train`). Per-batch and per-epoch
payloads (history rows, the re-encoded subset projected to 2-D) are produced in the worker thread
and delivered to the GUI thread through the queued signals of :class:`TrainingBridge`, a QObject
that lives in the GUI thread; the worker never touches a widget.

The scatter is projected with :class:`StableProjector`: PCA of the first epoch's encoding, then every
later encoding is orthogonally aligned (Procrustes, rotations and reflections) to the previous one
in a k-dimensional PCA subspace, so the points move smoothly instead of jumping when PCA axes flip
sign or swap order between epochs.
"""

from __future__ import annotations

import logging
import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QProgressBar, QPushButton, QSizePolicy,
                               QSpinBox, QSplitter, QVBoxLayout, QWidget)

from ..errors import InvalidInputError
from ..progress import ProgressReporter
from .widgets import configure_pyqtgraph

log = logging.getLogger(__name__)

#: images of the dataset re-encoded after every epoch for the live scatter
SUBSET_SIZE = 500
#: dimension of the PCA subspace in which successive encodings are aligned
ALIGN_DIM = 16
#: a batch-loss point is sent at most this often (seconds)
BATCH_INTERVAL = 0.25

LOSS_KEYS = ("total_loss", "reco_loss", "kl_loss")
LOSS_LABELS = {"total_loss": "total", "reco_loss": "reconstruction", "kl_loss": "KL"}
LOSS_COLORS = {"total_loss": (31, 119, 180), "reco_loss": (44, 160, 44), "kl_loss": (214, 39, 40)}


# ------------------------------------------------------------------------------------------------
# Qt-free: stable 2-D projection of successive encodings
# ------------------------------------------------------------------------------------------------
def orthogonal_align(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The orthogonal matrix R (k, k) minimising ``||x @ R - ref||`` (orthogonal Procrustes).

    ``x`` and ``ref`` are (n, k) with rows paired (the same images); rotations and reflections are
    allowed, no scaling, so a growing latent scale stays visible.
    """
    x = np.asarray(x, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if x.shape != ref.shape:
        raise InvalidInputError(f"alignment: shapes differ, {x.shape} vs {ref.shape}")
    u, _, vt = np.linalg.svd(x.T @ ref)
    return u @ vt


def _pca_coords(z: np.ndarray, k: int) -> np.ndarray:
    """Coordinates (n, k) of the centred ``z`` on its k leading principal axes (variance order)."""
    zc = z - z.mean(axis=0, keepdims=True)
    # SVD of the (n, d) matrix: n is small (a few hundred), d <= a few hundred
    u, s, _ = np.linalg.svd(zc, full_matrices=False)
    coords = u[:, :k] * s[:k]
    # deterministic signs: largest |coordinate| positive per axis
    idx = np.argmax(np.abs(coords), axis=0)
    signs = np.sign(coords[idx, np.arange(coords.shape[1])])
    signs[signs == 0] = 1.0
    coords = coords * signs
    if coords.shape[1] < k:  # fewer points/dimensions than k: pad with zeros
        coords = np.pad(coords, ((0, 0), (0, k - coords.shape[1])))
    return coords


class StableProjector:
    """2-D projections of successive encodings of the same images that move smoothly.

    The first call fits a PCA (``k = align_dim`` axes) and shows the two leading axes. Every later
    call takes the new encoding's own k leading PCA coordinates and rotates/reflects them
    (orthogonal Procrustes) onto the previous aligned coordinates; the first two aligned columns
    are shown. An encoding that is only rotated or reflected relative to the previous one thus
    gives the same picture, and a gradually changing one moves gradually.

    Parameters
    ----------
    align_dim : int
        Dimension of the PCA subspace used for the alignment (capped by z_dim and n - 1).
    """

    def __init__(self, align_dim: int = ALIGN_DIM) -> None:
        self.align_dim = int(align_dim)
        self.reference_: np.ndarray | None = None
        self.n_updates_ = 0

    def reset(self) -> None:
        self.reference_ = None
        self.n_updates_ = 0

    def project(self, z: np.ndarray) -> np.ndarray:
        """Projection (n, 2) float32 of the encoding ``z`` (n, z_dim) of the fixed subset."""
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[0] < 2:
            raise InvalidInputError(f"encoding: expected shape (n >= 2, z_dim), got {z.shape}")
        k = max(2, min(self.align_dim, z.shape[1], z.shape[0] - 1))
        coords = _pca_coords(z, k)
        ref = self.reference_
        if ref is not None and ref.shape == coords.shape:
            coords = coords @ orthogonal_align(coords, ref)
        self.reference_ = coords
        self.n_updates_ += 1
        return coords[:, :2].astype(np.float32)


# ------------------------------------------------------------------------------------------------
# worker side
# ------------------------------------------------------------------------------------------------
class TrainingBridge(QObject):
    """Carries per-batch and per-epoch payloads from the training worker to the GUI thread.

    Lives in the GUI thread; its signals are emitted from the worker thread and delivered queued.

    Signals
    -------
    batchLoss(dict) -- ``{"epoch": float (fractional), "total_loss": ..., ...}``
    epochEnded(dict) -- ``{"row": history row, "projection": (n, 2) float32 or None,
                          "labels": (n,) float or None}``
    """

    batchLoss = Signal(object)
    epochEnded = Signal(object)


_LOSS_RE = re.compile(r"(total_loss|reco_loss|kl_loss|loss|reco|kl|total)\s*[=:]\s*([-+0-9.eE]+|nan|inf)")


def parse_losses(message: str) -> dict[str, float]:
    """Loss values in a progress message such as ``"epoch 2/5 total_loss=512.3 kl_loss=3.1"``."""
    out: dict[str, float] = {}
    alias = {"loss": "total_loss", "total": "total_loss", "reco": "reco_loss", "kl": "kl_loss"}
    for key, value in _LOSS_RE.findall(message or ""):
        try:
            out[alias.get(key, key)] = float(value)
        except ValueError:
            continue
    return out


class _BatchForwarder(ProgressReporter):
    """Reporter handed to ``train``: forwards progress to the worker's reporter and sends the loss
    values found in the messages to the bridge (rate-limited)."""

    def __init__(self, inner: ProgressReporter, bridge: TrainingBridge | None,
                 first_epoch: int, interval: float = BATCH_INTERVAL) -> None:
        super().__init__(cancel_event=inner.cancel_event)
        self._inner = inner
        self._bridge = bridge
        self._first_epoch = first_epoch
        self._interval = interval
        self._last = 0.0
        self.epoch = first_epoch  # 0-based index of the running epoch

    def update(self, done: int, total: int, message: str = "") -> None:
        self._inner.update(done, total, message)
        if self._bridge is None or total <= 0:
            return
        now = time.monotonic()
        if now - self._last < self._interval:
            return
        losses = parse_losses(message)
        if not losses:
            return
        self._last = now
        m = re.search(r"epoch\s+(\d+)", message or "")
        epoch0 = int(m.group(1)) - 1 if m else self.epoch
        self._bridge.batchLoss.emit({"epoch": epoch0 + min(done / total, 1.0), **losses})


def _encode_subset(encoder, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """z (AE) or mu (VAE) of ``images`` (uint8 NHWC) with a Keras ``encoder``."""
    parts = []
    for s in range(0, len(images), batch_size):
        x = images[s:s + batch_size].astype(np.float32) / 255.0
        out = encoder(x, training=False)
        if isinstance(out, (list, tuple)):
            out = out[0]
        parts.append(np.asarray(out, dtype=np.float32))
    return np.concatenate(parts)


def training_task(params, reporter: ProgressReporter) -> dict:
    """Worker function: train ``params["ws"]`` for ``params["epochs"]`` epochs, then encode the set.

    Parameters (mapping): ``ws`` (Workspace), ``epochs`` (target epoch count), ``resume`` (bool),
    ``bridge`` (:class:`TrainingBridge` or None), ``subset`` (indices into the dataset for the live
    scatter or None), ``reference`` (the :class:`StableProjector` reference of the projection shown
    before training, or None), ``label_index`` (attribute column to colour by or None), ``encode`` (bool:
    encode the whole dataset at the end, default True).

    Returns ``{"history": list of rows, "latents": Latents or None}``.
    """
    from ..workspace.training import train

    ws = params["ws"]
    bridge = params.get("bridge")
    subset = params.get("subset")
    projector = StableProjector()
    reference = params.get("reference")
    if reference is not None:  # continue the basis the view shows (same subset of images)
        projector.reference_ = np.array(reference, dtype=np.float64)
    images = None
    labels = None
    if subset is not None and len(subset) >= 3:
        store = ws.dataset()
        idx = np.asarray(subset, dtype=np.int64)
        images = store.batch(idx)
        li = params.get("label_index")
        if li is not None and store.attributes is not None:
            labels = np.asarray(store.attributes[idx, int(li)], dtype=np.float32)
    start_epoch = ws.checkpoint_epoch if params.get("resume") else 0
    forwarder = _BatchForwarder(reporter, bridge, start_epoch)

    def on_epoch_end(row: dict) -> None:
        row = dict(row)
        forwarder.epoch = int(row.get("epoch", forwarder.epoch + 1))
        projection = None
        if images is not None:
            try:  # the checkpoint of this epoch is on disk: its encoder is the current one
                projection = projector.project(_encode_subset(ws.load_encoder(), images))
            except Exception as exc:  # noqa: BLE001 -- the live view must never stop training
                log.warning("live scatter: re-encoding failed: %s", exc)
        if bridge is not None:
            bridge.epochEnded.emit({"row": row, "projection": projection, "labels": labels})

    history = train(ws, int(params["epochs"]), resume=bool(params.get("resume")),
                    progress=forwarder, on_epoch_end=on_epoch_end)
    reporter.raise_if_cancelled()
    latents = None
    if params.get("encode", True):
        reporter.update(0, 1, "encoding the dataset")
        latents = ws.encode(progress=reporter)
    return {"history": list(history or []), "latents": latents}


def subset_projection_task(params, reporter: ProgressReporter | None = None) -> dict:
    """Worker function: the stable 2-D projection of the fixed subset's z-points.

    Parameters (mapping): ``z`` (k, z_dim) -- the z-points of the subset (already gathered, so
    the task never touches the full array). Returns ``{"xy": (k, 2) float32, "reference": the
    fitted :class:`StableProjector` reference}`` (the view continues that basis when training
    resumes). The SVD takes 10 ms to several seconds on a loaded machine (BLAS threads fighting
    for cores), which is why it runs here and not in the GUI thread.
    """
    reporter = reporter or ProgressReporter()
    reporter.update(0, 1, "projecting the fixed subset")
    projector = StableProjector()
    xy = projector.project(np.asarray(params["z"]))
    reporter.update(1, 1, "subset projected")
    return {"xy": xy, "reference": projector.reference_}


# ------------------------------------------------------------------------------------------------
# widgets
# ------------------------------------------------------------------------------------------------
def _pen(color, *, dashed: bool = False, width: float = 2.0):
    pen = pg.mkPen(color=color, width=width)
    if dashed:
        pen.setStyle(Qt.DashLine)
    return pen


class LossCurves(QWidget):
    """Loss curves: total and reconstruction (left), KL (right); train solid, validation dashed,
    batch-level losses as thin lines between the epoch markers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.rows: list[dict] = []
        self.batch_points: list[dict] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.main_plot = pg.PlotWidget(background="w")
        self.kl_plot = pg.PlotWidget(background="w")
        for plot, title in ((self.main_plot, "Loss per image"), (self.kl_plot, "KL divergence")):
            plot.setTitle(title, color="k", size="10pt")
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.addLegend(offset=(-5, 5), labelTextColor="k", brush=pg.mkBrush(255, 255, 255, 200))
            plot.setMinimumHeight(140)
            layout.addWidget(plot)
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key in LOSS_KEYS:
            plot = self.kl_plot if key == "kl_loss" else self.main_plot
            color = LOSS_COLORS[key]
            label = LOSS_LABELS[key]
            self.curves[f"batch_{key}"] = plot.plot([], [], pen=_pen(color + (90,), width=1))
            self.curves[key] = plot.plot([], [], pen=_pen(color), symbol="o", symbolSize=6,
                                         symbolBrush=color, symbolPen=None, name=f"{label} (train)")
            self.curves[f"val_{key}"] = plot.plot([], [], pen=_pen(color, dashed=True), symbol="t",
                                                  symbolSize=6, symbolBrush=color, symbolPen=None,
                                                  name=f"{label} (val)")

    def clear(self) -> None:
        self.rows = []
        self.batch_points = []
        self._redraw()

    def set_history(self, rows: list[dict], keep_batches: bool = False) -> None:
        """Show the per-epoch ``rows`` (batch-level points are dropped unless ``keep_batches``)."""
        self.rows = [dict(r) for r in rows if isinstance(r, dict) and "epoch" in r]
        if not keep_batches:
            self.batch_points = []
        self._redraw()

    @Slot(object)
    def add_row(self, row: dict) -> None:
        """Append (or replace) the history row of one epoch."""
        row = dict(row)
        self.rows = [r for r in self.rows if r.get("epoch") != row.get("epoch")] + [row]
        self.rows.sort(key=lambda r: r.get("epoch", 0))
        # batch points up to this epoch stay; the epoch marker closes that stretch
        self._redraw()

    @Slot(object)
    def add_batch(self, point: dict) -> None:
        """Append a batch-level loss point ``{"epoch": fractional epoch, "total_loss": ...}``."""
        self.batch_points.append(dict(point))
        self._redraw(batch_only=True)

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) plotted for ``key`` (e.g. ``"total_loss"``, ``"val_kl_loss"``,
        ``"batch_total_loss"``)."""
        if key.startswith("batch_"):
            src, k = self.batch_points, key[len("batch_"):]
        else:
            src, k = self.rows, key
        pts = [(float(r["epoch"]), float(r[k])) for r in src
               if k in r and r[k] is not None and math.isfinite(float(r[k]))]
        if not pts:
            return np.zeros(0), np.zeros(0)
        arr = np.asarray(pts, dtype=np.float64)
        return arr[:, 0], arr[:, 1]

    def _redraw(self, batch_only: bool = False) -> None:
        for key in LOSS_KEYS:
            names = [f"batch_{key}"] if batch_only else [key, f"val_{key}", f"batch_{key}"]
            for name in names:
                x, y = self.series(name)
                self.curves[name].setData(x, y)
        has_kl = any("kl_loss" in r and r.get("kl_loss") for r in self.rows) or \
            any(p.get("kl_loss") for p in self.batch_points)
        self.kl_plot.setVisible(has_kl or not (self.rows or self.batch_points))


class EncodingScatter(pg.PlotWidget):
    """Scatter of the fixed subset's encoding in the stable PCA basis."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setTitle("Fixed subset re-encoded after each epoch", color="k", size="10pt")
        self.setLabel("bottom", "stable PC 1")
        self.setLabel("left", "stable PC 2")
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setMinimumHeight(160)
        self.trail = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(150, 150, 150, 60))
        self.points = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(31, 119, 180, 170))
        self.addItem(self.trail)
        self.addItem(self.points)
        self.projection: np.ndarray | None = None
        self.epoch: int | None = None

    def clear_points(self) -> None:
        self.projection = None
        self.epoch = None
        self.trail.setData([], [])
        self.points.setData([], [])
        self.setTitle("Fixed subset re-encoded after each epoch", color="k", size="10pt")

    def set_projection(self, xy: np.ndarray, epoch: int | None = None,
                       labels: np.ndarray | None = None) -> None:
        xy = np.asarray(xy, dtype=np.float32)
        if self.projection is not None and self.projection.shape == xy.shape:
            self.trail.setData(self.projection[:, 0], self.projection[:, 1])
        self.projection = xy
        self.epoch = epoch
        brush: Any = pg.mkBrush(31, 119, 180, 170)
        if labels is not None and len(labels) == len(xy) and np.isfinite(labels).all():
            lo, hi = float(np.min(labels)), float(np.max(labels))
            t = (labels - lo) / (hi - lo) if hi > lo else np.zeros(len(labels))
            cmap = pg.colormap.get("viridis")
            brush = [pg.mkBrush(c) for c in cmap.map(t, mode="qcolor")]
        self.points.setData(xy[:, 0], xy[:, 1], brush=brush)
        if epoch is not None:
            self.setTitle(f"Fixed subset ({len(xy)} images) re-encoded after epoch {epoch}",
                          color="k", size="10pt")


class TrainingView(QWidget):
    """Training controls, live loss curves and the live encoding scatter.

    Parameters
    ----------
    state : AppState
    runner : TaskRunner
    """

    JOB = "train"

    trainingFinished = Signal(object)  # the worker's result dict

    def __init__(self, state, runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.runner = runner
        self.worker = None
        self.bridge = TrainingBridge(self)
        self.bridge.batchLoss.connect(self._on_batch, Qt.QueuedConnection)
        self.bridge.epochEnded.connect(self._on_epoch, Qt.QueuedConnection)
        self.subset_size = SUBSET_SIZE
        self._build()
        self.projector = StableProjector()
        state.workspaceChanged.connect(self._on_workspace)
        state.latentsChanged.connect(self._show_current_latents)
        self._on_workspace()

    # ------------------------------------------------------------------------------ layout
    def _build(self) -> None:
        controls = QGroupBox("Training")
        form = QFormLayout(controls)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(24)
        self.epochs.setToolTip("Train until this many epochs are complete (resume continues up to it)")
        self.kind = QComboBox()
        self.kind.addItems(["ae", "vae"])
        self.kind.setToolTip("Plain autoencoder (ae) or variational autoencoder (vae)")
        self.fact = QDoubleSpinBox()
        self.fact.setDecimals(6)
        self.fact.setRange(0.0, 1000.0)
        self.fact.setValue(5.0)
        self.fact.setToolTip("VAE: weight of the KL term (seed: 5, or 1e-5 for a nearly plain AE)")
        self.z_dim = QSpinBox()
        self.z_dim.setRange(2, 4096)
        self.z_dim.setValue(256)
        self.z_dim.setToolTip("Dimension of the latent space")
        self.preset = QComboBox()
        self.preset.addItems(["case1", "case2"])
        self.preset.setToolTip("Architecture preset of the seeds (SPEC §3)")
        form.addRow("Epochs", self.epochs)
        form.addRow("Model", self.kind)
        form.addRow("fact (KL)", self.fact)
        form.addRow("z_dim", self.z_dim)
        form.addRow("Preset", self.preset)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train a new model with these settings (a workspace that already "
                                     "has a model gets a new sibling workspace)")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue training the workspace's model up to the epoch count")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch; the last complete epoch is kept")
        for b in (self.start_button, self.resume_button, self.stop_button):
            buttons.addWidget(b)
        form.addRow(buttons)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setToolTip("Batches of the running epoch")
        form.addRow(self.progress)
        self.status = QLabel("No workspace")
        self.status.setWordWrap(True)
        self.status.setToolTip("Training status")
        form.addRow(self.status)
        controls.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        self.kind.currentTextChanged.connect(lambda k: self.fact.setEnabled(k == "vae"))
        self.fact.setEnabled(False)
        self.start_button.clicked.connect(lambda: self.start_training(resume=False))
        self.resume_button.clicked.connect(lambda: self.start_training(resume=True))
        self.stop_button.clicked.connect(self.stop_training)

        self.curves = LossCurves()
        self.scatter = EncodingScatter()
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.curves)
        right.addWidget(self.scatter)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)

        left = QVBoxLayout()
        left.addWidget(controls)
        left.addStretch(1)
        left_w = QWidget()
        left_w.setLayout(left)
        left_w.setMaximumWidth(300)
        layout = QHBoxLayout(self)
        layout.addWidget(left_w)
        layout.addWidget(right, 1)
        self._update_buttons()

    # ------------------------------------------------------------------------------ state
    def kl_plot_visible(self) -> bool:
        """Whether the KL plot is shown (hidden for AE histories, whose KL is 0)."""
        return not self.curves.kl_plot.isHidden()

    @property
    def running(self) -> bool:
        return self.worker is not None and not self.worker.is_finished

    def _update_buttons(self) -> None:
        ws = self.state.workspace
        running = self.running
        self.start_button.setEnabled(ws is not None and not running)
        can_resume = False
        if ws is not None:
            try:
                can_resume = ws.checkpoint_epoch > 0
            except InvalidInputError:
                can_resume = False
        self.resume_button.setEnabled(can_resume and not running)
        self.stop_button.setEnabled(running)
        for w in (self.epochs, self.kind, self.fact, self.z_dim, self.preset):
            w.setEnabled(not running and (w is not self.fact or self.kind.currentText() == "vae"))

    def _on_workspace(self) -> None:
        ws = self.state.workspace
        if self.running:
            return
        self.scatter.clear_points()
        if ws is None:
            self.curves.clear()
            self.status.setText("No workspace: open one or use File > Quick start")
            self._update_buttons()
            return
        cfg = ws.model_config
        self.kind.setCurrentText(cfg.kind)
        self.fact.setValue(float(cfg.fact))
        self.z_dim.setValue(int(cfg.z_dim))
        if self.preset.findText(cfg.preset) < 0:
            self.preset.addItem(cfg.preset)
        self.preset.setCurrentText(cfg.preset)
        try:
            self.epochs.setValue(max(int(ws.training.get("epochs", 24)), 1))
            rows = ws.history()
            done = ws.checkpoint_epoch
        except InvalidInputError as exc:
            rows, done = [], 0
            self.status.setText(str(exc))
        self.curves.set_history(rows)
        self.status.setText(f"{Path(ws.path).name}: {done} epoch(s) trained"
                            if done else f"{Path(ws.path).name}: not trained yet")
        self._update_buttons()

    def model_config(self):
        """The :class:`ModelConfig` the controls describe.

        The workspace's config with kind, z_dim and fact replaced (its other settings, e.g. a
        custom architecture, are kept); a different preset starts from that preset's layers.
        """
        from ..schemas import ModelConfig

        ws = self.state.workspace
        changes = {"kind": self.kind.currentText(), "z_dim": int(self.z_dim.value())}
        if changes["kind"] == "vae":
            changes["fact"] = float(self.fact.value())
        if ws is None:
            return ModelConfig.from_preset(self.preset.currentText(), **changes)
        base = ws.model_config
        if self.preset.currentText() != base.preset and self.preset.currentText() in ("case1", "case2"):
            return ModelConfig.from_preset(self.preset.currentText(), image_size=base.image_size,
                                           activation=base.activation, loss=base.loss, **changes)
        return base.replace(**changes)

    # ------------------------------------------------------------------------------ actions
    def start_training(self, resume: bool = False):
        """Start (``resume=False``) or continue training the current workspace in the worker.

        Start with settings different from a workspace that already holds a model creates a new
        sibling workspace (same dataset) and opens it. Returns the worker (or None).
        """
        ws = self.state.workspace
        if ws is None or self.running:
            return None
        epochs = int(self.epochs.value())
        try:
            if not resume:
                ws = self._workspace_for_start(ws)
                self.epochs.setValue(epochs)  # opening a new workspace resets the controls
            if resume and ws.checkpoint_epoch >= epochs:
                raise InvalidInputError(f"the model already has {ws.checkpoint_epoch} epochs; "
                                        f"raise 'Epochs' above that to resume")
            if ws.training.get("epochs") != epochs:
                ws.update_training(epochs=epochs)
            subset = self._subset(ws)
        except (InvalidInputError, OSError) as exc:
            self._error(str(exc))
            return None
        if not resume:
            self.curves.clear()
        reference = None
        if resume and self.projector.reference_ is not None and subset is not None \
                and self.projector.reference_.shape[0] == len(subset):
            reference = self.projector.reference_.copy()
        params = {"ws": ws, "epochs": epochs, "resume": resume, "bridge": self.bridge,
                  "subset": subset, "reference": reference, "label_index": self._label_index(ws),
                  "encode": True}
        if reference is None:
            self.scatter.clear_points()
        self.worker = self.runner.start(self.JOB, training_task, params)
        self.worker.progress.connect(self._on_progress)
        self.worker.result.connect(self._on_result)
        self.worker.error.connect(self._error)
        self.worker.cancelled.connect(lambda: self.status.setText("Training stopped; last complete "
                                                                  "epoch kept"))
        self.worker.finished.connect(self._on_finished)
        self.status.setText(("Resuming" if resume else "Training") + f" up to epoch {epochs} ...")
        self._update_buttons()
        return self.worker

    def stop_training(self) -> None:
        if self.running:
            self.worker.cancel()
            self.status.setText("Stopping after the current batch ...")

    def _workspace_for_start(self, ws):
        """``ws`` when it can be trained from scratch with the controls' config, else a new sibling."""
        from ..workspace import Workspace

        cfg = self.model_config()
        if ws.checkpoint_epoch == 0 and cfg == ws.model_config:
            return ws
        base = Path(ws.path)
        stem = f"{base.name}-{cfg.kind}-z{cfg.z_dim}"
        for k in range(1, 1000):
            candidate = base.with_name(stem if k == 1 else f"{stem}-{k}")
            if not candidate.exists():
                break
        else:  # pragma: no cover
            raise InvalidInputError(f"{base.parent}: no free folder name for a new workspace")
        training = {k: v for k, v in ws.training.items()}
        new = Workspace.create(candidate, ws.data_path, cfg, training=training)
        self.state.load_workspace(new)
        self.status.setText(f"New workspace {candidate}")
        return new

    def _label_index(self, ws) -> int | None:
        """Attribute column the live scatter is coloured by (the scatter's colour-by), or None."""
        names = list(getattr(self.state, "attribute_names", []) or [])
        cb = getattr(self.state, "color_by", None)
        return names.index(cb) if cb in names else None

    PREVIEW_JOB = "subset projection"

    def _show_current_latents(self) -> None:
        """Show the fixed subset of the loaded z-points (the start of the live picture).

        Only the subset's rows are gathered here (< 1 ms for 200,000 points); its PCA/SVD runs
        as the ``"subset projection"`` job of the runner (synchronously without one)."""
        if self.running:
            return
        st = self.state
        ws = st.workspace
        if st.z is None or ws is None:
            return
        n = st.z.shape[0]
        subset = self._subset(ws, n)
        if subset is None:
            return
        z = st.z
        labels = None
        li = self._label_index(ws)
        if li is not None and st.attributes is not None:
            labels = np.asarray(st.attributes[subset, li], dtype=np.float32)
        params = {"z": np.asarray(z[subset], dtype=np.float32)}
        epoch = ws.checkpoint_epoch if ws is not None else 0

        def show(res, z=z, ws=ws, labels=labels, subset=subset, epoch=epoch) -> None:
            if self.running or self.state.z is not z or self.state.workspace is not ws:
                return  # stale: other z-points arrived or training took over the view
            self.projector.reset()
            self.projector.reference_ = np.asarray(res["reference"], dtype=np.float64)
            self.projector.n_updates_ = 1
            self.scatter.clear_points()
            self.scatter.set_projection(res["xy"], labels=labels)
            self.scatter.setTitle(f"Fixed subset ({len(subset)} images), encoding of epoch {epoch}",
                                  color="k", size="10pt")

        if self.runner is None:
            try:
                show(subset_projection_task(params))
            except InvalidInputError:
                pass
            return
        w = self.runner.start(self.PREVIEW_JOB, subset_projection_task, params)
        w.result.connect(show)
        w.error.connect(lambda msg: log.warning("subset projection failed: %s", msg))

    def _subset(self, ws, n: int | None = None) -> np.ndarray | None:
        if n is None:
            try:
                n = ws.dataset().n
            except InvalidInputError:
                return None
        k = min(self.subset_size, n)
        if k < 3:
            return None
        return np.sort(np.random.default_rng(0).choice(n, k, replace=False))

    # ------------------------------------------------------------------------------ slots
    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))
        if message:
            self.status.setText(message)

    @Slot(object)
    def _on_batch(self, point: dict) -> None:
        self.curves.add_batch(point)

    @Slot(object)
    def _on_epoch(self, payload: dict) -> None:
        row = payload.get("row") or {}
        if row:
            self.curves.add_row(row)
        proj = payload.get("projection")
        if proj is not None:
            self.scatter.set_projection(proj, epoch=row.get("epoch"), labels=payload.get("labels"))

    @Slot(object)
    def _on_result(self, result: dict) -> None:
        rows = result.get("history") or []
        if rows:
            self.curves.set_history(rows, keep_batches=True)
        latents = result.get("latents")
        ws = self.state.workspace
        if latents is not None and ws is not None:
            # the explorer reloads the new model and the new z-points
            self.state.load_workspace(ws)
        self.status.setText(f"Training finished: {len(rows)} epoch(s) in total")
        self.trainingFinished.emit(result)

    def _on_finished(self) -> None:
        self.worker = None
        self._update_buttons()

    def _error(self, message: str) -> None:
        """Show ``message`` in the status line and, through ``state.errorOccurred``, in the main
        window's error dialog."""
        self.status.setText(f"Error: {message}")
        self.state.errorOccurred.emit(f"Training: {message}")
