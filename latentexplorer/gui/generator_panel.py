"""Generator panel: draw z-vectors with a statistical generator, show them in the scatter and as a
grid of decoded faces with their face-likeness scores (SPEC §5, §6).

Sampling, decoding and scoring run as the ``"generate"`` job of the
:class:`~latentexplorer.gui.workers.TaskRunner` (:func:`generate_task`, Qt-free); the result goes to
``state.set_samples`` (the scatter draws them) and to the face grid. A click on a face makes its
vector the current one. "Export grid…" writes PNG + JSON sidecar
(:func:`latentexplorer.gui.export.export_grid`), "Export vectors…" all sampled vectors as .npy/.csv.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QGridLayout,
                               QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from ..errors import InvalidInputError
from ..progress import ProgressReporter
from .widgets import to_pixmap

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
TILE = 96


# ------------------------------------------------------------------------------------------------
# Qt-free worker function
# ------------------------------------------------------------------------------------------------
def sampler_params(method: str, *, b: float, sigma: float, n_comp: int, sigma_level: float,
                   fact: float, z_dim: int) -> dict:
    """The constructor parameters of ``method`` from the panel's values."""
    if method == "uniform":
        return {"b": float(b)}
    if method == "normal":
        return {"sigma": float(sigma)}
    if method == "mvn":
        return {}
    if method == "ellipse":
        return {"n_components": int(min(n_comp, z_dim)), "sigma_level": float(sigma_level),
                "fact": float(fact)}
    raise InvalidInputError(f"method: unknown generator {method!r}; choose one of {', '.join(METHODS)}")


def build_scorer(ws, decoder, z: np.ndarray, stats: dict | None = None):
    """A :class:`~latentexplorer.render.facelikeness.FaceLikenessScorer` for the workspace's data
    (None when the workspace has no encoder or dataset)."""
    from ..render.decode import Encoder
    from ..render.facelikeness import FaceLikenessScorer

    cs = (stats or {}).get("component_stats")
    if cs is not None:
        mu, hw = np.asarray(cs.mu), np.asarray(cs.half_width)
    else:
        from ..analysis.statistics import component_stats

        c = component_stats(z)
        mu, hw = c.mu, c.half_width
    encoder = Encoder(ws.load_encoder())
    return FaceLikenessScorer(decoder, encoder, z, ws.dataset().images, mu=mu, half_width=hw)


def generate_task(params, reporter: ProgressReporter | None = None) -> dict:
    """Fit (or reuse) a sampler, draw ``n`` vectors, decode and score the first ``n_show``.

    Parameters (mapping): ``z`` (data points), ``method``, ``sampler_params``, ``n``, ``seed``,
    ``n_show``, ``decoder`` (or None), ``sampler`` (a fitted generator to reuse, or None),
    ``scorer`` (a fitted scorer, or None), ``ws`` / ``stats`` (to build a scorer when
    ``score`` is true and none is given).

    Returns ``{"z", "images" (n_show, H, W, 3) or None, "scores" (FaceLikeness or None), "info",
    "sampler", "scorer"}``.
    """
    from ..sampling.generators import make_sampler

    reporter = reporter or ProgressReporter()
    z_data = params["z"]
    method = params["method"]
    kw = dict(params.get("sampler_params") or {})
    n = int(params["n"])
    seed = int(params.get("seed", 0))
    steps = 4
    sampler = params.get("sampler")
    if sampler is None:
        reporter.update(0, steps, f"fitting the {method} generator")
        sampler = make_sampler(method, **kw).fit(np.asarray(z_data))
    reporter.raise_if_cancelled()
    reporter.update(1, steps, f"sampling {n:,} vectors")
    z = np.asarray(sampler.sample(n, np.random.default_rng(seed)), dtype=np.float32)
    reporter.raise_if_cancelled()
    decoder = params.get("decoder")
    n_show = int(min(params.get("n_show", 28), n))
    images = None
    if decoder is not None and n_show > 0:
        reporter.update(2, steps, f"decoding {n_show} faces")
        images = decoder.decode(z[:n_show])
    reporter.raise_if_cancelled()
    scores = None
    scorer = params.get("scorer")
    if images is not None and params.get("score", True):
        try:
            if scorer is None and params.get("ws") is not None:
                reporter.update(3, steps, "preparing the face-likeness reference")
                scorer = build_scorer(params["ws"], decoder, np.asarray(z_data), params.get("stats"))
            if scorer is not None:
                reporter.update(3, steps, "face-likeness scores")
                scores = scorer.score(z[:n_show], images)
        except Exception as exc:  # noqa: BLE001 -- scores are optional, the samples are not
            log.warning("face-likeness not available: %s", exc)
            scorer = None
    radius = np.linalg.norm(z.astype(np.float64), axis=1)
    info = {"method": method, "generator": getattr(sampler, "name", method),
            "settings": sampler.params() if hasattr(sampler, "params") else kw,
            "seed": seed, "n": n, "radius_mean": float(radius.mean()),
            "radius_std": float(radius.std())}
    if scores is not None:
        info["face_score_mean"] = float(np.mean(scores.face_score))
    reporter.update(steps, steps, f"{n:,} vectors generated")
    return {"z": z, "images": images, "scores": scores, "info": info, "sampler": sampler,
            "scorer": scorer}


