"""Analysis panels of the explorer (SPEC §4, §6) as tabs.

Components (histograms with μ / half-width, dominant components), radius distribution with theory
curves, correlation heat map with the top pairs (click a pair → that latent plane), PCA spectrum,
t-SNE map (click a point → its image, and it becomes the current vector), KMeans inertia, VAE
diagnostics.

Every computation that grows with the number of points (radii, correlation matrix, t-SNE, KMeans,
VAE diagnostics, missing component statistics) runs as a named job in the
:class:`~latentexplorer.gui.workers.TaskRunner` (synchronously when no runner is given, for scripts
and tests); the GUI thread only draws the (small) results. Results are computed lazily, when their
tab is shown, and dropped when new z-points arrive.

Each plot has "Export as PNG/SVG…" in its right-click menu; the "Export plot…" button exports the
plot of the visible tab.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QFormLayout,
                               QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
                               QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from ..errors import InvalidInputError
from ..progress import ProgressReporter
from . import analysis_plots as ap
from .export import add_export_actions, export_plot_dialog
from .widgets import configure_pyqtgraph, to_pixmap

log = logging.getLogger(__name__)

#: at most this many pairs are listed in the correlation table
MAX_PAIRS_LISTED = 500
CORR_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


# ------------------------------------------------------------------------------------------------
# Qt-free worker functions
# ------------------------------------------------------------------------------------------------
def component_task(params, reporter: ProgressReporter | None = None) -> dict:
    """``{"stats": ComponentStats}`` of ``params["z"]`` (bin width ``params["bin_width"]``)."""
    from ..analysis.statistics import component_stats

    if reporter is not None:
        reporter.update(0, 1, "component histograms")
    cs = component_stats(params["z"], bin_width=float(params.get("bin_width", 0.25)))
    if reporter is not None:
        reporter.update(1, 1, "component histograms ready")
    return {"stats": cs}


def radius_task(params, reporter: ProgressReporter | None = None) -> dict:
    """Radii of ``params["z"]``: histogram (bin width ``params["bin_width"]``) and summary, plus the
    radii of ``params["samples"]`` (generated vectors) when given. ``params["cached"]``: an earlier
    result for the same points (only the samples are then computed)."""
    from ..analysis.radius import radii, radius_histogram, radius_stats

    bw = float(params.get("bin_width", 0.5))
    cached = params.get("cached")
    if cached is not None and cached.get("bin_width") == bw:
        out = {k: v for k, v in cached.items() if k != "sample_radii"}
    else:
        if reporter is not None:
            reporter.update(0, 2, "radii")
        r = radii(params["z"])
        if reporter is not None:
            reporter.raise_if_cancelled()
            reporter.update(1, 2, "radius histogram")
        edges, counts = radius_histogram(r, bin_width=bw)
        out = {"edges": edges, "counts": counts, "stats": radius_stats(r, bin_width=bw),
               "n_dim": int(params["z"].shape[1]), "bin_width": bw}
    samples = params.get("samples")
    if samples is not None and len(samples):
        out["sample_radii"] = radii(samples)
    if reporter is not None:
        reporter.update(2, 2, "radius distribution ready")
    return out


def correlation_task(params, reporter: ProgressReporter | None = None) -> dict:
    """Correlation matrix of all points, counts over thresholds, and the strongest pairs."""
    from ..analysis.correlation import correlation_matrix, counts_over, pairs_over

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


def _subset(n: int, max_points: int | None, seed: int) -> np.ndarray:
    if max_points is None or n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, int(max_points), replace=False))


def tsne_task(params, reporter: ProgressReporter | None = None) -> dict:
    """t-SNE of a seeded subset of at most ``max_points`` points: ``{"indices", "embedding"}``."""
    from ..analysis.embedding import tsne_embedding

    z = params["z"]
    idx = _subset(z.shape[0], params.get("max_points"), int(params.get("seed", 0)))
    emb = tsne_embedding(np.asarray(z[idx]), perplexity=float(params.get("perplexity", 30.0)),
                         n_iter=int(params.get("n_iter", 500)),
                         early_exaggeration_iter=int(params.get("early_exaggeration_iter", 250)),
                         random_state=int(params.get("seed", 0)), progress=reporter)
    return {"indices": idx, "embedding": np.asarray(emb, dtype=np.float32)}


def kmeans_task(params, reporter: ProgressReporter | None = None) -> dict:
    """KMeans inertia for k = 2 … k_max: ``{"k", "inertia"}``."""
    from ..analysis.embedding import kmeans_inertia

    z = params["z"]
    max_points = params.get("max_points")
    n_used = z.shape[0] if max_points is None else min(z.shape[0], int(max_points))
    k_max = max(2, min(int(params.get("k_max", 80)), n_used))
    k, inertia = kmeans_inertia(z, k_values=range(2, k_max + 1), max_points=max_points,
                                random_state=int(params.get("seed", 0)), progress=reporter)
    return {"k": np.asarray(k), "inertia": np.asarray(inertia)}


def vae_task(params, reporter: ProgressReporter | None = None) -> dict:
    """VAE diagnostics of the workspace's latents (``mu`` / ``logvar``), or arrays given directly."""
    from ..analysis.vae import vae_diagnostics

    mu, logvar, z = params.get("mu"), params.get("logvar"), params.get("z")
    if mu is None or logvar is None:
        ws = params["ws"]
        if reporter is not None:
            reporter.update(0, 2, "loading mu / logvar")
        lat = ws.latents()
        mu, logvar = lat.mu, lat.logvar
        if mu is None or logvar is None:
            raise InvalidInputError(f"{ws.path}: the latents have no mu/logvar (not a VAE)")
    if reporter is not None:
        reporter.update(1, 2, "VAE diagnostics")
    out = vae_diagnostics(mu, logvar, z if z is not None and z is not mu else None)
    if reporter is not None:
        reporter.update(2, 2, "VAE diagnostics ready")
    return {"diagnostics": out}


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def _plot_widget(title: str) -> pg.PlotWidget:
    w = pg.PlotWidget(background="w")
    w.setTitle(title, color="k", size="10pt")
    ap._style(w.getPlotItem())
    w.setMinimumSize(200, 150)
    return w


