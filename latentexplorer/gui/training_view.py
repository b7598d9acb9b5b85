"""Live training view: loss curves, and a fixed image subset re-encoded after every epoch.

Training runs as the ``"train"`` job (:func:`training_task` calls
:func:`latentexplorer.workspace.training.train`). Everything the view plots travels as structured
metrics of the one progress protocol: every batch update carries its epoch, batch and losses; the end
of an epoch carries an ``{"event": "epoch"}`` update with the history row and the fixed subset's
encoding projected to 2-D (:class:`~latentexplorer.explore.projection.StableProjector`). The worker
never touches a widget, and nothing is parsed back out of a message.

Next to the live scatter, the *Time-lapse* tab (:class:`~latentexplorer.gui.timelapse_view.TimelapsePanel`)
replays the probe subset that training records after every epoch (``WS/timelapse``); it reloads
after each committed epoch and whenever a workspace is opened.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QSizePolicy, QSpinBox, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from ..errors import InvalidInputError
from ..explore.projection import StableProjector
from ..progress import ProgressReporter
from .timelapse_view import TimelapsePanel
from .training_plots import EncodingScatter, LossCurves

log = logging.getLogger(__name__)

#: images of the dataset re-encoded after every epoch for the live scatter
SUBSET_SIZE = 500


def training_task(params, reporter: ProgressReporter) -> dict:
    """Job: train ``params["ws"]`` up to ``params["epochs"]`` epochs, then encode the dataset.

    Params: ``ws``, ``epochs``, ``resume`` (bool), ``subset`` (dataset indices for the live scatter or
    None), ``reference`` (the projector's reference to continue, or None), ``label_index`` (attribute
    column to colour by or None), ``encode`` (bool, default True). Returns ``{"history", "latents"}``.
    """
    from ..models.codec import Encoder
    from ..workspace.training import train

    ws = params["ws"]
    projector = StableProjector()
    if params.get("reference") is not None:  # continue the basis the view shows
        projector.reference_ = np.array(params["reference"], dtype=np.float64)
    images = labels = None
    subset = params.get("subset")
    if subset is not None and len(subset) >= 3:
        store = ws.dataset()
        idx = np.asarray(subset, dtype=np.int64)
        images = store.batch(idx)
        li = params.get("label_index")
        if li is not None and store.attributes is not None:
            labels = np.asarray(store.attributes[idx, int(li)], dtype=np.float32)

    def on_epoch_end(row: dict) -> None:
        projection = None
        if images is not None:
            try:  # this epoch is committed: its encoder is the current one
                projection = projector.project(Encoder(ws.load_encoder(), warmup=False).encode(images))
            except InvalidInputError as exc:  # the live view must never stop training
                log.warning("live scatter: re-encoding failed: %s", exc)
        reporter.update(row["epoch"], int(params["epochs"]), f"epoch {row['epoch']} committed",
                        {"event": "epoch", "row": dict(row), "projection": projection,
                         "labels": labels, "reference": projector.reference_})

    history = train(ws, int(params["epochs"]), resume=bool(params.get("resume")), progress=reporter,
                    on_epoch_end=on_epoch_end)
    reporter.raise_if_cancelled()
    latents = None
    if params.get("encode", True):
        reporter.update(0, 1, "encoding the dataset")
        latents = ws.encode(progress=reporter)
    return {"history": list(history or []), "latents": latents}


def subset_projection_task(params, reporter: ProgressReporter | None = None) -> dict:
    """Job: the stable 2-D projection of the fixed subset's z-points ``params["z"]`` (k, z_dim).

    Returns ``{"xy": (k, 2) float32, "reference": the projector's reference}`` (training continues
    that basis). The SVD can take seconds on a loaded machine, which is why it runs here."""
    projector = StableProjector()
    xy = projector.project(np.asarray(params["z"]))
    return {"xy": xy, "reference": projector.reference_}


class TrainingView(QWidget):
    """Training controls, live loss curves and the live encoding scatter."""

    JOB = "train"
    PREVIEW_JOB = "subset projection"
    trainingFinished = Signal(object)  # the worker's result dict

    def __init__(self, state, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = state.model
        self.controller = controller
        self.runner = controller.runner
        self.worker = None
        self.subset_size = SUBSET_SIZE
        self.reference: np.ndarray | None = None  # the projection basis the scatter shows
        self._build()
        state.workspaceChanged.connect(lambda _ws: self._on_workspace())
        state.dataChanged.connect(lambda _m: self._show_current_latents())
        self._on_workspace()

    # ------------------------------------------------------------------ layout
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
        for label, w in (("Epochs", self.epochs), ("Model", self.kind), ("fact (KL)", self.fact),
                         ("z_dim", self.z_dim), ("Preset", self.preset)):
            form.addRow(label, w)
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
        self.timelapse = TimelapsePanel(self.state, self.runner)
        self.views = QTabWidget()
        self.views.addTab(self.scatter, "Live encoding")
        self.views.addTab(self.timelapse, "Time-lapse")
        self.views.setTabToolTip(1, "Replay how the probe subset's latent cloud formed, epoch by "
                                    "epoch (recorded during training)")
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.curves)
        right.addWidget(self.views)
        left_w = QWidget()
        left = QVBoxLayout(left_w)
        left.addWidget(controls)
        left.addStretch(1)
        left_w.setMaximumWidth(300)
        layout = QHBoxLayout(self)
        layout.addWidget(left_w)
        layout.addWidget(right, 1)
        self._update_buttons()

    # ------------------------------------------------------------------ state
    def kl_plot_visible(self) -> bool:
        """Whether the KL plot is shown (hidden for AE histories, whose KL is 0)."""
        return not self.curves.kl_plot.isHidden()

    @property
    def running(self) -> bool:
        return self.worker is not None and not self.worker.is_finished

    def _update_buttons(self) -> None:
        ws, running = self.state.workspace, self.running
        self.start_button.setEnabled(ws is not None and not running)
        self.resume_button.setEnabled(ws is not None and ws.checkpoint_epoch > 0 and not running)
        self.stop_button.setEnabled(running)
        for w in (self.epochs, self.kind, self.fact, self.z_dim, self.preset):
            w.setEnabled(not running and (w is not self.fact or self.kind.currentText() == "vae"))
        self.timelapse.set_training(running)

    def _on_workspace(self) -> None:
        ws = self.state.workspace
        if self.running:
            return
        self.scatter.clear_points()
        self.reference = None
        self.timelapse.reload()
        if ws is None:
            self.curves.clear()
            self.status.setText("No workspace: open one (File > Open workspace) or start one "
                                "(File > New from synthetic faces)")
            self._update_buttons()
            return
        cfg = ws.model_config
        self.kind.setCurrentText(cfg.kind)
        self.fact.setValue(float(cfg.fact))
        self.z_dim.setValue(int(cfg.z_dim))
        if self.preset.findText(cfg.preset) < 0:
            self.preset.addItem(cfg.preset)
        self.preset.setCurrentText(cfg.preset)
        self.epochs.setValue(max(int(ws.training["epochs"]), 1))
        try:
            rows, done = ws.history(), ws.checkpoint_epoch
        except InvalidInputError as exc:
            rows, done = [], 0
            self.status.setText(str(exc))
        self.curves.set_history(rows)
        name = Path(ws.path).name
        self.status.setText(f"{name}: {done} epoch(s) trained" if done else f"{name}: not trained yet")
        self._update_buttons()

    def model_config(self):
        """The :class:`ModelConfig` the controls describe: the workspace's config with kind, z_dim
        and fact replaced (a custom architecture is kept); another preset starts from its layers."""
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

    # ------------------------------------------------------------------ actions
    def start_training(self, resume: bool = False):
        """Start (``resume=False``) or continue training the current workspace in the background.

        Start with settings other than those of a workspace that already holds a model creates a new
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
                                        "raise 'Epochs' above that to resume")
            subset = self._subset(ws)
        except (InvalidInputError, OSError) as exc:
            self._error(str(exc))
            return None
        if not resume:
            self.curves.clear()
            self.scatter.clear_points()
            self.reference = None
        reference = self.reference if resume and self.reference is not None and subset is not None \
            and self.reference.shape[0] == len(subset) else None
        params = {"ws": ws, "epochs": epochs, "resume": resume, "subset": subset,
                  "reference": reference, "label_index": self._label_index(), "encode": True}
        self.worker = self.runner.start(self.JOB, training_task, params)
        self.worker.progress.connect(self._on_progress)
        self.worker.metrics.connect(self._on_metrics)
        self.worker.result.connect(self._on_result)
        self.worker.error.connect(self._error)
        self.worker.cancelled.connect(self._on_cancelled)
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
        candidate = next(c for k in range(1, 10_000)
                         if not (c := base.with_name(stem if k == 1 else f"{stem}-{k}")).exists())
        new = Workspace.create(candidate, ws.data_path, cfg, training=ws.training)
        self.controller.open_workspace(new)
        self.status.setText(f"New workspace {candidate}")
        return new

    def _label_index(self) -> int | None:
        """Attribute column the live scatter is coloured by (the explorer's colouring), or None."""
        names, cb = self.model.attribute_names, self.model.color_by
        return names.index(cb) if cb in names else None

    def _show_current_latents(self) -> None:
        """Show the fixed subset of the loaded z-points (the start of the live picture)."""
        m, ws = self.model, self.state.workspace
        if self.running or m.z is None or ws is None:
            return
        subset = self._subset(ws, m.n_points)
        if subset is None:
            return
        li = self._label_index()
        labels = None if li is None else np.asarray(m.attributes[subset, li], dtype=np.float32)
        z, epoch = m.z, ws.checkpoint_epoch

        def show(res) -> None:
            if self.running or self.model.z is not z or self.state.workspace is not ws:
                return  # stale: other z-points arrived or training took over the view
            self.reference = np.asarray(res["reference"], dtype=np.float64)
            self.scatter.clear_points()
            self.scatter.set_projection(res["xy"], labels=labels)
            self.scatter.setTitle(f"Fixed subset ({len(subset)} images), encoding of epoch {epoch}",
                                  color="k", size="10pt")

        w = self.runner.start(self.PREVIEW_JOB, subset_projection_task,
                              {"z": np.asarray(z[subset], dtype=np.float32)})
        w.result.connect(show)
        w.error.connect(lambda msg: log.warning("subset projection failed: %s", msg))

    def _subset(self, ws, n: int | None = None) -> np.ndarray | None:
        n = ws.dataset().n if n is None else n
        k = min(self.subset_size, n)
        return None if k < 3 else np.sort(np.random.default_rng(0).choice(n, k, replace=False))

    # ------------------------------------------------------------------ slots
    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))
        if message:
            self.status.setText(message)

    def _on_metrics(self, metrics: dict) -> None:
        if metrics.get("event") == "epoch":
            self.curves.add_row(metrics["row"])
            self.timelapse.reload()  # the epoch's frame was recorded right after its commit
            if metrics.get("projection") is not None:
                self.reference = metrics.get("reference")
                self.scatter.set_projection(metrics["projection"], epoch=metrics["row"]["epoch"],
                                            labels=metrics.get("labels"))
        elif "total_loss" in metrics and metrics.get("steps"):
            frac = (metrics["epoch"] - 1) + min(metrics["batch"] / metrics["steps"], 1.0)
            self.curves.add_batch({"epoch": frac, **{k: metrics[k] for k in
                                                     ("total_loss", "reco_loss", "kl_loss") if k in metrics}})

    def _on_result(self, result: dict) -> None:
        rows = result.get("history") or []
        if rows:
            self.curves.set_history(rows, keep_batches=True)
        ws = self.state.workspace
        if result.get("latents") is not None and ws is not None:
            self.controller.open_workspace(ws)  # the explorer shows the new model and z-points
        self.status.setText(f"Training finished: {len(rows)} epoch(s) in total")
        self.trainingFinished.emit(result)

    def _on_cancelled(self) -> None:
        self.progress.reset()
        ws = self.state.workspace
        done = ws.checkpoint_epoch if ws is not None else 0
        self.status.setText(f"Training stopped; epoch {done} is the last complete one (kept)")
        if ws is not None:
            self.controller.check_staleness()

    def _on_finished(self) -> None:
        self.worker = None
        self._update_buttons()

    def _error(self, message: str) -> None:
        """Show ``message`` here and, through ``state.errorOccurred``, in the main window's dialog."""
        self.progress.reset()
        self.status.setText(f"Error: {message}")
        self.state.errorOccurred.emit(f"Training: {message}")
