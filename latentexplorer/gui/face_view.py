"""Decoded-face panel: the current z-vector as a large face, with its measures.

Shows the model's decoded image of the current vector (the controller decodes it off the GUI thread;
sharpened here by the slider, PIL ``Sharpness``, 0 = off), the radius |z|, two Mahalanobis
distances — over every dimension (in the PCA basis: large as soon as a vector leaves the thin
directions of the cloud) and within the shown plane (its 2-D ellipse) — and the nearest training
image. While the mouse hovers over the scatter, the hovered training image is shown below.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFormLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..errors import InvalidInputError
from .decoding import LatestWinsThread, background_nearest
from .state import AppState
from .widgets import LabeledSlider, fmt_num, to_pixmap

log = logging.getLogger(__name__)


def apply_sharpen(img: np.ndarray, factor: float) -> np.ndarray:
    """PIL sharpness ``factor`` (0 = no processing, the sidecar convention)."""
    if factor <= 0:
        return img
    from ..render.images import sharpen

    return sharpen(img, factor)


class ScaledImageLabel(QLabel):
    """A QLabel that shows an image scaled to its size, aspect kept (smooth)."""

    def __init__(self, min_side: int = 160, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pix: QPixmap | None = None
        self.setAlignment(Qt.AlignCenter)
        self.setMinimumSize(min_side, min_side)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setStyleSheet("QLabel { background: #202020; color: #bbbbbb; }")

    def set_image(self, img: np.ndarray | None, text: str = "") -> None:
        self._pix = None if img is None else to_pixmap(img)
        if self._pix is None:
            self.setPixmap(QPixmap())
            self.setText(text)
        else:
            self.setText("")
            self._rescale()

    def resizeEvent(self, ev) -> None:  # noqa: N802
        super().resizeEvent(ev)
        self._rescale()

    def sizeHint(self) -> QSize:
        return QSize(240, 240)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, w: int) -> int:  # noqa: N802
        return w

    def _rescale(self) -> None:
        if self._pix is not None:
            self.setPixmap(self._pix.scaled(self.width(), self.height(), Qt.KeepAspectRatio,
                                            Qt.SmoothTransformation))


class _Thumb(QLabel):
    def __init__(self, tip: str) -> None:
        super().__init__()
        self.setFixedSize(64, 64)
        self.setAlignment(Qt.AlignCenter)
        self.setStyleSheet("QLabel { background: #202020; }")
        self.setToolTip(tip)

    def show_image(self, img) -> None:
        if img is None:
            self.clear()
        else:
            self.setPixmap(to_pixmap(np.asarray(img)).scaled(60, 60, Qt.KeepAspectRatio,
                                                             Qt.SmoothTransformation))


class FaceView(QWidget):
    """The decoded face of the current z-vector (see the module docstring)."""

    def __init__(self, state: AppState, neighbours: LatestWinsThread | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = state.model
        self.last_nearest_ms: float | None = None
        #: where the nearest data point is searched (None: here, in the GUI thread)
        self.neighbours = neighbours
        self._nearest_token: object = None
        self._nearest_request: tuple | None = None  # waiting for the face to be shown
        if neighbours is not None:
            neighbours.done.connect(self._on_nearest)

        self.image = ScaledImageLabel(180)
        self.image.setToolTip("The decoder's image of the current z-vector (click or drag in the "
                              "scatter to move it)")
        self.image.set_image(None, "no model loaded")
        self.title = QLabel("current z-vector")
        self.title.setAlignment(Qt.AlignCenter)
        self.title.setWordWrap(True)
        self.title.setToolTip("Where the current z-vector comes from")
        self.sharpen = LabeledSlider("Sharpen", 0.0, 7.0, 0.5, self.model.sharpen,
                                     tooltip="PIL sharpness factor applied to decoded faces "
                                             "(0 = off; the seeds used 3 to 7)", fmt="{:.1f}")
        self.radius_label = QLabel("–")
        self.radius_label.setToolTip("Radius |z| (L2 norm) of the current z-vector")
        self.maha_label = QLabel("–")
        self.maha_label.setToolTip(
            "Mahalanobis distance from the mean of the z-points.\n"
            "all dims: over every PCA axis (about √z_dim for typical points; it grows fast when a "
            "vector leaves the thin directions of the cloud, e.g. after a click in a latent plane)\n"
            "in plane: within the shown plane only (2 = on the 2σ confidence ellipse)")
        self.nearest_thumb = _Thumb("The training image whose z-point is nearest to the current "
                                    "z-vector (Euclidean distance in z-space)")
        self.nearest_label = QLabel("–")
        self.nearest_label.setWordWrap(True)
        self.hover_thumb = _Thumb("The training image under the mouse in the scatter")
        self.hover_label = QLabel("hover over the scatter")
        self.hover_label.setWordWrap(True)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Radius:", self.radius_label)
        form.addRow("Mahalanobis:", self.maha_label)
        form.addRow(self._pair(self.nearest_thumb, self.nearest_label, "Nearest"))
        form.addRow(self._pair(self.hover_thumb, self.hover_label, "Hovered"))

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.title)
        lay.addWidget(self.image, 1)
        lay.addWidget(self.sharpen)
        lay.addLayout(form)

        self.sharpen.valueChanged.connect(self._on_sharpen_slider)
        state.currentChanged.connect(lambda _c: self.refresh_measures())
        state.analysisChanged.connect(lambda _a: self.refresh_measures())
        state.planeChanged.connect(lambda _p: self.refresh_measures())
        state.imageChanged.connect(lambda _i: self.show_image())
        if neighbours is not None:
            state.imageChanged.connect(lambda _i: self._submit_nearest())
        state.sharpenChanged.connect(self._on_sharpen_model)
        state.decoderChanged.connect(lambda _d: self.show_image())
        self.refresh_measures()

    @staticmethod
    def _pair(thumb: QWidget, label: QWidget, title: str) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 2, 0, 0)
        lay.setSpacing(1)
        head = QLabel(f"<b>{title}</b>")
        lay.addWidget(head)
        row = QWidget()
        from PySide6.QtWidgets import QHBoxLayout

        rl = QHBoxLayout(row)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(thumb)
        rl.addWidget(label, 1)
        lay.addWidget(row)
        return box

    # ------------------------------------------------------------------ updates
    def _on_sharpen_slider(self, value: float) -> None:
        self.model.set_sharpen(value)

    def _on_sharpen_model(self, value: float) -> None:
        self.sharpen.setValue(value)
        self.show_image()

    def show_image(self) -> None:
        img = self.model.image
        if img is None:
            text = "no z-points loaded" if self.model.current is None else \
                "no decoder (train a model or open a workspace)" if self.state.decoder is None else "decoding…"
            self.image.set_image(None, text)
            return
        try:
            img = apply_sharpen(img, self.model.sharpen)
        except InvalidInputError as exc:
            log.warning("sharpen failed: %s", exc)
        self.image.set_image(img)

    def refresh_measures(self) -> None:
        m = self.model
        if m.current is None:
            for lab in (self.radius_label, self.maha_label, self.nearest_label):
                lab.setText("–")
            self.nearest_thumb.show_image(None)
            self.title.setText("current z-vector")
            return
        self._update_title()
        self.radius_label.setText(fmt_num(m.radius()))
        full, plane = m.mahalanobis(), m.mahalanobis_in_plane()
        dims = f"all {m.n_pca} dims" if m.n_pca else "all dims"
        self.maha_label.setText(f"{fmt_num(full)} ({dims})  ·  {fmt_num(plane)} (in plane)"
                                if full is not None else f"(PCA not ready)  ·  {fmt_num(plane)} (in plane)")
        self._update_nearest()

    def _update_title(self) -> None:
        m = self.model
        cur = m.current
        if cur.index is not None:
            name = f" ({m.filenames[cur.index]})" if cur.index < len(m.filenames) else ""
            self.title.setText(f"data point #{cur.index}{name}")
            return
        try:
            c = m.plane_coords(cur.vector)
        except InvalidInputError:  # PCA not ready
            self.title.setText("current z-vector")
            return
        self.title.setText(f"({m.plane.label(0)}, {m.plane.label(1)}) = ({c[0]:.2f}, {c[1]:.2f})")

    def _update_nearest(self) -> None:
        m = self.model
        job = None if self.neighbours is None else background_nearest(m, 1)
        if job is not None:
            # the exact search of millions of points must not hold up the face: searched in the
            # background once the face is shown (or now, without a decoder), shown when found
            # unless the vector has moved on by then
            self._nearest_token = token = object()
            self._nearest_request = (job, token)
            if self.state.decoder is None:
                self._submit_nearest()
            return
        t0 = time.perf_counter()
        res = m.nearest_point()
        self.last_nearest_ms = (time.perf_counter() - t0) * 1000
        self._show_nearest(res)

    def _submit_nearest(self) -> None:
        if self._nearest_request is not None:
            fn, token = self._nearest_request
            self._nearest_request = None
            self.neighbours.submit("nearest", fn, token)

    def _on_nearest(self, slot: str, token, result, ms: float) -> None:
        if slot != "nearest" or token is not self._nearest_token or result[0] is not self.model.analysis:
            return
        idx, dist = result[1]
        self.last_nearest_ms = ms
        self._show_nearest((int(idx[0]), float(dist[0])))

    def _show_nearest(self, res) -> None:
        m = self.model
        if res is None:
            self.nearest_label.setText("(index being built)" if m.z is not None else "–")
            self.nearest_thumb.show_image(None)
            return
        idx, dist = res
        self.nearest_thumb.show_image(self.state.thumbnail(idx))
        self.nearest_label.setText(f"#{idx} {self._name(idx)}\ndistance {dist:.2f}")

    def _name(self, idx: int) -> str:
        names = self.model.filenames
        return Path(names[idx]).name if 0 <= idx < len(names) else ""

    def show_hovered(self, index: int, x: float, y: float) -> None:
        """The scatter's hover: coordinates and the nearest training image under the mouse."""
        m = self.model
        where = f"({m.plane.label(0)}, {m.plane.label(1)}) = ({x:.2f}, {y:.2f})"
        if index < 0:
            self.hover_thumb.show_image(None)
            self.hover_label.setText(where)
            return
        self.hover_thumb.show_image(self.state.thumbnail(index))
        self.hover_label.setText(f"{where}\n#{index} {self._name(index)}")
