"""A scrollable grid of decoded faces with captions; a click selects a face."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from .widgets import to_pixmap

TILE = 96


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
