"""The plots of the Training tab: loss curves (per batch and per epoch, train and validation) and the
fixed image subset re-encoded after every epoch, drawn in a stable 2-D basis."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QWidget

from .widgets import configure_pyqtgraph

LOSS_KEYS = ("total_loss", "reco_loss", "kl_loss")
LOSS_LABELS = {"total_loss": "total", "reco_loss": "reconstruction", "kl_loss": "KL"}
LOSS_COLORS = {"total_loss": (31, 119, 180), "reco_loss": (44, 160, 44), "kl_loss": (214, 39, 40)}


# ------------------------------------------------------------------------------------------------
def _pen(color, *, dashed: bool = False, width: float = 2.0):
    pen = pg.mkPen(color=color, width=width)
    if dashed:
        pen.setStyle(Qt.DashLine)
    return pen


class LossCurves(QWidget):
    """Loss curves: total and reconstruction (left), KL (right); train solid, validation dashed,
    batch-level losses as thin lines between the epoch markers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.rows: list[dict] = []
        self.batch_points: list[dict] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.main_plot = pg.PlotWidget(background="w")
        self.kl_plot = pg.PlotWidget(background="w")
        for plot, title in ((self.main_plot, "Loss per image"), (self.kl_plot, "KL divergence")):
            plot.setTitle(title, color="k", size="10pt")
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.addLegend(offset=(-5, 5), labelTextColor="k", brush=pg.mkBrush(255, 255, 255, 200))
            plot.setMinimumHeight(140)
            layout.addWidget(plot)
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key in LOSS_KEYS:
            plot = self.kl_plot if key == "kl_loss" else self.main_plot
            color = LOSS_COLORS[key]
            label = LOSS_LABELS[key]
            self.curves[f"batch_{key}"] = plot.plot([], [], pen=_pen(color + (90,), width=1))
            self.curves[key] = plot.plot([], [], pen=_pen(color), symbol="o", symbolSize=6,
                                         symbolBrush=color, symbolPen=None, name=f"{label} (train)")
            self.curves[f"val_{key}"] = plot.plot([], [], pen=_pen(color, dashed=True), symbol="t",
                                                  symbolSize=6, symbolBrush=color, symbolPen=None,
                                                  name=f"{label} (val)")

    def clear(self) -> None:
        self.rows = []
        self.batch_points = []
        self._redraw()

    def set_history(self, rows: list[dict], keep_batches: bool = False) -> None:
        """Show the per-epoch ``rows`` (batch-level points are dropped unless ``keep_batches``)."""
        self.rows = [dict(r) for r in rows if isinstance(r, dict) and "epoch" in r]
        if not keep_batches:
            self.batch_points = []
        self._redraw()

    @Slot(object)
    def add_row(self, row: dict) -> None:
        """Append (or replace) the history row of one epoch."""
        row = dict(row)
        self.rows = [r for r in self.rows if r.get("epoch") != row.get("epoch")] + [row]
        self.rows.sort(key=lambda r: r.get("epoch", 0))
        # batch points up to this epoch stay; the epoch marker closes that stretch
        self._redraw()

    @Slot(object)
    def add_batch(self, point: dict) -> None:
        """Append a batch-level loss point ``{"epoch": fractional epoch, "total_loss": ...}``."""
        self.batch_points.append(dict(point))
        self._redraw(batch_only=True)

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) plotted for ``key`` (e.g. ``"total_loss"``, ``"val_kl_loss"``,
        ``"batch_total_loss"``)."""
        if key.startswith("batch_"):
            src, k = self.batch_points, key[len("batch_"):]
        else:
            src, k = self.rows, key
        pts = [(float(r["epoch"]), float(r[k])) for r in src
               if k in r and r[k] is not None and math.isfinite(float(r[k]))]
        if not pts:
            return np.zeros(0), np.zeros(0)
        arr = np.asarray(pts, dtype=np.float64)
        return arr[:, 0], arr[:, 1]

    def _redraw(self, batch_only: bool = False) -> None:
        for key in LOSS_KEYS:
            names = [f"batch_{key}"] if batch_only else [key, f"val_{key}", f"batch_{key}"]
            for name in names:
                x, y = self.series(name)
                self.curves[name].setData(x, y)
        has_kl = any("kl_loss" in r and r.get("kl_loss") for r in self.rows) or \
            any(p.get("kl_loss") for p in self.batch_points)
        self.kl_plot.setVisible(has_kl or not (self.rows or self.batch_points))


class EncodingScatter(pg.PlotWidget):
    """Scatter of the fixed subset's encoding in the stable PCA basis."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setTitle("Fixed subset re-encoded after each epoch", color="k", size="10pt")
        self.setLabel("bottom", "stable PC 1")
        self.setLabel("left", "stable PC 2")
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setMinimumHeight(160)
        self.trail = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(150, 150, 150, 60))
        self.points = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(31, 119, 180, 170))
        self.addItem(self.trail)
        self.addItem(self.points)
        self.projection: np.ndarray | None = None
        self.epoch: int | None = None

    def clear_points(self) -> None:
        self.projection = None
        self.epoch = None
        self.trail.setData([], [])
        self.points.setData([], [])
        self.setTitle("Fixed subset re-encoded after each epoch", color="k", size="10pt")

    def set_projection(self, xy: np.ndarray, epoch: int | None = None,
                       labels: np.ndarray | None = None) -> None:
        xy = np.asarray(xy, dtype=np.float32)
        if self.projection is not None and self.projection.shape == xy.shape:
            self.trail.setData(self.projection[:, 0], self.projection[:, 1])
        self.projection = xy
        self.epoch = epoch
        brush: Any = pg.mkBrush(31, 119, 180, 170)
        if labels is not None and len(labels) == len(xy) and np.isfinite(labels).all():
            lo, hi = float(np.min(labels)), float(np.max(labels))
            t = (labels - lo) / (hi - lo) if hi > lo else np.zeros(len(labels))
            cmap = pg.colormap.get("viridis")
            brush = [pg.mkBrush(c) for c in cmap.map(t, mode="qcolor")]
        self.points.setData(xy[:, 0], xy[:, 1], brush=brush)
        if epoch is not None:
            self.setTitle(f"Fixed subset ({len(xy)} images) re-encoded after epoch {epoch}",
                          color="k", size="10pt")
