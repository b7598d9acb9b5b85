"""Small shared Qt helpers: pyqtgraph defaults, labelled sliders, image conversion, error dialogs."""

from __future__ import annotations

import logging
import math
import sys
import traceback
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QSlider, QWidget

log = logging.getLogger(__name__)

_configured = False


def configure_pyqtgraph() -> None:
    """Process-wide pyqtgraph look: light background, dark text, no antialiasing (speed)."""
    global _configured
    if not _configured:
        pg.setConfigOptions(background="w", foreground="k", antialias=False)
        _configured = True


def to_qimage(img: np.ndarray) -> QImage:
    """QImage (owning a copy) from a uint8 (h, w, 3) RGB or (h, w) grey array."""
    a = np.ascontiguousarray(img)
    if a.dtype != np.uint8:
        a = np.clip(np.rint(a * 255.0 if a.dtype.kind == "f" else a), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        h, w = a.shape
        return QImage(a.data, w, h, w, QImage.Format_Grayscale8).copy()
    h, w, c = a.shape
    if c == 4:
        return QImage(a.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()
    return QImage(a.data, w, h, 3 * w, QImage.Format_RGB888).copy()


def to_pixmap(img: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(img))


class LabeledSlider(QWidget):
    """A horizontal slider over a float range with a value label: ``[name] [----o---] [2.35]``.

    Emits ``valueChanged(float)`` while moving (live) and ``valueCommitted(float)`` on release
    (the ROI ``sigRegionChanged`` / ``sigRegionChangeFinished`` idea).
    """

    valueChanged = Signal(float)
    valueCommitted = Signal(float)

    def __init__(self, name: str, lo: float, hi: float, step: float, value: float,
                 tooltip: str = "", fmt: str = "{:.2f}", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lo, self._step, self._fmt = float(lo), float(step), fmt
        self._steps = int(round((hi - lo) / step))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.name_label = QLabel(name)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, self._steps)
        self.slider.setMinimumWidth(80)
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(34)
        self.value_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        lay.addWidget(self.name_label)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.value_label)
        if tooltip:
            for w in (self, self.name_label, self.slider, self.value_label):
                w.setToolTip(tooltip)
        self.setValue(value)
        self.slider.valueChanged.connect(self._moved)
        self.slider.sliderReleased.connect(lambda: self.valueCommitted.emit(self.value()))

    def value(self) -> float:
        return self._lo + self.slider.value() * self._step

    def setValue(self, value: float) -> None:
        k = int(round((float(value) - self._lo) / self._step))
        k = max(0, min(self._steps, k))
        blocked = self.slider.blockSignals(True)
        self.slider.setValue(k)
        self.slider.blockSignals(blocked)
        # a value beyond the range pins the handle at the end; the label still tells the truth
        self.value_label.setText(self._fmt.format(float(value)))

    def _moved(self, _k: int) -> None:
        v = self.value()
        self.value_label.setText(self._fmt.format(v))
        self.valueChanged.emit(v)
        if not self.slider.isSliderDown():
            self.valueCommitted.emit(v)


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """Modal warning dialog (``QMessageBox.warning``); never raises."""
    try:
        QMessageBox.warning(parent, title, message)
    except Exception:  # noqa: BLE001
        log.exception("could not show error dialog: %s", message)


def install_excepthook(parent_getter: Callable[[], QWidget | None]) -> None:
    """Show uncaught exceptions of the GUI thread in a dialog instead of crashing."""
    from ..errors import LatentExplorerError

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("uncaught exception:\n%s", text)
        if issubclass(exc_type, LatentExplorerError):
            show_error(parent_getter(), "LatentExplorer", str(exc))
        else:
            show_error(parent_getter(), "LatentExplorer: unexpected error",
                       f"{exc_type.__name__}: {exc}\n\n(the details are in the log)")

    sys.excepthook = hook


def fmt_num(x: float | None, digits: int = 2) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.{digits}f}"
