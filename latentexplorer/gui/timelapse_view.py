"""The Training tab's time-lapse: the probe subset's latent cloud replayed epoch by epoch.

A scatter of one frame in the stable basis of :mod:`latentexplorer.explore.timelapse`, a slider
over the recorded epochs, Play/Pause (about 4 frames per second), the epoch and its loss, the probe
faces (original thumbnails, colour-coded like their points), "Record time-lapse" for workspaces
trained before recording existed, and Export (a PNG sheet of every frame plus its JSON). Reading the
frames and fitting the basis, recording and exporting run as runner jobs, never in the GUI thread.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QVBoxLayout,
                               QWidget)

from ..explore.timelapse import FACE_COLORS, Replay
from ..progress import ProgressReporter
from .export import IMAGE_FILTER, ask_save_path
from .widgets import configure_pyqtgraph, to_pixmap

#: milliseconds per frame while playing (about 4 frames per second)
FRAME_MS = 250
THUMB_PX = 56

FACES_TIP = ("The probe faces: original training images, each framed in the colour of its point in "
             "the scatter. Only the last epoch's decoder is kept, so earlier epochs' latents cannot be "
             "decoded as the model of that epoch would have; the thumbnails show the real images "
             "whose points you watch moving.")
RECORD_TIP = ("Encode the probe images with the checkpoints this workspace still keeps (the current "
              "epoch and the one before it). Earlier epochs' weights were not kept, so only these can "
              "be added; training records every epoch from now on.")


def replay_task(params, reporter: ProgressReporter | None = None) -> Replay | None:
    """Job: the workspace's replay (:func:`load_replay`), or None when nothing is recorded."""
    from ..explore.timelapse import load_replay

    ws = params["ws"]
    if not ws.timelapse().exists:
        return None
    return load_replay(ws)


def record_task(params, reporter: ProgressReporter) -> list[int]:
    """Job: record the kept checkpoints' frames (:func:`record_kept_epochs`)."""
    from ..workspace.timelapse import record_kept_epochs

    return record_kept_epochs(params["ws"], progress=reporter)


def export_task(params, reporter: ProgressReporter | None = None) -> tuple:
    from ..explore.timelapse import export_replay

    return export_replay(params["path"], params["replay"])


