"""The scatter's hover card: a small tooltip-like label next to the mouse with the plane
coordinates, the nearest data point's file name and its training image.

It is fed by the scatter's mouse-move handler, which pyqtgraph's ``SignalProxy`` already limits to
60 calls a second; each call does one nearest-point search and one (cached) store read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from .widgets import to_pixmap

THUMB_SIDE = 56
#: the card sits this far right of and below the mouse (it must not cover the hovered point)
OFFSET = QPoint(16, 16)


class HoverCard(QWidget):
    """See the module docstring. ``index`` is -1 when no data point is within reach."""

    def __init__(self, state, parent: QWidget) -> None:
        super().__init__(parent)
        self.state, self.model = state, state.model
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAutoFillBackground(True)
        self.setStyleSheet("HoverCard, QLabel { background: rgba(255, 255, 240, 235); color: #202020; }"
                           "HoverCard { border: 1px solid #909090; }")
        self.thumb = QLabel()
        self.thumb.setFixedSize(THUMB_SIDE, THUMB_SIDE)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 6, 4)
        row.setSpacing(6)
        row.addWidget(self.thumb)
        row.addWidget(self.text)
        self.index = -1
        self.hide()

    def show_at(self, pos: QPoint, index: int, x: float, y: float) -> None:
        """Show the card for data point ``index`` (-1: coordinates only) near ``pos`` (widget px)."""
        m = self.model
        lines = [f"{m.plane.label(0)} = {x:.3f}", f"{m.plane.label(1)} = {y:.3f}"]
        img = None
        if index >= 0:
            name = Path(m.filenames[index]).name if index < len(m.filenames) else ""
            lines.insert(0, f"#{index} {name}".strip())
            img = self.state.thumbnail(index)
        self.index = index
        self.text.setText("\n".join(lines))
        if img is None:
            self.thumb.clear()
            self.thumb.hide()
        else:
            self.thumb.setPixmap(to_pixmap(np.asarray(img)).scaled(
                THUMB_SIDE, THUMB_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
            self.thumb.show()
        self.adjustSize()
        # flip to the other side of the mouse near the right / bottom edge
        parent = self.parentWidget()
        at = pos + OFFSET
        if at.x() + self.width() > parent.width():
            at.setX(pos.x() - OFFSET.x() - self.width())
        if at.y() + self.height() > parent.height():
            at.setY(pos.y() - OFFSET.y() - self.height())
        self.move(at)
        self.show()
        self.raise_()
