"""Decoded-face panel: the current z-vector as a large face, with its measures.

Shows the decoded image of ``state.current`` (sharpened by the slider, PIL ``Sharpness``; 0 =
off), the radius |z|, the Mahalanobis distance from the z-point mean (PCA basis) and the nearest
training image (thumbnail, index, distance; :class:`~latentexplorer.gui.state.NearestIndex`,
exact, a few ms for 200k points).

Decoding is coalesced: a change of the current vector starts a ~20 ms single-shot timer;
whatever is current when it fires is decoded (``Decoder.decode_one``, a compiled single-vector
graph: milliseconds) -- dragging the mouse never queues up decodes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFormLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .state import AppState
from .widgets import LabeledSlider, fmt_num, to_pixmap

log = logging.getLogger(__name__)

DECODE_DELAY_MS = 20


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
        return QSize(256, 256)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, w: int) -> int:  # noqa: N802
        return w

    def _rescale(self) -> None:
        if self._pix is None:
            return
        side = max(16, min(self.width(), self.height()) - 4)
        self.setPixmap(self._pix.scaled(side, side, Qt.KeepAspectRatio, Qt.SmoothTransformation))


class FaceView(QWidget):
    """The decoded face of the current z-vector (see the module docstring).

    Signals
    -------
    decoded(object) : the uint8 (H, W, 3) image after each decode (before sharpening).
    """

    decoded = Signal(object)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.last_image: np.ndarray | None = None
        self.last_vector: np.ndarray | None = None
        self.decode_count = 0
        self.last_decode_ms: float | None = None
        self.last_nearest_ms: float | None = None

        self.image = ScaledImageLabel(180)
        self.image.setToolTip("The decoder's image of the current z-vector (click the scatter to move it)")
        self.image.set_image(None, "no model loaded")
        self.title = QLabel("current z-vector")
        self.title.setAlignment(Qt.AlignCenter)
        self.title.setToolTip("Where the current z-vector comes from")
        self.sharpen = LabeledSlider("Sharpen", 0.0, 7.0, 0.5, state.sharpen,
                                     tooltip="PIL sharpness factor applied to decoded faces "
                                             "(0 = off; the seeds used 3 to 7)", fmt="{:.1f}")
        self.radius_label = QLabel("–")
        self.radius_label.setToolTip("Radius |z| (L2 norm) of the current z-vector")
        self.maha_label = QLabel("–")
        self.maha_label.setToolTip("Mahalanobis distance of the current z-vector from the mean of "
                                   "the z-points (PCA basis): about sqrt(z_dim) for typical points")
        self.nearest_thumb = QLabel()
        self.nearest_thumb.setFixedSize(72, 72)
        self.nearest_thumb.setAlignment(Qt.AlignCenter)
        self.nearest_thumb.setStyleSheet("QLabel { background: #202020; }")
        self.nearest_thumb.setToolTip("The training image whose z-point is nearest to the current "
                                      "z-vector (Euclidean distance in z-space)")
        self.nearest_label = QLabel("–")
        self.nearest_label.setWordWrap(True)
        self.nearest_label.setToolTip(self.nearest_thumb.toolTip())

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Radius:", self.radius_label)
        form.addRow("Mahalanobis:", self.maha_label)
        near = QWidget()
        nl = QVBoxLayout(near)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.addWidget(self.nearest_thumb)
        nl.addWidget(self.nearest_label)
        form.addRow("Nearest:", near)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.title)
        lay.addWidget(self.image, 1)
        lay.addWidget(self.sharpen)
        lay.addLayout(form)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DECODE_DELAY_MS)
        self._timer.timeout.connect(self._update_now)

        self.sharpen.valueChanged.connect(self._on_sharpen_slider)
        state.currentChanged.connect(self.schedule)
        state.decoderChanged.connect(self.schedule)
        state.analysisChanged.connect(self.schedule)
        state.sharpenChanged.connect(self._on_sharpen_state)
        state.workspaceChanged.connect(self.schedule)
        state.planeChanged.connect(self._update_title)
        self.schedule()

    # ------------------------------------------------------------------------------ updates
    def schedule(self) -> None:
        """Request an update; several requests within the delay give one decode."""
        if not self._timer.isActive():
            self._timer.start()

    def _on_sharpen_slider(self, value: float) -> None:
        self.state.set_sharpen(value)

    def _on_sharpen_state(self) -> None:
        self.sharpen.setValue(self.state.sharpen)
        self._show_image()

    def _update_now(self) -> None:
        st = self.state
        v = st.current
        if v is None:
            self.image.set_image(None, "no z-points loaded")
            for lab in (self.radius_label, self.maha_label, self.nearest_label):
                lab.setText("–")
            self.nearest_thumb.clear()
            return
        self._update_title()
        self.radius_label.setText(fmt_num(st.radius()))
        m = st.mahalanobis()
        self.maha_label.setText(fmt_num(m) if m is not None else "(PCA not ready)")
        self._update_nearest()
        # decode
        if st.decoder is None:
            self.last_image = None
            self.image.set_image(None, "no decoder (train a model or open a workspace)")
            return
        t0 = time.perf_counter()
        try:
            img = st.decoder.decode_one(v)
        except Exception as exc:  # noqa: BLE001 -- shown, never a crash
            log.exception("decode failed")
            self.image.set_image(None, f"decode failed:\n{exc}")
            st.errorOccurred.emit(f"Decoding the current z-vector failed: {exc}")
            return
        self.last_decode_ms = (time.perf_counter() - t0) * 1000
        self.last_image = np.asarray(img)
        self.last_vector = np.array(v, copy=True)
        self.decode_count += 1
        self._show_image()
        self.decoded.emit(self.last_image)

    def _update_title(self) -> None:
        st = self.state
        v = st.current
        if v is None:
            self.title.setText("current z-vector")
        elif st.current_index is not None and st.dataset is not None \
                and 0 <= st.current_index < len(st.dataset.filenames):
            self.title.setText(f"data point #{st.current_index} ({st.dataset.filenames[st.current_index]})")
        elif st.current_index is not None:
            self.title.setText(f"data point #{st.current_index}")
        else:
            kind, i, j = st.plane
            try:
                c = st.plane_coords(v)
            except Exception:  # noqa: BLE001 -- PCA not ready
                self.title.setText("current z-vector")
                return
            axes = (f"z[{i}], z[{j}]" if kind == "latent" else f"PC{i + 1}, PC{j + 1}")
            self.title.setText(f"({axes}) = ({c[0]:.2f}, {c[1]:.2f})")

    def _show_image(self) -> None:
        if self.last_image is None:
            return
        try:
            img = apply_sharpen(self.last_image, self.state.sharpen)
        except Exception as exc:  # noqa: BLE001
            log.warning("sharpen failed: %s", exc)
            img = self.last_image
        self.image.set_image(img)

    def _update_nearest(self) -> None:
        st = self.state
        t0 = time.perf_counter()
        res = st.nearest_point()
        self.last_nearest_ms = (time.perf_counter() - t0) * 1000
        if res is None:
            self.nearest_label.setText("(index being built)" if st.z is not None else "–")
            self.nearest_thumb.clear()
            return
        idx, dist = res
        name = ""
        if st.dataset is not None and idx < st.dataset.n:
            name = Path(st.dataset.filenames[idx]).name
            try:
                self.nearest_thumb.setPixmap(to_pixmap(np.asarray(st.dataset.images[idx])).scaled(
                    68, 68, Qt.KeepAspectRatio, Qt.SmoothTransformation))
            except Exception as exc:  # noqa: BLE001 -- data folder gone
                log.debug("thumbnail %d: %s", idx, exc)
                self.nearest_thumb.clear()
        else:
            self.nearest_thumb.clear()
        self.nearest_label.setText(f"#{idx} {name}\ndistance {dist:.2f}")