def _item(text: Any, align_right: bool = True) -> QTableWidgetItem:
    it = QTableWidgetItem(str(text))
    it.setFlags(Qt.ItemIsSelectable | Qt.ItemIsEnabled)
    if align_right:
        it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    return it


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setSelectionBehavior(QAbstractItemView.SelectRows)
    t.setEditTriggers(QAbstractItemView.NoEditTriggers)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    t.setAlternatingRowColors(True)
    return t


def _value_brushes(values: np.ndarray, n_colors: int = 64) -> list:
    """Viridis brushes for ``values``, quantised to ``n_colors`` shared QBrush objects (fast for
    many points)."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    lo, hi = (float(v[finite].min()), float(v[finite].max())) if finite.any() else (0.0, 1.0)
    t = np.where(finite, (v - lo) / (hi - lo) if hi > lo else 0.0, 0.0)
    k = np.clip((t * (n_colors - 1)).round().astype(np.int64), 0, n_colors - 1)
    lut = [pg.mkBrush(c) for c in pg.colormap.get("viridis").map(np.linspace(0, 1, n_colors), mode="qcolor")]
    return [lut[i] for i in k]


class _Tab(QWidget):
    """Base of a tab: knows the state and the runner, computes lazily when shown."""

    title = ""

    def __init__(self, views: "AnalysisViews") -> None:
        super().__init__()
        self.views = views
        self.state = views.state
        self.runner = views.runner
        self.stale = True
        self.worker = None
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #444;")

    # the main plot for "Export plot…"
    def export_target(self):
        return getattr(self, "plot", None)

    def invalidate(self) -> None:
        self.stale = True
        if self.views.currentWidget() is self and self.isVisible():
            self.refresh()

    def refresh(self) -> None:  # pragma: no cover - abstract
        """Bring the tab up to date (start a job when needed)."""

    def _run(self, name: str, fn: Callable, params: dict, on_result: Callable[[Any], None],
             busy_text: str = "computing …") -> None:
        """Run ``fn(params, reporter)`` as job ``name`` (synchronously without a runner)."""
        self.message.setText(busy_text)
        if self.runner is None:
            try:
                on_result(fn(params, ProgressReporter()))
            except InvalidInputError as exc:
                self._failed(str(exc))
            return
        w = self.runner.start(name, fn, params)
        self.worker = w
        w.result.connect(on_result)
        w.error.connect(self._failed)
        w.cancelled.connect(lambda: self.message.setText("cancelled"))
        w.finished.connect(lambda: setattr(self, "worker", None) if self.worker is w else None)

    def _failed(self, message: str) -> None:
        self.message.setText(f"Error: {message}")
        self.state.errorOccurred.emit(f"{self.title}: {message}")

    @property
    def busy(self) -> bool:
        return self.worker is not None and not self.worker.is_finished


# ------------------------------------------------------------------------------------------------
# tabs
# ------------------------------------------------------------------------------------------------
class ComponentsTab(_Tab):
    """Histograms of selected components with μ / half-width, the μ–half-width map of all
    components, and the list of dominant components."""

    title = "Components"
    JOB = "analysis-components"

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
        self.mu_threshold.setToolTip("Dominant if |μ| ≥ this")
        self.hw_threshold = QDoubleSpinBox()
        self.hw_threshold.setRange(0.0, 100.0)
        self.hw_threshold.setSingleStep(0.1)
        self.hw_threshold.setValue(1.5)
        self.hw_threshold.setToolTip("Dominant if half-width ≥ this")
        self.mu_threshold.valueChanged.connect(self._update_dominant)
        self.hw_threshold.valueChanged.connect(self._update_dominant)
        self.table = _table(["#", "μ", "half-width", "std"])
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setToolTip("Dominant components (widest first). Select one or more to show their "
                              "distributions; with two selected, 'Show plane' shows them in the scatter")
        self.table.itemSelectionChanged.connect(self._table_selected)
        self.plane_button = QPushButton("Show plane")
        self.plane_button.setToolTip("Show the two selected components as the scatter plane")
        self.plane_button.clicked.connect(self._show_plane)
        self.dominant_label = QLabel("")

        form = QFormLayout()
        form.addRow("Component", self.component)
        form.addRow("|μ| ≥", self.mu_threshold)
        form.addRow("half-width ≥", self.hw_threshold)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.dominant_label)
        side.addWidget(self.table, 1)
        side.addWidget(self.plane_button)
        side.addWidget(self.message)
        side_w = QWidget()
        side_w.setLayout(side)
        side_w.setMaximumWidth(320)
        plots = QSplitter(Qt.Vertical)
        plots.addWidget(self.plot)
        plots.addWidget(self.overview)
        lay = QHBoxLayout(self)
        lay.addWidget(plots, 1)
        lay.addWidget(side_w)
        add_export_actions(self.plot, "component_histograms", self)
        add_export_actions(self.overview, "component_overview", self)

    def refresh(self) -> None:
        self.stale = False
        st = self.state.stats or {}
        cs = st.get("component_stats")
        if cs is not None:
            self._set_stats(cs)
        elif self.state.z is not None and self.state.stats is None \
                and getattr(self.state, "runner", None) is not None:
            # the state computes the statistics in its own job; analysisChanged brings them
            self.message.setText("waiting for the component statistics …")
        elif self.state.z is not None:
            z = self.state.z
            self._run(self.JOB, component_task, {"z": z},
                      lambda res, z=z: self._set_stats(res["stats"]) if self.state.z is z else None,
                      "computing component histograms …")
        else:
            self._set_stats(None)

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
        """Dominant component indices, widest first."""
        from ..analysis.statistics import dominant_components

        cs = self.cstats
        if cs is None:
            return np.zeros(0, dtype=np.int64)
        idx = dominant_components(cs, mu_threshold=float(self.mu_threshold.value()),
                                  hw_threshold=float(self.hw_threshold.value()))
        return idx[np.argsort(-np.asarray(cs.half_width)[idx], kind="stable")]

    def _update_dominant(self) -> None:
        cs = self.cstats
        if cs is None:
            return
        mt, ht = float(self.mu_threshold.value()), float(self.hw_threshold.value())
        self.mu_line_pos.setValue(mt)
        self.mu_line_neg.setValue(-mt)
        self.hw_line.setValue(ht)
        dom = self.dominant()
        mu, hw = np.asarray(cs.mu), np.asarray(cs.half_width)
        self.overview_dom.setData(mu[dom], hw[dom], data=dom)
        self.dominant_label.setText(f"{len(dom)} dominant component(s) of {cs.z_dim}")
        self.table.blockSignals(True)
        self.table.setRowCount(len(dom))
        for row, i in enumerate(dom):
            self.table.setItem(row, 0, _item(f"#{int(i)}"))
            self.table.setItem(row, 1, _item(f"{mu[i]:.3f}"))
            self.table.setItem(row, 2, _item(f"{hw[i]:.3f}"))
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
            try:
                self.state.set_plane("latent", self.selected[0], self.selected[1])
            except InvalidInputError as exc:
                self._failed(str(exc))


class RadiusTab(_Tab):
    """Radius (L2 norm) distribution with the N(0,1) and uniform-box theory curves."""

    title = "Radius"
    JOB = "analysis-radius"

    def __init__(self, views) -> None:
        super().__init__(views)
        self.result: dict | None = None
        self._result_z = None
        self.plot = _plot_widget("Radius distribution")
        self.bin_width = QComboBox()
        self.bin_width.addItems(["0.5", "0.05"])
        self.bin_width.setToolTip("Histogram bin width")
        self.bin_width.currentTextChanged.connect(lambda _t: self.invalidate())
        self.b = QDoubleSpinBox()
        self.b.setRange(0.05, 20.0)
        self.b.setSingleStep(0.25)
        self.b.setValue(1.5)
        self.b.setToolTip("Half-width b of the uniform box [-b, b] for the theory curve")
        self.b.valueChanged.connect(self._draw)
        self.sigma = QDoubleSpinBox()
        self.sigma.setRange(0.05, 20.0)
        self.sigma.setSingleStep(0.1)
        self.sigma.setValue(1.0)
        self.sigma.setToolTip("σ of the normal N(0, σ²) theory curve")
        self.sigma.valueChanged.connect(self._draw)
        self.stats_label = QLabel("")
        self.stats_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Bin width", self.bin_width)
        form.addRow("Normal σ", self.sigma)
        form.addRow("Uniform b", self.b)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.stats_label)
        side.addWidget(self.message)
        side.addStretch(1)
        side_w = QWidget()
        side_w.setLayout(side)
        side_w.setMaximumWidth(260)
        lay = QHBoxLayout(self)
        lay.addWidget(self.plot, 1)
        lay.addWidget(side_w)
        add_export_actions(self.plot, "radius", self)

    def refresh(self) -> None:
        self.stale = False
        z = self.state.z
        if z is None:
            self.result = None
            self.plot.getPlotItem().clear()
            self.message.setText("No z-points loaded")
            return
        bw = float(self.bin_width.currentText())
        cached = self.result if self.result is not None and self._result_z is z else None
        params = {"z": z, "bin_width": bw, "samples": self.state.samples, "cached": cached}
        self._run(self.JOB, radius_task, params,
                  lambda res, z=z: self._set_result(res, z) if self.state.z is z else None,
                  "computing radii …")

    def _set_result(self, res: dict, z=None) -> None:
        self.result = res
        self._result_z = z
        s = res["stats"]
        self.stats_label.setText(
            f"<b>{int(np.sum(res['counts'])):,}</b> points in {res['n_dim']} dims<br>"
            f"mean {s.mean:.2f} ± {s.std:.2f}<br>peak {s.peak:.2f}<br>"
            f"1 % … 99 %: {s.p01:.2f} … {s.p99:.2f}<br>min {s.min:.2f}, max {s.max:.2f}")
        self.message.setText("")
        self._draw()

    def _draw(self) -> None:
        res = self.result
        if res is None:
            return
        item = ap.plot_radius_distribution(res["edges"], res["counts"], n_dim=res["n_dim"],
                                           normal_sigma=float(self.sigma.value()),
                                           uniform_b=(float(self.b.value()),), plot=self.plot,
                                           title="Radius distribution")
        sr = res.get("sample_radii")
        if sr is not None and len(sr):
            edges = np.asarray(res["edges"])
            bw = float(res["bin_width"])
            hi = max(edges[-1], float(np.max(sr)) + bw)
            e2 = np.arange(0.0, hi + bw, bw)
            c2, _ = np.histogram(sr, bins=e2)
            dens = c2 / max(c2.sum(), 1) / bw
            item.legend.addItem(item.plot(e2, dens, stepMode="center",
                                          pen=pg.mkPen((230, 120, 0), width=2)),
                                f"generated samples ({len(sr)})")


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
        side_w = QWidget()
        side_w.setLayout(side)
        side_w.setMaximumWidth(300)
        lay = QHBoxLayout(self)
        lay.addWidget(self.plot, 1)
        lay.addWidget(side_w)
        add_export_actions(self.plot, "correlation", self)

    def refresh(self) -> None:
        self.stale = False
        z = self.state.z
        if z is None:
            self.result = None
            self.image.clear()
            self.table.setRowCount(0)
            self.message.setText("No z-points loaded")
            return
        self._run(self.JOB, correlation_task, {"z": z, "threshold": 0.1},
                  lambda res, z=z: self._set_result(res) if self.state.z is z else None,
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
            try:
                self.state.set_plane("latent", i, j)
            except InvalidInputError as exc:
                self._failed(str(exc))

    def _image_clicked(self, ev) -> None:
        if self.result is None or ev.button() != Qt.LeftButton:
            return
        pos = ev.pos()
        j, i = int(pos.x()), int(pos.y())
        n = self.result["r"].shape[0]
        if 0 <= i < n and 0 <= j < n and i != j:
            ev.accept()
            try:
                self.state.set_plane("latent", min(i, j), max(i, j))
            except InvalidInputError as exc:
                self._failed(str(exc))


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
        side_w = QWidget()
        side_w.setLayout(side)
        side_w.setMaximumWidth(300)
        plots = QSplitter(Qt.Vertical)
        plots.addWidget(self.plot)
        plots.addWidget(self.cum_plot)
        lay = QHBoxLayout(self)
        lay.addWidget(plots, 1)
        lay.addWidget(side_w)
        add_export_actions(self.plot, "pca_spectrum", self)
        add_export_actions(self.cum_plot, "pca_cumulative", self)
        self.ratio: np.ndarray | None = None

    def refresh(self) -> None:
        self.stale = False
        pca = self.state.pca
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
        try:
            self.state.set_plane("pca", i, i + 1)
        except InvalidInputError as exc:
            self._failed(str(exc))


class TsneTab(_Tab):
    """t-SNE map of a subset of the points, computed on demand; click a point → its image."""

    title = "t-SNE"
    JOB = "tsne"

    def __init__(self, views) -> None:
        super().__init__(views)
        self.result: dict | None = None
        self.plot = _plot_widget("t-SNE of the z-points (click a point)")
        self.scatter = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(40, 80, 200, 130))
        self.marker = pg.ScatterPlotItem(size=14, pen=pg.mkPen("r", width=2), brush=None)
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.marker)
        self.plot.getPlotItem().setAspectLocked(True)
        self.scatter.sigClicked.connect(self._clicked)
        self.max_points = QSpinBox()
        self.max_points.setRange(100, 50_000)
        self.max_points.setSingleStep(1000)
        self.max_points.setValue(5000)
        self.max_points.setToolTip("t-SNE of a random subset of at most this many points")
        self.perplexity = QDoubleSpinBox()
        self.perplexity.setRange(2.0, 200.0)
        self.perplexity.setValue(30.0)
        self.perplexity.setToolTip("t-SNE perplexity (effective number of neighbours)")
        self.compute_button = QPushButton("Compute t-SNE")
        self.compute_button.setToolTip("Run t-SNE in the background (progress in the status bar)")
        self.compute_button.clicked.connect(self.compute)
        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignCenter)
        self.image_label.setMinimumSize(128, 128)
        self.image_label.setToolTip("Image of the clicked point")
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Points", self.max_points)
        form.addRow("Perplexity", self.perplexity)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.compute_button)
        side.addWidget(self.image_label)
        side.addWidget(self.info_label)
        side.addWidget(self.message)
        side.addStretch(1)
        side_w = QWidget()
        side_w.setLayout(side)
        side_w.setMaximumWidth(260)
        lay = QHBoxLayout(self)
        lay.addWidget(self.plot, 1)
        lay.addWidget(side_w)
        add_export_actions(self.plot, "tsne", self)

    def refresh(self) -> None:
        self.stale = False
        if self.state.z is None:
            self.message.setText("No z-points loaded")
        elif self.result is None and not self.busy:
            self.message.setText("Press 'Compute t-SNE' (runs in the background)")

    def clear(self) -> None:
        self.result = None
        self.scatter.setData([], [])
        self.marker.setData([], [])

    def compute(self) -> None:
        z = self.state.z
        if z is None:
            return
        params = {"z": z, "max_points": int(self.max_points.value()),
                  "perplexity": float(self.perplexity.value()), "seed": 0}
        self._run(self.JOB, tsne_task, params,
                  lambda res, z=z: self._set_result(res) if self.state.z is z else None,
                  "t-SNE running …")

    def _set_result(self, res: dict) -> None:
        self.result = res
        emb = res["embedding"]
        idx = res["indices"]
        brush: Any = pg.mkBrush(40, 80, 200, 130)
        attrs = self.state.attributes
        cb = self.state.color_by
        if attrs is not None and cb in self.state.attribute_names:
            v = np.asarray(attrs[idx, self.state.attribute_names.index(cb)], dtype=np.float64)
            brush = _value_brushes(v)
        self.scatter.setData(emb[:, 0], emb[:, 1], brush=brush)  # point i <-> indices[i]
        self.plot.getPlotItem().autoRange()
        self.message.setText(f"t-SNE of {len(idx):,} points" + (f", coloured by {cb}" if
                                                                 isinstance(brush, list) else ""))

    def _clicked(self, _item, points, *args) -> None:
        if len(points) and self.result is not None:
            self.show_point(int(self.result["indices"][points[0].index()]))

    def show_point(self, index: int) -> None:
        """Show the image of data point ``index`` and make its z-vector the current one."""
        ds = self.state.dataset
        if ds is not None and 0 <= index < ds.n:
            img = ds.batch(np.array([index]))[0]
            self.image_label.setPixmap(to_pixmap(img).scaled(128, 128, Qt.KeepAspectRatio,
                                                             Qt.SmoothTransformation))
            name = ds.filenames[index] if index < len(ds.filenames) else ""
            self.info_label.setText(f"point #{index}<br>{name}")
        else:
            self.info_label.setText(f"point #{index} (no dataset images)")
        if self.result is not None:
            k = np.flatnonzero(self.result["indices"] == index)
            if len(k):
                p = self.result["embedding"][k[0]]
                self.marker.setData([p[0]], [p[1]])
        try:
            self.state.select_point(index)
        except InvalidInputError as exc:
            self._failed(str(exc))


class KMeansTab(_Tab):
    """KMeans inertia curve (k = 2 … k_max), computed on demand."""

    title = "KMeans"
    JOB = "kmeans"

    def __init__(self, views) -> None:
        super().__init__(views)
        self.result: dict | None = None
        self.plot = _plot_widget("KMeans inertia")
        self.k_max = QSpinBox()
        self.k_max.setRange(3, 500)
        self.k_max.setValue(80)
        self.k_max.setToolTip("Largest number of clusters")
        self.max_points = QSpinBox()
        self.max_points.setRange(100, 1_000_000)
        self.max_points.setSingleStep(5000)
        self.max_points.setValue(20000)
        self.max_points.setToolTip("Fit on a random subset of at most this many points")
        self.compute_button = QPushButton("Compute inertia")
        self.compute_button.setToolTip("Run MiniBatchKMeans for every k in the background")
        self.compute_button.clicked.connect(self.compute)
        form = QFormLayout()
        form.addRow("k max", self.k_max)
        form.addRow("Points", self.max_points)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.compute_button)
        side.addWidget(self.message)
        side.addStretch(1)
        side_w = QWidget()
        side_w.setLayout(side)
        side_w.setMaximumWidth(260)
        lay = QHBoxLayout(self)
        lay.addWidget(self.plot, 1)
        lay.addWidget(side_w)
        add_export_actions(self.plot, "kmeans_inertia", self)

    def refresh(self) -> None:
        self.stale = False
        if self.state.z is None:
            self.message.setText("No z-points loaded")
        elif self.result is None and not self.busy:
            self.message.setText("Press 'Compute inertia' (runs in the background)")

    def clear(self) -> None:
        self.result = None
        self.plot.getPlotItem().clear()

    def compute(self) -> None:
        z = self.state.z
        if z is None:
            return
        params = {"z": z, "k_max": int(self.k_max.value()), "max_points": int(self.max_points.value()),
                  "seed": 0}
        self._run(self.JOB, kmeans_task, params,
                  lambda res, z=z: self._set_result(res) if self.state.z is z else None,
                  "KMeans running …")

    def _set_result(self, res: dict) -> None:
        self.result = res
        ap.plot_kmeans_inertia(res["k"], res["inertia"], plot=self.plot)
        self.message.setText(f"k = {int(res['k'][0])} … {int(res['k'][-1])}")


class VaeTab(_Tab):
    """VAE diagnostics: logvar range, σ, KL, radius of z vs μ."""

    title = "VAE"
    JOB = "vae-diagnostics"

    LABELS = {
        "logvar_min": "min logvar", "logvar_max": "max logvar", "logvar_mean": "mean logvar",
        "sigma_mean": "mean σ = exp(logvar/2)", "kl_mean": "mean KL per point",
        "radius_mu_mean": "mean radius of μ", "max_abs_z_minus_mu": "max |z − μ|",
        "radius_z_mean": "mean radius of z", "radius_abs_diff_mean": "mean |R(z) − R(μ)|",
        "radius_rel_diff_mean": "mean |R(z) − R(μ)| / R(μ)",
    }

    def __init__(self, views) -> None:
        super().__init__(views)
        self.result: dict | None = None
        self.table = _table(["quantity", "value"])
        self.table.setToolTip("Diagnostics of the VAE's μ and logvar on the whole dataset")
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.message)

    def export_target(self):
        return None

    def refresh(self) -> None:
        self.stale = False
        ws = self.state.workspace
        kind = getattr(getattr(ws, "model_config", None), "kind", None)
        if ws is None or kind != "vae" or not getattr(ws, "has_latents", False):
            self.result = None
            self.table.setRowCount(0)
            self.message.setText("Only for a VAE workspace with encoded latents (mu / logvar)")
            return
        self._run(self.JOB, vae_task, {"ws": ws}, self._set_result, "computing VAE diagnostics …")

    def set_arrays(self, mu: np.ndarray, logvar: np.ndarray, z: np.ndarray | None = None) -> None:
        """Show the diagnostics of given arrays (computed in the worker)."""
        self._run(self.JOB, vae_task, {"mu": mu, "logvar": logvar, "z": z}, self._set_result,
                  "computing VAE diagnostics …")

    def _set_result(self, res: dict) -> None:
        d = res["diagnostics"]
        self.result = d
        self.table.setRowCount(len(d))
        for row, (k, v) in enumerate(d.items()):
            self.table.setItem(row, 0, _item(self.LABELS.get(k, k), align_right=False))
            self.table.setItem(row, 1, _item(f"{v:.6g}" if isinstance(v, float) else v))
        self.message.setText("")


# ------------------------------------------------------------------------------------------------
class AnalysisViews(QTabWidget):
    """The analysis panels as tabs (see the module docstring).

    Parameters
    ----------
    state : AppState
    runner : TaskRunner or None
        Runs the heavy computations; without one they run synchronously (scripts, tests).
    """

    def __init__(self, state, runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.state = state
        self.runner = runner
        self.components = ComponentsTab(self)
        self.radius = RadiusTab(self)
        self.correlation = CorrelationTab(self)
        self.pca = PcaTab(self)
        self.tsne = TsneTab(self)
        self.kmeans = KMeansTab(self)
        self.vae = VaeTab(self)
        self.tabs: list[_Tab] = [self.components, self.radius, self.correlation, self.pca,
                                 self.tsne, self.kmeans, self.vae]
        tips = {
            "Components": "Per-component distributions, μ / half-width and the dominant components",
            "Radius": "Distribution of the L2 norm with theory curves",
            "Correlation": "Pearson correlation matrix and the strongest pairs",
            "PCA": "Explained variance ratio of the PCA axes",
            "t-SNE": "t-SNE map of the points (on demand)",
            "KMeans": "KMeans inertia curve (on demand)",
            "VAE": "VAE diagnostics (mu / logvar)",
        }
        for tab in self.tabs:
            i = self.addTab(tab, tab.title)
            self.setTabToolTip(i, tips.get(tab.title, ""))
        self.export_button = QPushButton("Export plot…")
        self.export_button.setToolTip("Save the plot of this tab as PNG or SVG")
        self.export_button.clicked.connect(self.export_current)
        self.setCornerWidget(self.export_button, Qt.TopRightCorner)
        self.currentChanged.connect(self._tab_changed)
        state.latentsChanged.connect(self._latents_changed)
        state.analysisChanged.connect(self._analysis_changed)
        state.workspaceChanged.connect(self._latents_changed)
        state.samplesChanged.connect(self.radius.invalidate)
        state.colorByChanged.connect(self._color_by_changed)

    # ---------------------------------------------------------------------------- updates
    def _latents_changed(self) -> None:
        self.tsne.clear()
        self.kmeans.clear()
        for tab in self.tabs:
            tab.invalidate()

    def _analysis_changed(self) -> None:
        self.components.invalidate()
        self.pca.invalidate()

    def _color_by_changed(self) -> None:
        if self.tsne.result is not None:
            self.tsne._set_result(self.tsne.result)

    def _tab_changed(self, _index: int) -> None:
        tab = self.currentWidget()
        if isinstance(tab, _Tab) and tab.stale:
            tab.refresh()
        self.export_button.setEnabled(isinstance(tab, _Tab) and tab.export_target() is not None)

    def showEvent(self, event) -> None:  # noqa: N802 -- Qt override
        super().showEvent(event)
        self._tab_changed(self.currentIndex())

    def refresh_all(self) -> None:
        """Bring every tab up to date now (starts the jobs of the automatic tabs)."""
        for tab in self.tabs:
            tab.refresh()

    # ---------------------------------------------------------------------------- export
    def export_current(self):
        tab = self.currentWidget()
        target = tab.export_target() if isinstance(tab, _Tab) else None
        if target is None:
            return None
        try:
            return export_plot_dialog(self, target, tab.title.lower().replace("-", ""))
        except (InvalidInputError, OSError, ValueError) as exc:
            from .widgets import show_error

            show_error(self, "Export", str(exc))
            return None


__all__ = ["AnalysisViews", "component_task", "radius_task", "correlation_task", "tsne_task",
           "kmeans_task", "vae_task"]
