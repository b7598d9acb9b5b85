"""Components tab: histograms of selected components with μ / half-width, the μ–half-width map of
all components, and the list of dominant components."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QPushButton, QSpinBox, QSplitter, QVBoxLayout)

from .. import analysis_plots as ap
from ..export import add_export_actions
from .base import _item, _plot_widget, _Tab, _table


CRITERIA = [
    ("fwhm", "seeds: |μ|, FWHM", "|μ| ≥ threshold or full width at half maximum ≥ threshold (SPEC §4)"),
    ("hwhm", "seeds: |μ|, half width (HWHM)", "the same thresholds on the half width at half maximum: "
             "what the seeds' numbers were (their radius ≈ 16 only fits the HWHM)"),
    ("mad", "data-driven: k MAD", "variance or |μ| at least k robust standard deviations above the "
            "median component (never selects everything)"),
]


class ComponentsTab(_Tab):
    """Histograms of selected components with μ / half-width, the μ–half-width map of all
    components, and the list of dominant components."""

    title = "Components"

    def __init__(self, views) -> None:
        super().__init__(views)
        self.cstats = None
        self.selected: list[int] = []
        self.plot = _plot_widget("Component distributions")
        self.overview = _plot_widget("All components: μ and half-width")
        self.overview.setLabel("bottom", "μ (mean)")
        self.overview.setLabel("left", "half-width (FWHM)")
        self.overview_points = pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(120, 120, 120, 160),
                                                  hoverable=True, tip=None)
        self.overview_dom = pg.ScatterPlotItem(size=9, pen=pg.mkPen("k"), brush=pg.mkBrush(214, 39, 40, 200))
        self.overview_sel = pg.ScatterPlotItem(size=14, pen=pg.mkPen((31, 119, 180), width=2), brush=None)
        for it in (self.overview_points, self.overview_dom, self.overview_sel):
            self.overview.addItem(it)
        self.mu_line_pos = pg.InfiniteLine(0.25, angle=90, pen=pg.mkPen((150, 150, 150), style=Qt.DashLine))
        self.mu_line_neg = pg.InfiniteLine(-0.25, angle=90, pen=pg.mkPen((150, 150, 150), style=Qt.DashLine))
        self.hw_line = pg.InfiniteLine(1.5, angle=0, pen=pg.mkPen((150, 150, 150), style=Qt.DashLine))
        for ln in (self.mu_line_pos, self.mu_line_neg, self.hw_line):
            self.overview.addItem(ln)
        self.overview_points.sigClicked.connect(self._overview_clicked)
        self.overview_dom.sigClicked.connect(self._overview_clicked)

        self.component = QSpinBox()
        self.component.setRange(0, 0)
        self.component.setToolTip("Component whose distribution is shown")
        self.component.valueChanged.connect(lambda v: self.select([int(v)]))
        self.mu_threshold = QDoubleSpinBox()
        self.mu_threshold.setRange(0.0, 100.0)
        self.mu_threshold.setSingleStep(0.05)
        self.mu_threshold.setValue(0.25)
        self.mu_threshold.setToolTip("Dominant if |μ| ≥ this (the seeds: 0.25)")
        self.hw_threshold = QDoubleSpinBox()
        self.hw_threshold.setRange(0.0, 100.0)
        self.hw_threshold.setSingleStep(0.1)
        self.hw_threshold.setValue(1.5)
        self.hw_threshold.setToolTip("Dominant if the full width at half maximum (FWHM, the seeds' "
                                     "'half-width') ≥ this (the seeds: 1.5)")
        self.criterion = QComboBox()
        for key, text, tip in CRITERIA:
            self.criterion.addItem(text, key)
            self.criterion.setItemData(self.criterion.count() - 1, tip, Qt.ToolTipRole)
        self.criterion.setToolTip("Which components count as dominant (hover the entries)")
        self.k = QDoubleSpinBox()
        self.k.setRange(0.5, 20.0)
        self.k.setSingleStep(0.5)
        self.k.setValue(3.0)
        self.k.setToolTip("Data-driven criterion: dominant if the variance or |μ| is at least k robust "
                          "standard deviations (1.4826 MAD) above the median component")
        self.mu_threshold.valueChanged.connect(self._thresholds_edited)
        self.hw_threshold.valueChanged.connect(self._thresholds_edited)
        self.k.valueChanged.connect(self._thresholds_edited)
        self.criterion.currentIndexChanged.connect(self._thresholds_edited)
        self.state.thresholdsChanged.connect(self._thresholds_changed)
        self.table = _table(["#", "μ", "FWHM ± se", "std"])
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setToolTip("Dominant components (widest first). Select one or more to show their "
                              "distributions; with two selected, 'Show plane' shows them in the scatter")
        self.table.itemSelectionChanged.connect(self._table_selected)
        self.plane_button = QPushButton("Show plane")
        self.plane_button.setToolTip("Show the two selected components as the scatter plane")
        self.plane_button.clicked.connect(self._show_plane)
        self.dominant_label = QLabel("")
        self.dominant_label.setWordWrap(True)

        form = self.form = QFormLayout()
        form.addRow("Component", self.component)
        form.addRow("Criterion", self.criterion)
        form.addRow("|μ| ≥", self.mu_threshold)
        form.addRow("width ≥", self.hw_threshold)
        form.addRow("k (MAD)", self.k)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.dominant_label)
        side.addWidget(self.table, 1)
        side.addWidget(self.plane_button)
        side.addWidget(self.message)
        plots = QSplitter(Qt.Vertical)
        plots.addWidget(self.plot)
        plots.addWidget(self.overview)
        self._side_by_side(plots, side, 320)
        add_export_actions(self.plot, "component_histograms", self, state=self.state)
        add_export_actions(self.overview, "component_overview", self, state=self.state)

    def refresh(self) -> None:
        self.stale = False
        a = self.model.analysis
        m = self.model
        if m.cross_filter and m.filter_mask() is not None and m.z is not None:
            # cross-filtering: the histograms of the points the filter keeps
            z = m.filtered_z()
            if len(z) < 2:
                self._set_stats(None)
                self.message.setText(f"the filter keeps {len(z)} point(s): no histograms")
                return
            key = (id(m.z), m.point_filter, m.cross_filter)
            self._run("component_stats", _filtered_stats_task, {"z": z},
                      lambda st, key=key: self._set_stats(st)
                      if key == (id(m.z), m.point_filter, m.cross_filter) else None,
                      f"statistics of the {len(z):,} matching points …")
        elif a is not None:
            self._set_stats(a.stats)
        elif self.model.z is not None:  # the explorer's analysis job brings them
            self.message.setText("waiting for the component statistics …")
        else:
            self._set_stats(None)

    def _thresholds_edited(self, _v: float) -> None:
        from ...explore.analysis import Thresholds

        t = Thresholds(float(self.mu_threshold.value()), float(self.hw_threshold.value()),
                       self.criterion.currentData(), float(self.k.value()))
        if t != self.model.thresholds:
            self.model.set_thresholds(t)

    def _thresholds_changed(self, t) -> None:
        index = self.criterion.findData(t.criterion)
        if index >= 0 and index != self.criterion.currentIndex():
            self.criterion.blockSignals(True)
            self.criterion.setCurrentIndex(index)
            self.criterion.blockSignals(False)
        mad = t.criterion == "mad"
        for w, on in ((self.mu_threshold, not mad), (self.hw_threshold, not mad), (self.k, mad)):
            w.setEnabled(on)
            self.form.labelForField(w).setEnabled(on)
        for box, v in ((self.mu_threshold, t.mu), (self.hw_threshold, t.half_width), (self.k, t.k)):
            if abs(box.value() - v) < 1e-9:
                continue  # the user is typing in this box: setValue would reformat the text
            box.blockSignals(True)
            box.setValue(v)
            box.blockSignals(False)
        self._update_dominant()

    def _set_stats(self, cs) -> None:
        self.cstats = cs
        if cs is None:
            self.plot.getPlotItem().clear()
            self.overview_points.setData([], [])
            self.table.setRowCount(0)
            self.message.setText("No z-points loaded")
            return
        self.message.setText(f"{cs.n_points:,} points, {cs.z_dim} components, bin width {cs.bin_width:g}")
        self.component.blockSignals(True)
        self.component.setRange(0, cs.z_dim - 1)
        self.component.blockSignals(False)
        hw = np.asarray(cs.half_width)
        self.overview_points.setData(np.asarray(cs.mu), hw, data=np.arange(cs.z_dim))
        self._update_dominant()
        if not self.selected or max(self.selected) >= cs.z_dim:
            dom = self.dominant()
            self.selected = [int(dom[0])] if len(dom) else [0]
        self.select(self.selected)

    def dominant(self) -> np.ndarray:
        """Dominant component indices, widest first (the model's thresholds)."""
        return np.asarray(self.model.dominant(), dtype=np.int64)

    def _update_dominant(self) -> None:
        cs = self.cstats
        if cs is None:
            return
        t = self.model.thresholds
        mt, ht = t.mu, (2 * t.half_width if t.criterion == "hwhm" else t.half_width)
        for line, value in ((self.mu_line_pos, mt), (self.mu_line_neg, -mt), (self.hw_line, ht)):
            line.setValue(value)
            line.setVisible(t.criterion != "mad")
        dom = self.dominant()
        mu, hw = np.asarray(cs.mu), np.asarray(cs.half_width)
        se = np.asarray(cs.half_width_se) if cs.half_width_se is not None else np.full_like(hw, np.nan)
        self.overview_dom.setData(mu[dom], hw[dom], data=dom)
        text = f"{len(dom)} dominant component(s) of {cs.z_dim}"
        a = self.model.analysis
        if a is not None and a.saturated(t):
            text += ("<br><span style='color:#b00'>This criterion selects almost every component: it "
                     "singles none out. Try the data-driven criterion (k MAD).</span>")
        self.dominant_label.setText(text)
        self.table.blockSignals(True)
        self.table.setRowCount(len(dom))
        for row, i in enumerate(dom):
            self.table.setItem(row, 0, _item(f"#{int(i)}"))
            self.table.setItem(row, 1, _item(f"{mu[i]:.3f}"))
            self.table.setItem(row, 2, _item(f"{hw[i]:.3f} ± {se[i]:.3f}" if np.isfinite(se[i])
                                             else f"{hw[i]:.3f}"))
            self.table.setItem(row, 3, _item(f"{float(cs.std[i]):.3f}"))
        self.table.blockSignals(False)

    def select(self, indices: list[int]) -> None:
        """Show the distributions of ``indices`` (at most 6)."""
        cs = self.cstats
        if cs is None:
            return
        indices = [int(i) for i in indices if 0 <= int(i) < cs.z_dim][:6]
        if not indices:
            return
        self.selected = indices
        ap.plot_component_histograms(cs.edges, cs.counts, indices, mu=cs.mu, half_width=cs.half_width,
                                     half_max_left=cs.half_max_left, half_max_right=cs.half_max_right,
                                     plot=self.plot,
                                     title="Component " + ", ".join(f"#{i}" for i in indices))
        mu, hw = np.asarray(cs.mu), np.asarray(cs.half_width)
        self.overview_sel.setData(mu[indices], hw[indices])
        self.component.blockSignals(True)
        self.component.setValue(indices[0])
        self.component.blockSignals(False)
        self.plane_button.setEnabled(len(indices) == 2)

    def _overview_clicked(self, _item, points, *args) -> None:
        if len(points):
            self.select([int(points[0].data())])

    def _table_rows(self) -> list[int]:
        rows = sorted({ix.row() for ix in self.table.selectedIndexes()})
        out = []
        for r in rows:
            it = self.table.item(r, 0)
            if it is not None:
                out.append(int(it.text().lstrip("#")))
        return out

    def _table_selected(self) -> None:
        comps = self._table_rows()
        if comps:
            self.select(comps)

    def _show_plane(self) -> None:
        if len(self.selected) == 2:
            self._set_plane("latent", self.selected[0], self.selected[1])


def _filtered_stats_task(params, reporter):
    """Component statistics of the filtered points (a worker job)."""
    from ...analysis.statistics import component_stats

    reporter.raise_if_cancelled()
    return component_stats(params["z"])
