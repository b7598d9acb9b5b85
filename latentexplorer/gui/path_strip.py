"""Strip of decoded faces along the current path (``model.path_vectors(N)``).

The path is drawn in the scatter (Shift+drag, or clicks in path mode) or runs along an attribute
direction through the current vector; every image of the strip is the current vector with only the
path's coordinates changed. The vectors are decoded in the background (latest request wins). Click a
face to make its vector the current one; the strip exports as PNG + JSON (the JSON records the path:
its plane and points, or the attribute and its range).
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from ..errors import InvalidInputError
from ..explore.paths import DirectionPath, attribute_direction_span
from .face_view import apply_sharpen
from .state import AppState
from .widgets import to_pixmap

log = logging.getLogger(__name__)

THUMB = 76
HINT = "Shift+drag in the scatter (or use path mode) to draw a path"


class PathStrip(QWidget):
    """N decoded images along the path (see the module docstring).

    Signals
    -------
    decoded(images) : uint8 (N, H, W, 3) images after each decode (before sharpening)
    """

    decoded = Signal(object)

    def __init__(self, state: AppState, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = state.model
        self.controller = controller
        self.images: np.ndarray | None = None
        self.vectors: np.ndarray | None = None
        self.last_decode_ms: float | None = None
        self._token = 0

        self.n_spin = QSpinBox()
        self.n_spin.setRange(2, 40)
        self.n_spin.setValue(10)
        self.n_spin.setToolTip("Number of images decoded along the path (equally spaced by length)")
        self.info = QLabel(HINT)
        self.info.setToolTip("The path lies in the scatter's plane (all other coordinates of the "
                             "current z-vector are kept) or runs along an attribute direction")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove the path")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the strip as PNG with a JSON sidecar of its z-vectors and path")
        self.export_button.setEnabled(False)
        self.attr_combo = QComboBox()
        self.attr_combo.setToolTip("Attribute whose mean-difference direction the path follows")
        self.attr_combo.setMinimumContentsLength(14)
        self.attr_button = QPushButton("Along attribute")
        self.attr_button.setToolTip("Path through the current z-vector along the chosen attribute's "
                                    "direction (mean of positives − mean of negatives), ±2 σ of the data")

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
        self.buttons: list[QToolButton] = []
        scroll = QScrollArea()
        scroll.setWidget(self._row)
        scroll.setWidgetResizable(True)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumHeight(THUMB + 26)
        scroll.setToolTip("Decoded faces along the path, from its start (left) to its end (right); "
                          "click one to make it the current z-vector")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addLayout(top)
        lay.addWidget(scroll)

        self.n_spin.valueChanged.connect(lambda _n: self.refresh())
        self.clear_button.clicked.connect(lambda: self.model.set_path(None))
        self.attr_button.clicked.connect(self._on_attribute_path)
        self.export_button.clicked.connect(self.export_dialog)
        state.dataChanged.connect(lambda _m: self._refresh_attributes())
        state.pathChanged.connect(lambda _p: self.refresh())
        state.decoderChanged.connect(lambda _d: self.refresh())
        # a PCA-plane path restored with the workspace waits for the PCA: draw it when it is there
        state.analysisChanged.connect(lambda _a: self.refresh() if self.model.path is not None else None)
        state.sharpenChanged.connect(lambda _s: self._show())
        state.currentChanged.connect(lambda _c: self.refresh() if self.model.path is not None else None)
        controller.decoding.decoded.connect(self._on_decoded)
        self._refresh_attributes()

    # ------------------------------------------------------------------ the path
    def _refresh_attributes(self) -> None:
        names = list(self.model.attribute_names)
        self.attr_combo.clear()
        self.attr_combo.addItems(names)
        self.attr_combo.setEnabled(bool(names))
        self.attr_button.setEnabled(bool(names))

    def _on_attribute_path(self) -> None:
        m = self.model
        name = self.attr_combo.currentText()
        try:
            unit, half = attribute_direction_span(m.z, m.attributes[:, m.attribute_names.index(name)])
            m.set_direction_path(name, unit, -half, half)
        except (InvalidInputError, ValueError) as exc:
            self.info.setText(f"attribute path: {exc}")

    def refresh(self) -> None:
        """Decode the vectors along the path (in the background; the newest request wins)."""
        m = self.model
        self._token += 1  # whatever is still being decoded is for an older path
        if m.path is None or m.current is None:
            self.images, self.vectors = None, None
            self._set_thumbs([])
            self.info.setText(HINT)
            self.export_button.setEnabled(False)
            return
        vectors = m.path_vectors(int(self.n_spin.value()))
        if not len(vectors):
            self.info.setText("path: waiting for the PCA of the z-points")
            return
        if self.state.decoder is None:
            self.images, self.vectors = None, vectors
            self._set_thumbs([])
            self.info.setText("no decoder: open a workspace with a trained model")
            return
        self.controller.decode_path(vectors, (self._token, vectors))

    def _on_decoded(self, slot: str, token, images, ms: float) -> None:
        if slot != "path" or token[0] != self._token:
            return
        self.vectors, self.images, self.last_decode_ms = token[1], np.asarray(images), ms
        self.info.setText(self._describe())
        self.export_button.setEnabled(True)
        self._show()
        self.decoded.emit(self.images)

    def _describe(self) -> str:
        path, n = self.model.path, len(self.vectors)
        if isinstance(path, DirectionPath):
            return f"{n} images along '{path.name}' from {path.lo:+.2f} to {path.hi:+.2f} (less → more)"
        p = path.points
        length = float(np.sum(np.linalg.norm(np.diff(p, axis=0), axis=1))) if len(p) > 1 else 0.0
        return f"{n} images along a path of length {length:.2f} in {path.plane.label(0)} / {path.plane.label(1)}"

    # ------------------------------------------------------------------ thumbnails
    def _show(self) -> None:
        if self.images is not None:
            self._set_thumbs([apply_sharpen(im, self.model.sharpen) for im in self.images])

    def _set_thumbs(self, imgs: list[np.ndarray]) -> None:
        while len(self.buttons) < len(imgs):
            b = QToolButton()
            b.setFixedSize(THUMB, THUMB)
            b.setIconSize(b.size() * 0.95)
            b.setAutoRaise(True)
            k = len(self.buttons)
            b.clicked.connect(lambda _checked=False, k=k: self.pick(k))
            self._row_layout.insertWidget(k, b)
            self.buttons.append(b)
        for k, b in enumerate(self.buttons):
            if k < len(imgs):
                from PySide6.QtGui import QIcon

                b.setIcon(QIcon(to_pixmap(imgs[k])))
                b.setToolTip(f"path point {k + 1} of {len(imgs)} — click: make it the current z-vector")
                b.show()
            else:
                b.hide()

    def pick(self, k: int) -> None:
        """Make the vector of strip image ``k`` the current one (the path is kept)."""
        if self.vectors is None or not 0 <= k < len(self.vectors):
            return
        path = self.model.path
        self.model.set_current(self.vectors[k])
        if isinstance(path, DirectionPath):  # re-centre: the strip stays where it was
            t = np.linspace(path.lo, path.hi, len(self.vectors))[k]
            self.model.set_path(DirectionPath(path.name, path.unit, path.lo - t, path.hi - t))

    # ------------------------------------------------------------------ export
    def export_dialog(self) -> None:
        """Ask for a file name (in the workspace's results/) and write the strip."""
        from .export import ask_save_path

        if self.images is None or self.vectors is None:
            return
        path = ask_save_path(self, "Export path strip", "export", "PNG image (*.png)",
                             "path_strip.png", workspace=self.state.workspace)
        if path is None:
            return
        try:
            png, _json = self.export(path)
            self.state.notice.emit(f"Path strip saved: {png}")
        except (InvalidInputError, OSError) as exc:
            self.state.errorOccurred.emit(f"Export of the path strip failed: {exc}")

    def export(self, path):
        """Write the strip to ``path`` (PNG + JSON sidecar recording the path); returns (png, json)."""
        from .export import export_path_strip

        if self.images is None or self.vectors is None or self.model.path is None:
            raise InvalidInputError("no path strip to export (draw a path first)")
        return export_path_strip(path, self.vectors, self.images,
                                 fingerprint=self.state.decoder_fingerprint,
                                 path_spec=self.model.path.to_dict(), sharpen=self.model.sharpen)
