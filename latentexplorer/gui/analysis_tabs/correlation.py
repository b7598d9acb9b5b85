"""Correlation tab: correlation matrix heat map, counts over thresholds and the strongest pairs
(click a pair or a cell → that latent plane)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QAbstractItemView, QDoubleSpinBox, QFormLayout, QLabel, QVBoxLayout

from ...progress import ProgressReporter
from ..export import add_export_actions
from .base import _item, _plot_widget, _Tab, _table


#: at most this many pairs are listed in the correlation table
MAX_PAIRS_LISTED = 500
CORR_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def correlation_task(params, reporter: ProgressReporter | None = None) -> dict:
    """Correlation matrix of all points, counts over thresholds, and the strongest pairs."""
    from ...analysis.correlation import correlation_matrix, counts_over, pairs_over

    if reporter is not None:
        reporter.update(0, 2, "correlation matrix")
    r = correlation_matrix(params["z"])
    if reporter is not None:
        reporter.raise_if_cancelled()
        reporter.update(1, 2, "correlated pairs")
    counts = counts_over(r, CORR_THRESHOLDS)
    pairs = pairs_over(r, float(params.get("threshold", 0.1)))[:MAX_PAIRS_LISTED]
    if reporter is not None:
        reporter.update(2, 2, "correlations ready")
    return {"r": r, "counts": {f"{t:g}": int(c) for t, c in zip(CORR_THRESHOLDS, counts)},
            "pairs": pairs}


class CorrelationTab(_Tab):
    """Correlation matrix heat map, counts over thresholds and the strongest pairs."""

    title = "Correlation"
    JOB = "analysis-correlation"

    def __init__(self, views) -> None:
        super().__init__(views)
        self.result: dict | None = None
        self.plot = _plot_widget("Pearson correlation of the components (diagonal blanked)")
        pi = self.plot.getPlotItem()
        pi.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        cmap = pg.colormap.get("CET-D1")
        self.image.setColorMap(cmap)
        pi.addItem(self.image)
        pi.invertY(True)
        pi.setAspectLocked(True)
        pi.setLabel("bottom", "component j")
        pi.setLabel("left", "component i")
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=cmap, interactive=False, label="r")
        self.colorbar.setImageItem(self.image, insert_in=pi)
        self.image.mouseClickEvent = self._image_clicked  # click a cell -> that plane
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 0.99)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(0.3)
        self.threshold.setToolTip("List the pairs with |r| above this")
        self.threshold.valueChanged.connect(self._fill_table)
        self.counts_label = QLabel("")
        self.counts_label.setWordWrap(True)
        self.table = _table(["i", "j", "r"])
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setToolTip("Strongest correlated pairs; click a pair to show that latent plane")
        self.table.cellClicked.connect(self._pair_clicked)
        form = QFormLayout()
        form.addRow("|r| >", self.threshold)
        side = QVBoxLayout()
        side.addWidget(self.counts_label)
        side.addLayout(form)
        side.addWidget(self.table, 1)
        side.addWidget(self.message)
        self._side_by_side(self.plot, side, 300)
        add_export_actions(self.plot, "correlation", self, state=self.state)

    def refresh(self) -> None:
        self.stale = False
        z = self.model.z
        if z is None:
            self.result = None
            self.image.clear()
            self.table.setRowCount(0)
            self.message.setText("No z-points loaded")
            return
        self._run(self.JOB, correlation_task, {"z": z, "threshold": 0.1},
                  lambda res, z=z: self._set_result(res) if self.model.z is z else None,
                  "computing the correlation matrix on all points …")

    def _set_result(self, res: dict) -> None:
        self.result = res
        r = np.array(res["r"], dtype=np.float32)
        np.fill_diagonal(r, 0.0)  # the trivial r_ii = 1 would dominate the picture
        self.image.setImage(r, levels=(-1.0, 1.0), autoLevels=False)
        self.image.setRect(QRectF(0, 0, r.shape[1], r.shape[0]))
        self.plot.getPlotItem().autoRange()
        counts = res["counts"]
        self.counts_label.setText("Pairs with |r| over<br>" + "<br>".join(
            f"&nbsp;&nbsp;{t}: <b>{c:,}</b>" for t, c in counts.items()))
        self.message.setText("")
        self._fill_table()

    def pairs(self) -> list[tuple[int, int, float]]:
        if self.result is None:
            return []
        t = float(self.threshold.value())
        return [p for p in self.result["pairs"] if abs(p[2]) > t]

    def _fill_table(self) -> None:
        pairs = self.pairs()
        self.table.setRowCount(len(pairs))
        for row, (i, j, r) in enumerate(pairs):
            self.table.setItem(row, 0, _item(i))
            self.table.setItem(row, 1, _item(j))
            self.table.setItem(row, 2, _item(f"{r:+.3f}"))

    def _pair_clicked(self, row: int, _col: int) -> None:
        pairs = self.pairs()
        if 0 <= row < len(pairs):
            i, j, _ = pairs[row]
            self._set_plane("latent", i, j)

    def _image_clicked(self, ev) -> None:
        if self.result is None or ev.button() != Qt.LeftButton:
            return
        pos = ev.pos()
        j, i = int(pos.x()), int(pos.y())
        n = self.result["r"].shape[0]
        if 0 <= i < n and 0 <= j < n and i != j:
            ev.accept()
            self._set_plane("latent", min(i, j), max(i, j))