# ------------------------------------------------------------------------------------------------
# widgets
# ------------------------------------------------------------------------------------------------
class FaceTile(QFrame):
    """One decoded face with a caption; emits ``clicked(index)``."""

    clicked = Signal(int)

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.setFrameShape(QFrame.StyledPanel)
        self.setCursor(Qt.PointingHandCursor)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(1)
        self.image = QLabel()
        self.image.setFixedSize(TILE, TILE)
        self.image.setAlignment(Qt.AlignCenter)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignCenter)
        self.caption.setStyleSheet("font-size: 9pt;")
        lay.addWidget(self.image, 0, Qt.AlignHCenter)
        lay.addWidget(self.caption)

    def set_content(self, img: np.ndarray, caption: str, tooltip: str, selected: bool = False) -> None:
        pm = to_pixmap(img)
        if pm.width() != TILE:
            pm = pm.scaled(TILE, TILE, Qt.KeepAspectRatio, Qt.SmoothTransformation)
        self.image.setPixmap(pm)
        self.caption.setText(caption)
        self.setToolTip(tooltip)
        self.set_selected(selected)

    def set_selected(self, selected: bool) -> None:
        self.setStyleSheet("FaceTile { border: 2px solid #d62728; }" if selected else "")

    def mousePressEvent(self, event) -> None:  # noqa: N802 -- Qt override
        if event.button() == Qt.LeftButton:
            self.clicked.emit(self.index)
            event.accept()
            return
        super().mousePressEvent(event)


