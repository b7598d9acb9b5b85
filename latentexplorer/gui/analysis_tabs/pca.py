"""PCA tab: explained variance ratio per PCA axis (log scale) and the cumulative share."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout

from .. import analysis_plots as ap
from ..export import add_export_actions
from .base import _item, _plot_widget, _Tab, _table


class PcaTab(_Tab):
    """Explained variance ratio per PCA axis (log scale) and the cumulative share."""

    title = "PCA"

    def __init__(self, views) -> None:
        super().__init__(views)
        self.plot = _plot_widget("PCA explained variance ratio")
        self.cum_plot = _plot_widget("Cumulative explained variance")
        self.table = _table(["axis", "ratio", "cumulative"])
        self.table.setToolTip("Leading PCA axes; click one to show PC i, PC i+1 in the scatter")
        self.table.cellClicked.connect(self._axis_clicked)
        side = QVBoxLayout()
        side.addWidget(self.table, 1)
        side.addWidget(self.message)
        plots = QSplitter(Qt.Vertical)
        plots.addWidget(self.plot)
        plots.addWidget(self.cum_plot)
        self._side_by_side(plots, side, 300)
        add_export_actions(self.plot, "pca_spectrum", self, state=self.state)
        add_export_actions(self.cum_plot, "pca_cumulative", self, state=self.state)
        self.ratio: np.ndarray | None = None

    def refresh(self) -> None:
        self.stale = False
        pca = None if self.model.analysis is None else self.model.analysis.pca
        if pca is None:
            self.ratio = None
            self.message.setText("PCA not available yet (it is computed after the z-points load)")
            return
        ratio = np.asarray(pca.explained_variance_ratio_, dtype=np.float64)
        self.ratio = ratio
        ap.plot_pca_spectrum(ratio, plot=self.plot)
        cum = np.cumsum(ratio)
        ci = self.cum_plot.getPlotItem()
        ci.clear()
        ci.plot(np.arange(1, len(cum) + 1), cum, pen=pg.mkPen((31, 119, 180), width=2))
        for level in (0.5, 0.9, 0.99):
            k = int(np.searchsorted(cum, level) + 1)
            if k <= len(cum):
                ci.addItem(pg.InfiniteLine(level, angle=0, pen=pg.mkPen((160, 160, 160), style=Qt.DashLine),
                                           label=f"{level:.0%}: {k} axes",
                                           labelOpts={"position": 0.85, "color": (80, 80, 80)}))
        ci.setLabel("bottom", "number of PCA axes")
        ci.setLabel("left", "cumulative ratio")
        ci.setYRange(0, 1.02)
        n = min(len(ratio), 50)
        self.table.setRowCount(n)
        for row in range(n):
            self.table.setItem(row, 0, _item(f"PC {row + 1}"))
            self.table.setItem(row, 1, _item(f"{ratio[row]:.4f}"))
            self.table.setItem(row, 2, _item(f"{cum[row]:.3f}"))
        self.message.setText(f"{len(ratio)} axes; the first 10 explain {cum[min(9, len(cum) - 1)]:.1%}")

    def _axis_clicked(self, row: int, _col: int) -> None:
        if self.ratio is None:
            return
        i = min(row, len(self.ratio) - 2)
        self._set_plane("pca", i, i + 1)
