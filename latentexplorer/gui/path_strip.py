"""Strip of decoded faces along the current path (``state.path_vectors(N)``).

The path is drawn in the scatter (Shift+drag, or clicks in path mode); every point of it is the
current z-vector with its two plane coordinates replaced, so the strip shows what changes when
only those two coordinates move. Updates are coalesced (~30 ms) and decoded as one batch.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSpinBox,
                               QVBoxLayout, QWidget)

from .face_view import apply_sharpen
from .state import AppState
from .widgets import to_pixmap

log = logging.getLogger(__name__)

STRIP_DELAY_MS = 30
THUMB = 76


class PathStrip(QWidget):
    """N decoded images along the path.

    Signals
    -------
    decoded(object) : uint8 (N, H, W, 3) images after each decode (before sharpening).
    """

    decoded = Signal(object)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.images: np.ndarray | None = None
        self.vectors: np.ndarray | None = None
        self.last_decode_ms: float | None = None

        self.n_spin = QSpinBox()
        self.n_spin.setRange(2, 40)
        self.n_spin.setValue(10)
        self.n_spin.setToolTip("Number of images decoded along the path (equally spaced by length)")
        self.info = QLabel("Shift+drag in the scatter (or use path mode) to draw a path")
        self.info.setToolTip("The path lies in the scatter's plane; all other coordinates of the "
                             "current z-vector are kept")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove the path")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the strip as PNG with a JSON sidecar of its z-vectors")
        self.export_button.setEnabled(False)
        self.attr_combo = QComboBox()
        self.attr_combo.setToolTip("Attribute whose mean-difference direction the path follows")
        self.attr_combo.setMinimumContentsLength(14)
        self.attr_button = QPushButton("Along attribute")
        self.attr_button.setToolTip("Path through the current z-vector along the chosen attribute's "
                                    "direction (mean of positives − mean of negatives), ±2 σ of the data")
        self._refresh_attributes()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Images:"))
        top.addWidget(self.n_spin)
        top.addWidget(self.info, 1)
        top.addWidget(self.attr_combo)
        top.addWidget(self.attr_button)
        top.addWidget(self.clear_button)
        top.addWidget(self.export_button)

        self._row = QWidget()
        self._row_layout = QHBoxLayout(self._row)
        self._row_layout.setContentsMargins(2, 2, 2, 2)
        self._row_layout.setSpacing(3)
        self._row_layout.addStretch(1)
        self._labels: list[QLabel] = []
        scroll = QScrollArea()
        scroll.setWidget(self._row)
        scroll.setWidgetResizable(True)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumHeight(THUMB + 26)
        scroll.setToolTip("Decoded faces along the path, from its start (left) to its end (right)")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addLayout(top)
        lay.addWidget(scroll)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(STRIP_DELAY_MS)
        self._timer.timeout.connect(self._update_now)
        self.n_spin.valueChanged.connect(self.schedule)
        self.clear_button.clicked.connect(lambda: self.state.set_path(None))
        self.attr_button.clicked.connect(self._on_attribute_path)
        for sig in ("latentsChanged", "workspaceChanged"):
            if hasattr(state, sig):
                getattr(state, sig).connect(self._refresh_attributes)
        self.export_button.clicked.connect(self.export_dialog)
        state.pathChanged.connect(self.schedule)
        state.decoderChanged.connect(self.schedule)
        state.sharpenChanged.connect(self._show)
        state.currentChanged.connect(self._on_current)

    def schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _refresh_attributes(self) -> None:
        names = list(self.state.attribute_names or [])
        self.attr_combo.clear()
        self.attr_combo.addItems(names)
        self.attr_combo.setEnabled(bool(names))
        self.attr_button.setEnabled(bool(names))

    def _on_attribute_path(self) -> None:
        name = self.attr_combo.currentText()
        try:
            self.state.set_attribute_path(name)
        except Exception as exc:  # noqa: BLE001 -- shown, never a crash
            self.info.setText(f"attribute path: {exc}")

    def _on_current(self) -> None:
        if self.state.has_path():
            self.schedule()

    def _update_now(self) -> None:
        st = self.state
        if not st.has_path() or st.current is None:
            self.images, self.vectors = None, None
            self._set_thumbs([])
            self.info.setText("Shift+drag in the scatter (or use path mode) to draw a path")
            self.export_button.setEnabled(False)
            return
        n = int(self.n_spin.value())
        try:
            vectors = st.path_vectors(n)
        except Exception as exc:  # noqa: BLE001
            self.info.setText(f"path: {exc}")
            return
        self.vectors = vectors
        if st.decoder is None:
            self.images = None
            self._set_thumbs([])
            self.info.setText("no decoder: open a workspace with a trained model")
            return
        t0 = time.perf_counter()
        try:
            self.images = np.asarray(st.decoder.decode(vectors))
        except Exception as exc:  # noqa: BLE001 -- shown, never a crash
            log.exception("path decode failed")
            self.info.setText(f"decode failed: {exc}")
            return
        self.last_decode_ms = (time.perf_counter() - t0) * 1000
        if st.attribute_path is not None:
            name, ends, _ = st.attribute_path
            self.info.setText(f"{n} images along '{name}' from {ends[0]:+.2f} to {ends[1]:+.2f} "
                              "(less → more)")
        else:
            p = st.path_points
            length = float(np.sum(np.linalg.norm(np.diff(p, axis=0), axis=1))) if len(p) > 1 else 0.0
            self.info.setText(f"{n} images along a path of length {length:.2f} in "
                              f"{st.plane_axis_label(0)} / {st.plane_axis_label(1)}")
        self.export_button.setEnabled(True)
        self._show()
        self.decoded.emit(self.images)

    def _show(self) -> None:
        if self.images is None:
            return
        imgs = [apply_sharpen(im, self.state.sharpen) for im in self.images]
        self._set_thumbs(imgs)

    def _set_thumbs(self, imgs: list[np.ndarray]) -> None:
        while len(self._labels) < len(imgs):
            lab = QLabel()
            lab.setFixedSize(THUMB, THUMB)
            lab.setAlignment(Qt.AlignCenter)
            lab.setStyleSheet("QLabel { background: #202020; }")
            self._row_layout.insertWidget(len(self._labels), lab)
            self._labels.append(lab)
        for k, lab in enumerate(self._labels):
            if k < len(imgs):
                lab.setPixmap(to_pixmap(imgs[k]).scaled(THUMB - 2, THUMB - 2, Qt.KeepAspectRatio,
                                                        Qt.SmoothTransformation))
                lab.setToolTip(f"path point {k + 1} of {len(imgs)}")
                lab.show()
            else:
                lab.hide()

    def export_dialog(self) -> None:
        """Ask for a file name and write the strip (PNG + JSON sidecar)."""
        if self.images is None or self.vectors is None:
            return
        st = self.state
        try:
            from .export import ask_save_path, export_path_strip
        except ImportError as exc:
            st.errorOccurred.emit(f"export not available: {exc}")
            return
        path = ask_save_path(self, "Export path strip", "export", "PNG image (*.png)", "path_strip.png")
        if path is None:
            return
        try:
            self.export(path)
        except Exception as exc:  # noqa: BLE001
            st.errorOccurred.emit(f"Export of the path strip failed: {exc}")

    def export(self, path):
        """Write the strip to ``path`` (PNG + JSON sidecar); returns (png, json).

        The sidecar records the decoder's weights fingerprint (as the generator's grid export
        does), so :func:`latentexplorer.render.images.redecode_sidecar` accepts it with the same
        decoder."""
        from ..errors import InvalidInputError
        from .export import export_path_strip

        if self.images is None or self.vectors is None:
            raise InvalidInputError("no path strip to export (draw a path first)")
        st = self.state
        return export_path_strip(path, self.vectors, self.images,
                                 fingerprint=st.decoder_fingerprint(), plane=st.plane,
                                 points=st.path_points, sharpen=st.sharpen)