class FaceGrid(QScrollArea):
    """Scrollable grid of :class:`FaceTile` (columns follow the width)."""

    faceClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.inner = QWidget()
        self.grid = QGridLayout(self.inner)
        self.grid.setSpacing(4)
        self.grid.setContentsMargins(4, 4, 4, 4)
        self.grid.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.setWidget(self.inner)
        self.tiles: list[FaceTile] = []
        self.selected: int | None = None
        self._cols = 0

    def set_faces(self, images: np.ndarray | None, captions: list[str], tooltips: list[str]) -> None:
        n = 0 if images is None else len(images)
        while len(self.tiles) < n:
            t = FaceTile(len(self.tiles))
            t.clicked.connect(self._clicked)
            self.tiles.append(t)
        for t in self.tiles[n:]:
            t.setParent(None)
            t.deleteLater()
        self.tiles = self.tiles[:n]
        self.selected = None
        for i, t in enumerate(self.tiles):
            t.set_content(images[i], captions[i], tooltips[i])
        self._cols = 0
        self._relayout()

    def columns(self) -> int:
        w = max(self.viewport().width(), TILE + 12)
        return max(1, (w - 8) // (TILE + 12))

    def _relayout(self) -> None:
        cols = self.columns()
        if cols == self._cols and all(self.grid.indexOf(t) >= 0 for t in self.tiles):
            return
        self._cols = cols
        for t in self.tiles:
            self.grid.removeWidget(t)
        for i, t in enumerate(self.tiles):
            self.grid.addWidget(t, i // cols, i % cols)

    def resizeEvent(self, event) -> None:  # noqa: N802 -- Qt override
        super().resizeEvent(event)
        self._relayout()

    def _clicked(self, index: int) -> None:
        if self.selected is not None and self.selected < len(self.tiles):
            self.tiles[self.selected].set_selected(False)
        self.selected = index
        self.tiles[index].set_selected(True)
        self.faceClicked.emit(index)

    def sizeHint(self) -> QSize:  # noqa: N802 -- Qt override
        return QSize(5 * (TILE + 12), 2 * (TILE + 30))


class GeneratorPanel(QWidget):
    """Generator controls, the face grid and the export buttons.

    Parameters
    ----------
    state : AppState
    runner : TaskRunner or None
        Runs :func:`generate_task`; without a runner it runs synchronously (scripts, tests).
    """

    JOB = "generate"
    generated = Signal(object)  # the result dict of generate_task

    def __init__(self, state, runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.runner = runner
        self.worker = None
        self.result: dict | None = None
        self._setting_samples = False
        self._sampler_cache: tuple[tuple, Any] | None = None
        self._scorer_cache: tuple[tuple, Any] | None = None
        #: generate once by itself when the tab is shown with z-points, PCA and decoder loaded
        self.auto_generate = True
        self._auto_key: tuple | None = None  # (id(z), id(decoder)) already auto-generated
        self._build()
        state.latentsChanged.connect(self._data_changed)
        state.workspaceChanged.connect(self._data_changed)
        state.decoderChanged.connect(self._decoder_changed)
        state.overlayChanged.connect(self._sync_from_state)
        state.sharpenChanged.connect(self._sync_sharpen)
        state.samplesChanged.connect(self._samples_changed)
        state.analysisChanged.connect(self._update_enabled)
        self._sync_from_state()
        self._sync_sharpen()
        self._data_changed()

    # ------------------------------------------------------------------------------ layout
    def _build(self) -> None:
        box = QGroupBox("Generator")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.method = QComboBox()
        for m in METHODS:
            self.method.addItem(m)
            self.method.setItemData(self.method.count() - 1, METHOD_TIPS[m], Qt.ToolTipRole)
        self.method.setCurrentText("ellipse")
        self.method.setToolTip("How the z-vectors are drawn (hover the entries for details)")
        self.n = QSpinBox()
        self.n.setRange(1, 1_000_000)
        self.n.setValue(28)
        self.n.setToolTip("Number of vectors to draw (all appear in the scatter)")
        self.n_show = QSpinBox()
        self.n_show.setRange(1, MAX_GRID)
        self.n_show.setValue(28)
        self.n_show.setToolTip("How many of them are decoded and shown as faces")
        self.b = QDoubleSpinBox()
        self.b.setRange(0.01, 50.0)
        self.b.setSingleStep(0.25)
        self.b.setValue(1.5)
        self.b.setToolTip("uniform: half-width b of the box [-b, b]")
        self.sigma = QDoubleSpinBox()
        self.sigma.setRange(0.01, 50.0)
        self.sigma.setSingleStep(0.1)
        self.sigma.setValue(1.0)
        self.sigma.setToolTip("normal: standard deviation σ per component")
        self.n_comp = QSpinBox()
        self.n_comp.setRange(1, 4096)
        self.n_comp.setValue(100)
        self.n_comp.setToolTip("ellipse: number of leading PCA components kept (seed 50–120)")
        self.sigma_level = QDoubleSpinBox()
        self.sigma_level.setRange(0.1, 10.0)
        self.sigma_level.setSingleStep(0.05)
        self.sigma_level.setValue(2.35)
        self.sigma_level.setToolTip("ellipse: half-axis = sigma level × σ of the PCA axis (also the "
                                    "confidence ellipse in the scatter)")
        self.fact = QDoubleSpinBox()
        self.fact.setRange(0.01, 5.0)
        self.fact.setSingleStep(0.05)
        self.fact.setValue(0.7)
        self.fact.setToolTip("ellipse: scale of the sampling ellipses (seed 0.6–0.8; the dashed "
                             "ellipse in the scatter)")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Random seed (the same seed gives the same vectors)")
        self.sharpen = QDoubleSpinBox()
        self.sharpen.setRange(0.0, 10.0)
        self.sharpen.setSingleStep(0.5)
        self.sharpen.setToolTip("PIL sharpness factor for the shown faces (0 = none; seed 3–7)")
        form.addRow("Method", self.method)
        form.addRow("n", self.n)
        form.addRow("faces shown", self.n_show)
        self._rows = {}
        for label, w in (("b", self.b), ("σ", self.sigma), ("n_comp", self.n_comp),
                         ("sigma level", self.sigma_level), ("fact", self.fact)):
            form.addRow(label, w)
            self._rows[w] = form.labelForField(w)
        form.addRow("seed", self.seed)
        form.addRow("sharpen", self.sharpen)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Draw the vectors (in the background), show them in the "
                                        "scatter and decode the faces (Ctrl+G)")
        self.generate_button.setShortcut("Ctrl+G")
        self.generate_button.clicked.connect(self.generate)
        self.new_seed_button = QPushButton("New seed")
        self.new_seed_button.setToolTip("Seed + 1, then generate")
        self.new_seed_button.clicked.connect(lambda: (self.seed.setValue(self.seed.value() + 1),
                                                      self.generate()))
        row = QHBoxLayout()
        row.addWidget(self.generate_button, 2)
        row.addWidget(self.new_seed_button, 1)
        form.addRow(row)
        self.export_grid_button = QPushButton("Export grid…")
        self.export_grid_button.setToolTip("Save the shown faces as PNG + JSON sidecar (every z-vector, "
                                           "generator, settings, seed, model fingerprint, scores)")
        self.export_grid_button.clicked.connect(self.export_grid_dialog)
        self.export_vectors_button = QPushButton("Export vectors…")
        self.export_vectors_button.setToolTip("Save all generated z-vectors as .npy or .csv")
        self.export_vectors_button.clicked.connect(self.export_vectors_dialog)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove the samples from the scatter and the grid")
        self.clear_button.clicked.connect(lambda: self.state.set_samples(None))
        row2 = QHBoxLayout()
        row2.addWidget(self.export_grid_button)
        row2.addWidget(self.export_vectors_button)
        row2.addWidget(self.clear_button)
        form.addRow(row2)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setToolTip("Summary of the last generated set")
        self.status.setMaximumWidth(320)
        self.status.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        box.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        box.setMaximumWidth(320)

        self.grid = FaceGrid()
        self.grid.setToolTip("Click a face to make its vector the current one")
        self.grid.faceClicked.connect(self._face_clicked)

        lay = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addWidget(box)
        left.addWidget(self.status)
        left.addStretch(1)
        lay.addLayout(left)
        lay.addWidget(self.grid, 1)

        self.method.currentTextChanged.connect(self._method_changed)
        self.sigma_level.valueChanged.connect(self._sigma_level_edited)
        self.fact.valueChanged.connect(self._fact_edited)
        self.sharpen.valueChanged.connect(self._sharpen_edited)
        self._method_changed(self.method.currentText())

    # ------------------------------------------------------------------------------ syncing
    def _method_changed(self, method: str) -> None:
        used = {"uniform": {self.b}, "normal": {self.sigma}, "mvn": set(),
                "ellipse": {self.n_comp, self.sigma_level, self.fact}}[method]
        for w in (self.b, self.sigma, self.n_comp, self.sigma_level, self.fact):
            # sigma level and fact also drive the overlays: keep them visible, enable the rest
            w.setEnabled(w in used or w in (self.sigma_level, self.fact))
            lab = self._rows.get(w)
            if lab is not None:
                lab.setEnabled(w in used)
        self.method.setToolTip(METHOD_TIPS.get(method, ""))

    def _sync_from_state(self) -> None:
        for w, v in ((self.sigma_level, self.state.sigma_level), (self.fact, self.state.fact)):
            if abs(w.value() - float(v)) > 1e-9:
                w.blockSignals(True)
                w.setValue(float(v))
                w.blockSignals(False)

    def _sync_sharpen(self) -> None:
        if abs(self.sharpen.value() - float(self.state.sharpen)) > 1e-9:
            self.sharpen.blockSignals(True)
            self.sharpen.setValue(float(self.state.sharpen))
            self.sharpen.blockSignals(False)
        self._show_grid()

    def _sigma_level_edited(self, v: float) -> None:
        try:
            self.state.set_sigma_level(v)
        except InvalidInputError:
            pass

    def _fact_edited(self, v: float) -> None:
        try:
            self.state.set_fact(v)
        except InvalidInputError:
            pass

    def _sharpen_edited(self, v: float) -> None:
        try:
            self.state.set_sharpen(v)
        except InvalidInputError:
            pass

    def _data_changed(self) -> None:
        self._sampler_cache = None
        self._scorer_cache = None
        if self.result is not None and self.state.samples is not self.result.get("state_samples"):
            self.result = None  # another workspace / other z-points: the old faces are stale
            self.grid.set_faces(None, [], [])
            self.status.setText("")
        if self.state.z_dim:
            self.n_comp.setMaximum(self.state.z_dim)
        self._update_enabled()

    def _decoder_changed(self) -> None:
        self._scorer_cache = None
        self._update_enabled()

    NO_DATA_TEXT = "Load z-points (open a workspace) to generate"
    READY_TEXT = "Ready: choose a method and press Generate (Ctrl+G)"
    NO_DECODER_TEXT = ("Ready (no decoder yet: the samples appear in the scatter only). "
                       "Press Generate (Ctrl+G)")

    def _update_enabled(self) -> None:
        has_z = self.state.z is not None
        self.generate_button.setEnabled(has_z)
        self.new_seed_button.setEnabled(has_z)
        has_samples = self.state.samples is not None
        self.export_vectors_button.setEnabled(has_samples)
        self.clear_button.setEnabled(has_samples)
        self.export_grid_button.setEnabled(self._grid_ready())
        text = self.status.text()
        idle = text in ("", self.NO_DATA_TEXT, self.READY_TEXT, self.NO_DECODER_TEXT)
        if not has_z:
            if idle or self.result is None:
                self.status.setText(self.NO_DATA_TEXT)
        elif idle:
            self.status.setText(self.READY_TEXT if self.state.decoder is not None
                                else self.NO_DECODER_TEXT)
        self._maybe_auto_generate()

    def _auto_ready(self) -> bool:
        """z-points, their statistics and a decoder are there, nothing generated for them yet."""
        st = self.state
        return (self.auto_generate and st.z is not None and st.decoder is not None
                and st.stats is not None and self.result is None and st.samples is None
                and self._auto_key != (id(st.z), id(st.decoder))
                and not (self.worker is not None and not self.worker.is_finished))

    def _maybe_auto_generate(self) -> None:
        """Fill the grid once, the first time the panel is visible with data and a decoder
        (so the tab is never an empty page); later runs only on Generate."""
        if self.isVisible() and self._auto_ready():
            self._auto_key = (id(self.state.z), id(self.state.decoder))
            self.generate()

    def showEvent(self, event) -> None:  # noqa: N802 -- Qt override
        super().showEvent(event)
        self._maybe_auto_generate()

    def _grid_ready(self) -> bool:
        r = self.result
        return (r is not None and r.get("images") is not None and self.state.samples is not None
                and self.state.samples is r.get("state_samples"))

    def _samples_changed(self) -> None:
        if self._setting_samples:
            return
        if self.result is not None and self.state.samples is not self.result.get("state_samples"):
            # samples were replaced or cleared elsewhere: the grid no longer shows them
            self.result = None
            self.grid.set_faces(None, [], [])
        self._update_enabled()

    # ------------------------------------------------------------------------------ generate
    def current_params(self) -> tuple[str, dict]:
        method = self.method.currentText()
        kw = sampler_params(method, b=self.b.value(), sigma=self.sigma.value(),
                            n_comp=self.n_comp.value(), sigma_level=self.sigma_level.value(),
                            fact=self.fact.value(), z_dim=max(self.state.z_dim, 1))
        return method, kw

    def generate(self):
        """Start the ``generate`` job with the panel's settings; returns the worker (or None)."""
        z = self.state.z
        if z is None:
            return None
        method, kw = self.current_params()
        key = (method, tuple(sorted(kw.items())), id(z))
        sampler = self._sampler_cache[1] if self._sampler_cache and self._sampler_cache[0] == key else None
        dec = self.state.decoder
        skey = (id(dec), id(z))
        scorer = self._scorer_cache[1] if self._scorer_cache and self._scorer_cache[0] == skey else None
        params = {"z": z, "method": method, "sampler_params": kw, "n": int(self.n.value()),
                  "seed": int(self.seed.value()), "n_show": int(self.n_show.value()),
                  "decoder": dec, "sampler": sampler, "scorer": scorer,
                  "score": self.state.workspace is not None or scorer is not None,
                  "ws": self.state.workspace, "stats": self.state.stats}
        self.status.setText(f"generating {params['n']:,} vectors ({method}) …")

        def done(res, key=key, skey=skey, z=z):
            if self.state.z is not z:
                return
            self._sampler_cache = (key, res["sampler"])
            if res.get("scorer") is not None:
                self._scorer_cache = (skey, res["scorer"])
            self._set_result(res)

        if self.runner is None:
            try:
                done(generate_task(params, ProgressReporter()))
            except InvalidInputError as exc:
                self._failed(str(exc))
            return None
        self.worker = self.runner.start(self.JOB, generate_task, params)
        self.worker.result.connect(done)
        self.worker.error.connect(self._failed)
        self.worker.cancelled.connect(lambda: self.status.setText("generation cancelled"))
        return self.worker

    def _failed(self, message: str) -> None:
        self.status.setText(f"Error: {message}")
        self.state.errorOccurred.emit(f"Generator: {message}")

    def _set_result(self, res: dict) -> None:
        self._setting_samples = True
        try:
            self.state.set_samples(res["z"], res["info"])
        except InvalidInputError as exc:
            self._failed(str(exc))
            return
        finally:
            self._setting_samples = False
        self.result = dict(res)
        self.result["state_samples"] = self.state.samples
        info = res["info"]
        text = (f"<b>{info['n']:,}</b> vectors ({info['generator']}), radius "
                f"{info['radius_mean']:.2f} ± {info['radius_std']:.2f}")
        if res.get("scores") is not None:
            fs = np.asarray(res["scores"].face_score)
            text += f"<br>face score: mean <b>{fs.mean():.2f}</b>, median {np.median(fs):.2f}"
            if res["scores"].all_hit is not None:
                text += f", all-hit {np.mean(res['scores'].all_hit):.0%}"
        elif res.get("images") is not None:
            text += "<br>(face-likeness needs a workspace with encoder and images)"
        if res.get("images") is None:
            text += "<br>(no decoder: faces not shown)"
        self.status.setText(text)
        self._show_grid()
        self._update_enabled()
        self.generated.emit(res)

    def shown_images(self) -> np.ndarray | None:
        """The decoded faces as shown (sharpened with the state's factor)."""
        r = self.result
        if r is None or r.get("images") is None:
            return None
        imgs = r["images"]
        f = float(self.state.sharpen)
        if f > 0:
            from ..render.images import sharpen

            imgs = sharpen(imgs, f)
        return imgs

    def captions(self) -> tuple[list[str], list[str]]:
        r = self.result
        imgs = r["images"]
        n = len(imgs)
        z = r["z"][:n]
        radius = np.linalg.norm(z.astype(np.float64), axis=1)
        scores = r.get("scores")
        caps, tips = [], []
        for i in range(n):
            if scores is not None:
                cap = f"face {scores.face_score[i]:.2f}"
                tip = (f"#{i}: face score {scores.face_score[i]:.3f}\n"
                       f"re-encode ratio {scores.cycle_ratio[i]:.2f}, nearest-image ratio "
                       f"{scores.nn_ratio[i]:.2f}\nradius {radius[i]:.2f}")
                if scores.hit_fraction is not None:
                    tip += f"\ncomponents inside μ±3·hw: {scores.hit_fraction[i]:.0%}"
            else:
                cap = f"R {radius[i]:.1f}"
                tip = f"#{i}: radius {radius[i]:.2f}"
            caps.append(cap)
            tips.append(tip + "\nclick: make it the current vector")
        return caps, tips

    def _show_grid(self) -> None:
        imgs = self.shown_images()
        if imgs is None:
            self.grid.set_faces(None, [], [])
            return
        caps, tips = self.captions()
        self.grid.set_faces(imgs, caps, tips)

    def _face_clicked(self, index: int) -> None:
        r = self.result
        if r is None or index >= len(r["z"]):
            return
        try:
            self.state.set_current(r["z"][index])
        except InvalidInputError as exc:
            self._failed(str(exc))

    # ------------------------------------------------------------------------------ export
    def fingerprint(self) -> str:
        """The decoder's weights fingerprint (what ``redecode_sidecar`` checks)."""
        return self.state.decoder_fingerprint()

    def export_grid(self, path) -> tuple:
        """Write the shown grid (PNG + JSON sidecar) to ``path``; returns (png, json)."""
        from .export import export_grid

        r = self.result
        if r is None or r.get("images") is None:
            raise InvalidInputError("no decoded faces to export (generate first)")
        imgs = r["images"]
        n = len(imgs)
        info = r["info"]
        scores = r.get("scores")
        extra = {"radius": {"mean": info["radius_mean"], "std": info["radius_std"]}, "n_generated": info["n"]}
        ws = self.state.workspace
        if ws is not None:
            extra["workspace"] = str(ws.path)
        caps, _ = self.captions()
        return export_grid(path, r["z"][:n], imgs, generator=info["generator"], settings=info["settings"],
                           seed=info["seed"], fingerprint=self.fingerprint(),
                           scores=None if scores is None else scores.to_dict(),
                           labels=caps, cols=self.grid.columns() if n > 1 else 1,
                           sharpen=float(self.state.sharpen), extra=extra)

    def export_grid_dialog(self):
        from .export import IMAGE_FILTER, ask_save_path
        from .widgets import show_error

        if not self._grid_ready():
            return None
        path = ask_save_path(self, "Export grid", "grids", IMAGE_FILTER,
                             f"grid_{self.result['info']['generator']}_seed{self.result['info']['seed']}.png")
        if path is None:
            return None
        try:
            return self.export_grid(path)
        except (InvalidInputError, OSError) as exc:
            show_error(self, "Export grid", str(exc))
            return None

    def export_vectors_dialog(self):
        from .export import VECTOR_FILTER, ask_save_path, save_vectors
        from .widgets import show_error

        z = self.state.samples
        if z is None:
            return None
        path = ask_save_path(self, "Export z-vectors", "vectors", VECTOR_FILTER, "samples.npy")
        if path is None:
            return None
        try:
            return save_vectors(path, z)
        except (InvalidInputError, OSError) as exc:
            show_error(self, "Export vectors", str(exc))
            return None

