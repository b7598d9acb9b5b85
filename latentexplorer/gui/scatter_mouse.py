"""Mouse gestures of the scatter's plot area: plane clicks, scrubbing, paths and selections.

Without a selection tool a click moves the current vector, a drag on the red point scrubs, a
Shift+drag (or any drag in path mode) draws a path and other drags pan. With the rectangle or
lasso tool on (Tools > Select, keys R / L) a left drag selects the points inside — plain: a new
selection, Shift: added, Ctrl: removed; Esc leaves the tool and clears the selection.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt

from ..errors import InvalidInputError
from ..explore.selection import rectangle

#: colour of the selected points' marks
SELECTED_COLOR = (255, 120, 0, 230)
#: at most this many selected points are marked (a seeded sample of a larger selection)
MAX_MARKED = 20_000
#: a lasso takes a new vertex after the mouse moved this many pixels (bounds the vertex count)
LASSO_STEP_PIXELS = 3


class PlaneViewBox(pg.ViewBox):
    """ViewBox that turns left clicks and drags into plane actions (see the module docstring)."""

    def __init__(self, owner) -> None:
        super().__init__()
        self._owner = owner
        self._mode: str | None = None  # "path" / "scrub" / "select" while such a drag runs
        self.outline = pg.PlotCurveItem(pen=pg.mkPen((20, 20, 20), width=1.5, style=Qt.PenStyle.DashLine))
        self.outline.setZValue(40)
        self._points: list[tuple[float, float]] = []

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            if self._owner.model.select_tool is None:
                self._owner._on_click(p.x(), p.y(), ev.modifiers())
            elif not ev.modifiers() & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier):
                self._owner.model.set_selection([])  # a click beside any drag: select nothing
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):
        owner = self._owner
        left = ev.button() == Qt.MouseButton.LeftButton and axis is None
        if left and ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos(Qt.MouseButton.LeftButton))
            if owner.model.select_tool is not None:
                self._mode = "select"
                self._points = [(start.x(), start.y())]
            elif owner.model.path_mode or ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self._mode = "path"
                owner._path_begin(start.x(), start.y())
            elif owner._near_current(start.x(), start.y()):
                self._mode = "scrub"
            else:
                self._mode = None
        if left and self._mode is not None:
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            if self._mode == "select":
                self._select_extend(p.x(), p.y(), ev.isFinish(), ev.modifiers())
            elif self._mode == "path":
                owner._path_extend(p.x(), p.y(), final=ev.isFinish())
            else:
                owner._scrub(p.x(), p.y())
            if ev.isFinish():
                self._mode = None
        else:
            super().mouseDragEvent(ev, axis)

    # ------------------------------------------------------------------ selection drags
    def _select_extend(self, x: float, y: float, final: bool, modifiers) -> None:
        owner, pts = self._owner, self._points
        if owner.model.select_tool == "rect":
            poly = rectangle(pts[0][0], pts[0][1], x, y)
        else:
            px, py = owner._pixel_size()
            last = pts[-1]
            if final or abs(x - last[0]) / px + abs(y - last[1]) / py >= LASSO_STEP_PIXELS:
                pts.append((x, y))
            poly = np.array(pts, dtype=np.float64)
        closed = np.vstack([poly, poly[:1]])
        self.outline.setData(closed[:, 0], closed[:, 1])
        if self.outline.scene() is None:
            self.addItem(self.outline, ignoreBounds=True)
        if not final:
            return
        self.outline.setData([], [])
        self._points = []
        op = "add" if modifiers & Qt.KeyboardModifier.ShiftModifier else \
            "remove" if modifiers & Qt.KeyboardModifier.ControlModifier else "replace"
        try:
            if len(poly) >= 3:
                owner.model.select_polygon(poly, op)
        except InvalidInputError as exc:
            owner.state.errorOccurred.emit(str(exc))


class SelectionKeys:
    """The scatter widget's part in selecting: Esc, the cursor, the marks on selected points."""

    def _on_tool(self, tool) -> None:
        self.setCursor(Qt.CursorShape.CrossCursor if tool else Qt.CursorShape.ArrowCursor)

    def event(self, ev) -> bool:
        # Esc belongs to the scatter (not to Tools > Cancel tasks) while it has focus and there
        # is a selection tool or a selection to clear
        if ev.type() == QEvent.Type.ShortcutOverride and ev.key() == Qt.Key.Key_Escape \
                and (self.model.select_tool is not None or len(self.model.selection)):
            ev.accept()
            return True
        return super().event(ev)

    def keyPressEvent(self, ev) -> None:
        if ev.key() == Qt.Key.Key_Escape and (self.model.select_tool is not None or len(self.model.selection)):
            self.model.set_select_tool(None)
            self.model.set_selection([])
            ev.accept()
            return
        super().keyPressEvent(ev)

    def _mark_selection(self, pts: np.ndarray, keep: np.ndarray | None, size: int) -> None:
        """Mark the selected points (those not greyed out) in ``selected_item``."""
        sel = self.model.selection
        if len(sel) > MAX_MARKED:  # a sample marks a huge selection (drawing stays fast)
            sel = np.sort(np.random.default_rng(0).choice(sel, MAX_MARKED, replace=False))
        if keep is not None:
            sel = sel[keep[sel]]
        self.selected_item.setStyle(size=size)
        self.selected_item.setData(pts[sel, 0], pts[sel, 1])
