"""Generator panel: draw z-vectors with a statistical generator, show them in the scatter and as a
grid of decoded faces with their scores (SPEC §5, §6).

It runs the one generate → decode → score pipeline of :mod:`latentexplorer.explore.generate` (the
one ``latentexplorer sample`` runs) as the ``"generate"`` job; the vectors go to
``model.set_samples`` (the scatter draws them, the GUI state remembers their spec), the faces to the
grid. A click on a face makes its vector the current one. "Export grid…" writes PNG + JSON sidecar,
"Export vectors…" all sampled vectors as .npy/.csv (both start in the workspace's results/).
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QGroupBox,
                               QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QSpinBox,
                               QSplitter, QVBoxLayout, QWidget)

from ..errors import InvalidInputError
from ..explore.generate import GenerationContext, GeneratorSpec, generate
from ..progress import ProgressReporter
from .face_grid import FaceGrid
from .scoreboard_table import ScoreboardTable

log = logging.getLogger(__name__)

METHODS = ("uniform", "normal", "mvn", "ellipse")
METHOD_TIPS = {
    "uniform": "Uniform box [-b, b] in every component (only 1 ≤ b ≤ 2 has the right radius)",
    "normal": "N(0, σ²) in every component (works for a VAE, not for an AE)",
    "mvn": "Multivariate normal with the full covariance of the z-points",
    "ellipse": "Ellipse method in PCA coordinates (seed: n_comp 50–120, sigma level 2.35, fact 0.6–0.8)",
}
#: faces decoded and shown in the grid at most
MAX_GRID = 100


def generate_job(params, reporter: ProgressReporter):
    """Job: the pipeline on ``params["spec"]`` with ``params["ctx"]``."""
    return generate(params["spec"], params["ctx"], n_decode=params["n_show"],
                    score=params.get("score", True), progress=reporter)


class GeneratorPanel(QWidget):
    """Generator controls, the face grid and the export buttons."""

    JOB = "generate"
    generated = Signal(object)  # the Generated of the last run

    def __init__(self, state, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = state.model
        self.controller = controller
        self.runner = controller.runner
        self.worker = None
        self.result = None  # Generated shown in the grid
        self._ctx: GenerationContext | None = None
        self._pending_spec: GeneratorSpec | None = None  # from the saved GUI state
        #: generate once by itself when the tab is shown with z-points and a decoder
        self.auto_generate = True
        self._auto_key: tuple | None = None
        self._build()
        state.dataChanged.connect(lambda _m: self._data_changed())
        # cross-filtering: with it on, the generator fits the points the filter keeps
        state.filterChanged.connect(lambda _f: self._data_changed())
        state.decoderChanged.connect(lambda _d: self._data_changed())
        state.overlayChanged.connect(self._sync_overlay)
        state.sharpenChanged.connect(lambda v: (self._sync_box(self.sharpen, v), self._show_grid()))
        state.samplesChanged.connect(self._samples_changed)
        controller.loaded.connect(self._restore)
        self._sync_overlay(self.model.sigma_level, self.model.fact)
        self._data_changed()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        box = QGroupBox("Generator")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.method = QComboBox()
        for m in METHODS:
            self.method.addItem(m)
            self.method.setItemData(self.method.count() - 1, METHOD_TIPS[m], Qt.ToolTipRole)
        self.method.setCurrentText("ellipse")
        self.n = self._spin(1, 1_000_000, 28, "Number of vectors to draw (all appear in the scatter)")
        self.n_show = self._spin(1, MAX_GRID, 28, "How many of them are decoded and shown as faces")
        self.b = self._dspin(0.01, 50.0, 0.25, 1.5, "uniform: half-width b of the box [-b, b]")
        self.sigma = self._dspin(0.01, 50.0, 0.1, 1.0, "normal: standard deviation σ per component")
        self.n_comp = self._spin(1, 4096, 100, "ellipse: number of leading PCA components kept (seed 50–120)")
        self.sigma_level = self._dspin(0.1, 10.0, 0.05, 2.35, "ellipse: half-axis = sigma level × σ of "
                                       "the PCA axis (also the confidence ellipse in the scatter)")
        self.fact = self._dspin(0.01, 5.0, 0.05, 0.7, "ellipse: scale of the sampling ellipses "
                                "(seed 0.6–0.8; the dashed ellipse in the scatter)")
        self.seed = self._spin(0, 2**31 - 1, 0, "Random seed (the same seed gives the same vectors)")
        self.sharpen = self._dspin(0.0, 10.0, 0.5, 0.0, "PIL sharpness factor for the shown faces "
                                   "(0 = none; seed 3–7)")
        form.addRow("Method", self.method)
        form.addRow("n", self.n)
        form.addRow("faces shown", self.n_show)
        self._params = {"uniform": (self.b,), "normal": (self.sigma,), "mvn": (),
                        "ellipse": (self.n_comp, self.sigma_level, self.fact)}
        for label, w in (("b", self.b), ("σ", self.sigma), ("n_comp", self.n_comp),
                         ("sigma level", self.sigma_level), ("fact", self.fact)):
            form.addRow(label, w)
        form.addRow("seed", self.seed)
        form.addRow("sharpen", self.sharpen)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Draw the vectors (in the background), show them in the "
                                        "scatter and decode the faces (Ctrl+R)")
        self.generate_button.setShortcut("Ctrl+R")
        self.new_seed_button = QPushButton("New seed")
        self.new_seed_button.setToolTip("Seed + 1, then generate")
        row = QHBoxLayout()
        row.addWidget(self.generate_button, 2)
        row.addWidget(self.new_seed_button, 1)
        form.addRow(row)
        self.export_grid_button = QPushButton("Export grid…")
        self.export_grid_button.setToolTip("Save the shown faces as PNG + JSON sidecar (every z-vector, "
                                           "generator, settings, seed, model fingerprint, scores)")
        self.export_vectors_button = QPushButton("Export vectors…")
        self.export_vectors_button.setToolTip("Save all generated z-vectors as .npy or .csv")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove the samples from the scatter and the grid")
        row2 = QHBoxLayout()
        for b in (self.export_grid_button, self.export_vectors_button, self.clear_button):
            row2.addWidget(b)
        form.addRow(row2)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setMaximumWidth(320)
        self.status.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        box.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        box.setMaximumWidth(320)
        self.grid = FaceGrid()
        self.grid.setToolTip("Click a face to make its vector the current one")
        self.scoreboard = ScoreboardTable()
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.grid)
        right.addWidget(self.scoreboard)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)

        lay = QHBoxLayout(self)
        column = QWidget()
        left = QVBoxLayout(column)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(box)
        left.addWidget(self.status)
        left.addStretch(1)
        # scrolls rather than forcing the window taller than a 600-px screen
        scroll = QScrollArea()
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFixedWidth(340)
        lay.addWidget(scroll)
        lay.addWidget(right, 1)

        self.generate_button.clicked.connect(self.generate)
        self.new_seed_button.clicked.connect(lambda: (self.seed.setValue(self.seed.value() + 1),
                                                      self.generate()))
        self.export_grid_button.clicked.connect(self.export_grid_dialog)
        self.export_vectors_button.clicked.connect(self.export_vectors_dialog)
        self.clear_button.clicked.connect(lambda: self.model.set_samples(None))
        self.grid.faceClicked.connect(self._face_clicked)
        self.method.currentTextChanged.connect(self._method_changed)
        self.sigma_level.valueChanged.connect(lambda v: self._to_model(self.model.set_sigma_level, v))
        self.fact.valueChanged.connect(lambda v: self._to_model(self.model.set_fact, v))
        self.sharpen.valueChanged.connect(lambda v: self._to_model(self.model.set_sharpen, v))
        self._method_changed(self.method.currentText())

    @staticmethod
    def _spin(lo, hi, value, tip) -> QSpinBox:
        w = QSpinBox()
        w.setRange(lo, hi)
        w.setValue(value)
        w.setToolTip(tip)
        return w

    @staticmethod
    def _dspin(lo, hi, step, value, tip) -> QDoubleSpinBox:
        w = QDoubleSpinBox()
        w.setRange(lo, hi)
        w.setSingleStep(step)
        w.setValue(value)
        w.setToolTip(tip)
        return w

    # ------------------------------------------------------------------ syncing
    def _method_changed(self, method: str) -> None:
        used = set(self._params[method])
        form = self.b.parentWidget().layout()
        for w in (self.b, self.sigma, self.n_comp, self.sigma_level, self.fact):
            w.setEnabled(w in used)  # the box and its label together
            form.labelForField(w).setEnabled(w in used)
        self.method.setToolTip(METHOD_TIPS.get(method, ""))

    @staticmethod
    def _sync_box(box, value) -> None:
        if abs(box.value() - float(value)) > 1e-9:
            box.blockSignals(True)
            box.setValue(float(value))
            box.blockSignals(False)

    def _sync_overlay(self, sigma: float, fact: float) -> None:
        self._sync_box(self.sigma_level, sigma)
        self._sync_box(self.fact, fact)

    def _to_model(self, setter, value) -> None:
        try:
            setter(value)
        except InvalidInputError:
            pass

    def _data_changed(self) -> None:
        m, st = self.model, self.state
        z = m.filtered_z()
        if z is not None and len(z) < 2:
            z = m.z  # a filter that keeps (almost) nothing leaves the generator on every point
        self._ctx = None if z is None else GenerationContext(
            z, st.decoder, st.decoder_fingerprint, ws=st.workspace,
            provenance={} if st.workspace is None else {"workspace": str(st.workspace.path)})
        if self.result is not None and self.model.samples is not self.result.z:
            self._set_grid(None)
        if m.z_dim:
            self.n_comp.setMaximum(m.z_dim)
        self._update_enabled()

    def _restore(self, _ws) -> None:
        spec = self.controller.restored.get("samples")
        if spec:
            try:
                self._pending_spec = GeneratorSpec.from_dict(spec)
            except InvalidInputError as exc:
                log.warning("gui_state.json: samples not restored (%s)", exc)
        self._update_enabled()

    def _update_enabled(self) -> None:
        has_z = self.model.z is not None
        for b in (self.generate_button, self.new_seed_button):
            b.setEnabled(has_z)
        has_samples = self.model.samples is not None
        self.export_vectors_button.setEnabled(has_samples)
        self.clear_button.setEnabled(has_samples)
        self.export_grid_button.setEnabled(self.result is not None and self.result.images is not None)
        if not has_z:
            self.status.setText("Load z-points (open a workspace) to generate")
        elif self.result is None and not self.running:
            self.status.setText("Ready: choose a method and press Generate (Ctrl+R)" if self.state.decoder
                                else "Ready (no decoder yet: the samples appear in the scatter only)")
        self._maybe_auto_generate()

    @property
    def running(self) -> bool:
        return self.worker is not None and not self.worker.is_finished

    def _maybe_auto_generate(self) -> None:
        """Fill the grid once when the panel is visible with data and a decoder (the tab is never an
        empty page), or regenerate the samples the saved GUI state names."""
        m, st = self.model, self.state
        key = (id(m.z), id(st.decoder))
        if self._pending_spec is not None and m.z is not None and st.decoder is not None:
            spec, self._pending_spec = self._pending_spec, None
            self.apply_spec(spec)
            self._auto_key = key
            self.generate()
        elif (self.isVisible() and self.auto_generate and m.z is not None and st.decoder is not None
              and self.result is None and m.samples is None and self._auto_key != key and not self.running):
            self._auto_key = key
            self.generate()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._maybe_auto_generate()

    def _samples_changed(self, samples) -> None:
        if self.result is not None and samples is not self.result.z:
            self._set_grid(None)  # replaced or cleared elsewhere: the grid no longer shows them
        self._update_enabled()

    # ------------------------------------------------------------------ generate
    def spec(self) -> GeneratorSpec:
        method = self.method.currentText()
        values = {"b": self.b.value(), "sigma": self.sigma.value(),
                  "n_comp": min(self.n_comp.value(), max(self.model.z_dim, 1)),
                  "sigma_level": self.sigma_level.value(), "fact": self.fact.value()}
        keep = {"uniform": ("b",), "normal": ("sigma",), "mvn": (),
                "ellipse": ("n_comp", "sigma_level", "fact")}[method]
        return GeneratorSpec.of(method, int(self.n.value()), int(self.seed.value()),
                                **{k: values[k] for k in keep})

    def apply_spec(self, spec: GeneratorSpec) -> None:
        self.method.setCurrentText(spec.method)
        self.n.setValue(spec.n)
        self.seed.setValue(spec.seed)
        p = spec.params
        for key, box in (("b", self.b), ("sigma", self.sigma), ("n_components", self.n_comp),
                         ("sigma_level", self.sigma_level), ("fact", self.fact)):
            if key in p:
                box.setValue(p[key])

    def generate(self):
        """Start the ``generate`` job with the panel's settings; returns the worker (or None)."""
        ctx = self._ctx
        if ctx is None:
            return None
        try:
            spec = self.spec()
        except InvalidInputError as exc:
            self._failed(str(exc))
            return None
        self.status.setText(f"generating {spec.n:,} vectors ({spec.method}) …")
        params = {"spec": spec, "ctx": ctx, "n_show": int(self.n_show.value()),
                  "score": self.state.workspace is not None}
        self.worker = self.runner.start(self.JOB, generate_job, params)
        self.worker.result.connect(lambda res, ctx=ctx: self._set_result(res) if self._ctx is ctx else None)
        self.worker.error.connect(self._failed)
        self.worker.cancelled.connect(lambda: self.status.setText("generation cancelled"))
        return self.worker

    def _failed(self, message: str) -> None:
        self.status.setText(f"Error: {message}")
        self.state.errorOccurred.emit(f"Generator: {message}")

    def _set_result(self, gen) -> None:
        self.result = gen
        board = gen.scoreboard()
        try:
            self.model.set_samples(gen.z, {"spec": gen.spec.to_dict(), "scoreboard": board})
        except InvalidInputError as exc:
            self._failed(str(exc))
            return
        text = (f"<b>{board['n']:,}</b> vectors ({board['generator']}), radius {board['radius_mean']:.2f} ± "
                f"{board['radius_std']:.2f}")
        m = board.get("mtcnn")
        if m:
            lo, hi = m["interval"]
            text += (f"<br>faces found (MTCNN): <b>{m['rate']:.0%}</b> [{lo:.0%}–{hi:.0%}] of "
                     f"{board['n_judged']}")
        if board.get("variety_ratio") is not None:
            text += f"<br>variety ×{board['variety_ratio']:.2f} of real photos"
        if gen.images is None:
            text += "<br>(no decoder: faces not shown)"
        elif gen.judge is not None or gen.scores is not None:
            self.scoreboard.add(board)
        self.status.setText(text)
        self._show_grid()
        self._update_enabled()
        self.generated.emit(gen)

    def _set_grid(self, gen) -> None:
        self.result = gen
        self._show_grid()

    def shown_images(self) -> np.ndarray | None:
        """The decoded faces as shown (sharpened with the model's factor)."""
        if self.result is None or self.result.images is None:
            return None
        imgs, f = self.result.images, float(self.model.sharpen)
        if f > 0:
            from ..render.images import sharpen

            imgs = sharpen(imgs, f)
        return imgs

    def captions(self) -> tuple[list[str], list[str]]:
        """Per face: a caption (MTCNN's confidence, or the radius without a judge) and a tooltip."""
        gen = self.result
        n = len(gen.images)
        radius = gen.radius[:n]
        sc, conf = gen.scores, gen.confidences()
        caps, tips = [], []
        for i in range(n):
            lines = [f"#{i}: radius {radius[i]:.2f}"]
            if conf is not None:
                caps.append(f"face {conf[i]:.2f}" if conf[i] else "no face")
                found = gen.judge["images"][i]
                lines.append("MTCNN: " + (f"face, confidence {conf[i]:.3f}" if conf[i] else "no face")
                             + "; Haar: " + ("face" if (found.get("haar") or {}).get("found") else "no face"))
            else:
                caps.append(f"R {radius[i]:.1f}")
            if sc is not None:
                lines.append(f"closeness to the data {sc.closeness[i]:.2f}; re-encode ratio "
                             f"{sc.cycle_ratio[i]:.2f}; nearest-image ratio {sc.nn_ratio[i]:.2f}")
            tips.append("\n".join(lines) + "\nclick: make it the current vector")
        return caps, tips

    def _show_grid(self) -> None:
        imgs = self.shown_images()
        if imgs is None:
            self.grid.set_faces(None, [], [])
            return
        caps, tips = self.captions()
        self.grid.set_faces(imgs, caps, tips)

    def _face_clicked(self, index: int) -> None:
        if self.result is not None and index < len(self.result.z):
            self.model.set_current(self.result.z[index])

    # ------------------------------------------------------------------ export
    def export_grid(self, path) -> tuple:
        """Write the shown grid (PNG + JSON sidecar) to ``path``; returns (png, json)."""
        from pathlib import Path

        from ..explore.generate import write_grid

        if self.result is None or self.result.images is None:
            raise InvalidInputError("no decoded faces to export (generate first)")
        path = Path(path) if Path(path).suffix.lower() == ".png" else Path(f"{path}.png")
        caps, _ = self.captions()
        n = len(self.result.images)
        sidecar = write_grid(self.result, self._ctx, path, sharpen=float(self.model.sharpen),
                             cols=self.grid.columns() if n > 1 else 1, labels=caps)
        return path, sidecar

    def export_grid_dialog(self):
        from .export import IMAGE_FILTER, ask_save_path

        if self.result is None or self.result.images is None:
            return None
        name = f"grid_{self.result.name}_seed{self.result.spec.seed}.png"
        path = ask_save_path(self, "Export grid", "grids", IMAGE_FILTER, name, workspace=self.state.workspace)
        if path is None:
            return None
        try:
            out = self.export_grid(path)
        except (InvalidInputError, OSError) as exc:
            self.state.errorOccurred.emit(f"Export grid: {exc}")
            return None
        self.state.notice.emit(f"Grid saved: {out[0]}")
        return out

    def export_vectors_dialog(self):
        from .export import VECTOR_FILTER, ask_save_path, save_vectors

        z = self.model.samples
        if z is None:
            return None
        path = ask_save_path(self, "Export z-vectors", "vectors", VECTOR_FILTER, "samples.npy",
                             workspace=self.state.workspace)
        if path is None:
            return None
        try:
            out = save_vectors(path, z)
        except (InvalidInputError, OSError) as exc:
            self.state.errorOccurred.emit(f"Export vectors: {exc}")
            return None
        self.state.notice.emit(f"z-vectors saved: {out}")
        return out