class TimelapsePanel(QWidget):
    """See the module docstring. ``replayChanged(replay or None)`` after each (re)load."""

    JOB, RECORD_JOB, EXPORT_JOB = "time-lapse", "record time-lapse", "export time-lapse"
    replayChanged = Signal(object)

    def __init__(self, state, runner, parent: QWidget | None = None, settings=None) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.state = state
        self.runner = runner
        self.settings = settings
        self.replay: Replay | None = None
        self.training = False  # the training run holds the workspace's lock
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "stable PC 1")
        self.plot.setLabel("left", "stable PC 2")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumHeight(160)
        self.plot.setToolTip("The probe images' latents after the chosen epoch, in the last epoch's "
                             "PCA basis (earlier epochs rotated onto it; no rescaling, so a growing "
                             "cloud grows on screen)")
        self.points = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(70, 110, 170, 150))
        self.face_points = pg.ScatterPlotItem(size=11, pen=pg.mkPen("k", width=1))
        self.plot.addItem(self.points)
        self.plot.addItem(self.face_points)

        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1)
        self.slider.setToolTip("The recorded epoch shown (arrow keys step one epoch)")
        self.slider.valueChanged.connect(self.show_frame)
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip(f"Replay the recorded epochs ({1000 // FRAME_MS} per second)")
        self.play_button.toggled.connect(self._play)
        self.epoch_label = QLabel("")
        self.epoch_label.setMinimumWidth(150)
        self.epoch_label.setToolTip("The epoch shown and its total loss per image (train, validation)")
        self.record_button = QPushButton("Record time-lapse")
        self.record_button.setToolTip(RECORD_TIP)
        self.record_button.clicked.connect(self.record)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save every frame as one PNG sheet with a JSON of the epochs, "
                                      "losses, 2-D points and probe images (in the workspace's results/)")
        self.export_button.clicked.connect(self.export_dialog)
        # two short rows: the Training tab must fit a 1024-px screen next to its settings column
        controls = QVBoxLayout()
        player, actions = QHBoxLayout(), QHBoxLayout()
        player.addWidget(self.play_button)
        player.addWidget(self.slider, 1)
        for w in (self.epoch_label, self.record_button, self.export_button):
            actions.addWidget(w, 1 if w is self.epoch_label else 0)
        controls.addLayout(player)
        controls.addLayout(actions)

        self.faces_row = QHBoxLayout()
        self.face_labels: list[QLabel] = []
        faces = QWidget()
        self.faces_row.addStretch(1)
        faces.setLayout(self.faces_row)
        faces.setToolTip(FACES_TIP)
        faces.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setToolTip(FACES_TIP)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addLayout(controls)
        layout.addWidget(faces)
        layout.addWidget(self.note)
        self._update_controls()

    # ------------------------------------------------------------------ loading
    def set_training(self, running: bool) -> None:
        self.training = bool(running)
        self._update_controls()

    def reload(self) -> None:
        """Read the open workspace's recording again (a job); shows it when it arrives."""
        ws = self.state.workspace
        if ws is None or not hasattr(ws, "timelapse"):
            self.set_replay(None)
            return
        w = self.runner.start(self.JOB, replay_task, {"ws": ws})
        w.result.connect(lambda replay, ws=ws: self._loaded(ws, replay))
        w.error.connect(self._load_failed)

    def _loaded(self, ws, replay) -> None:
        if self.state.workspace is ws:  # else stale: another workspace was opened meanwhile
            self.set_replay(replay)

    def _load_failed(self, message: str) -> None:
        self.set_replay(None)
        self.note.setText(f"Time-lapse not shown: {message}")

    def set_replay(self, replay: Replay | None) -> None:
        """Show ``replay`` (None: nothing recorded). At the last frame (a live run) it follows to the
        new last frame; else it keeps the epoch shown when that is still there."""
        old = self.current_epoch()
        if self.replay is None or self.slider.value() >= self.slider.maximum():
            old = None  # follow the newest epoch
        self.timer.stop()
        self.play_button.setChecked(False)
        self.replay = replay
        n = 0 if replay is None else replay.n_frames
        blocked = self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        at = n - 1
        if replay is not None and old is not None and old in replay.epochs:
            at = int(np.flatnonzero(replay.epochs == old)[0])
        self.slider.setValue(max(at, 0))
        self.slider.blockSignals(blocked)
        self._show_faces()
        if replay is None:
            self.points.setData([], [])
            self.face_points.setData([], [])
            self.epoch_label.setText("")
        else:
            x0, x1, y0, y1 = replay.limits
            self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
            self.show_frame(self.slider.value())
        self.note.setText(self._note_text())
        self._update_controls()
        self.replayChanged.emit(replay)

    def _note_text(self) -> str:
        ws, replay = self.state.workspace, self.replay
        if ws is None:
            return ""
        if replay is None:
            return ("No time-lapse recorded yet: training records one frame per epoch. For a model "
                    "trained before that, 'Record time-lapse' adds the epochs whose weights are still "
                    "kept (the last two) — earlier epochs cannot be replayed.")
        epochs = ", ".join(map(str, replay.epochs[:12])) + (" …" if replay.n_frames > 12 else "")
        done = ws.checkpoint_epoch if hasattr(ws, "checkpoint_epoch") else None
        missing = f" of {done}" if done and done > replay.n_frames else ""
        return (f"{replay.n_frames}{missing} epoch(s) recorded ({epochs}); {len(replay.indices)} probe "
                "images. Only recorded epochs can be replayed.")

    def _show_faces(self) -> None:
        while self.face_labels:
            label = self.face_labels.pop()
            self.faces_row.removeWidget(label)
            label.deleteLater()
        replay = self.replay
        if replay is None:
            return
        for k, (row, img) in enumerate(zip(replay.faces, replay.face_images)):
            r, g, b = FACE_COLORS[k % len(FACE_COLORS)]
            label = QLabel()
            label.setPixmap(to_pixmap(img).scaled(THUMB_PX, THUMB_PX, Qt.KeepAspectRatio,
                                                  Qt.SmoothTransformation))
            label.setStyleSheet(f"border: 3px solid rgb({r},{g},{b});")
            label.setToolTip(f"{replay.filenames[int(row)]} (store row {int(replay.indices[int(row)])})"
                             f"\n{FACES_TIP}")
            self.faces_row.insertWidget(k, label)  # before the closing stretch
            self.face_labels.append(label)

    # ------------------------------------------------------------------ frames
    def current_epoch(self) -> int | None:
        if self.replay is None or self.replay.n_frames == 0:
            return None
        return int(self.replay.epochs[min(self.slider.value(), self.replay.n_frames - 1)])

    def drawn_points(self) -> np.ndarray:
        """The points the scatter draws now, (m, 2) (empty without a replay)."""
        x, y = self.points.getData()
        return np.column_stack([np.asarray(x, float), np.asarray(y, float)]) if x is not None \
            else np.zeros((0, 2))

    def show_frame(self, i: int) -> None:
        replay = self.replay
        if replay is None or not 0 <= i < replay.n_frames:
            return
        xy = replay.xy[i]
        self.points.setData(xy[:, 0], xy[:, 1])
        faces = replay.faces
        self.face_points.setData(xy[faces, 0], xy[faces, 1],
                                 brush=[pg.mkBrush(*FACE_COLORS[k % len(FACE_COLORS)])
                                        for k in range(len(faces))])
        loss, val = replay.losses[i], replay.val_losses[i]
        text = f"epoch {int(replay.epochs[i])} ({i + 1}/{replay.n_frames})"
        if math.isfinite(loss):
            text += f" · loss {loss:,.1f}" + (f" (val {val:,.1f})" if math.isfinite(val) else "")
        self.epoch_label.setText(text)
        self.plot.setTitle(f"Probe subset ({len(xy)} images) after epoch {int(replay.epochs[i])}",
                           color="k", size="10pt")

    def _play(self, on: bool) -> None:
        if on and self.replay is not None and self.replay.n_frames > 1:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)  # replay from the start
            self.play_button.setText("Pause")
            self.timer.start()
        else:
            self.timer.stop()
            self.play_button.setText("Play")
            if on:
                self.play_button.setChecked(False)

    def _tick(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.play_button.setChecked(False)  # stops the timer
            return
        self.slider.setValue(self.slider.value() + 1)
        if self.slider.value() >= self.slider.maximum():
            self.play_button.setChecked(False)

    # ------------------------------------------------------------------ actions
    def _update_controls(self) -> None:
        ws, replay = self.state.workspace, self.replay
        n = 0 if replay is None else replay.n_frames
        self.slider.setEnabled(n > 1)
        self.play_button.setEnabled(n > 1)
        self.export_button.setEnabled(n > 0 and not self.runner.is_running(self.EXPORT_JOB))
        can_record = ws is not None and getattr(ws, "has_model", False) and not self.training \
            and not self.runner.is_running(self.RECORD_JOB) and (replay is None or not replay.kept)
        self.record_button.setEnabled(bool(can_record))

    def record(self) -> None:
        ws = self.state.workspace
        if ws is None or not self.record_button.isEnabled():
            return
        w = self.runner.start(self.RECORD_JOB, record_task, {"ws": ws})
        w.result.connect(self._recorded)
        w.error.connect(self._error)
        w.finished.connect(self._update_controls)
        self.note.setText("Recording the time-lapse of the kept epochs …")
        self._update_controls()

    def _recorded(self, epochs: list) -> None:
        text = ", ".join(map(str, epochs))
        self.state.notice.emit(f"Time-lapse: recorded epoch(s) {text}" if epochs else
                               "Time-lapse: the kept epochs were already recorded")
        self.reload()

    def export_dialog(self) -> Path | None:
        """Ask for a PNG name (in the workspace's results/) and export the frames there (a job)."""
        if self.replay is None:
            return None
        path = ask_save_path(self, "Export time-lapse", "timelapse", IMAGE_FILTER, "timelapse.png",
                             settings=self.settings, workspace=self.state.workspace)
        if path is None:
            return None
        w = self.runner.start(self.EXPORT_JOB, export_task, {"path": path, "replay": self.replay})
        w.result.connect(lambda out: self.state.notice.emit(f"Time-lapse saved: {out[0]} and {out[1]}"))
        w.error.connect(self._error)
        w.finished.connect(self._update_controls)
        self._update_controls()
        return path

    def _error(self, message: str) -> None:
        self.note.setText(f"Error: {message}")
        self.state.errorOccurred.emit(f"Time-lapse: {message}")


__all__ = ["TimelapsePanel", "replay_task", "record_task", "export_task"]
