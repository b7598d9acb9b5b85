"""Analysis panels of the explorer (SPEC §4, §6) as tabs.

Components (histograms with μ / half-width, dominant components), radius distribution with theory
curves, correlation heat map with the top pairs (click a pair → that latent plane), PCA spectrum,
t-SNE or UMAP map drawn as it forms (click a point → its image, and it becomes the current
vector), KMeans inertia, VAE diagnostics. The views also own the job that fits the KMeans clusters
of the explorer's "KMeans cluster" colouring (:class:`~latentexplorer.gui.clusters.ClusterJob`).

Every computation that grows with the number of points (radii, correlation matrix, t-SNE, KMeans,
VAE diagnostics, missing component statistics) runs as a named job in the
:class:`~latentexplorer.gui.workers.TaskRunner` (synchronously when no runner is given, for scripts
and tests); the GUI thread only draws the (small) results. Results are computed lazily, when their
tab is shown, and dropped when new z-points arrive.

Each plot has "Export as PNG/SVG…" in its right-click menu; the "Export plot…" button exports the
plot of the visible tab.

The tabs and their worker functions live in :mod:`latentexplorer.gui.analysis_tabs` (one module per
tab, shared base in :mod:`~latentexplorer.gui.analysis_tabs.base`); they are re-exported here.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPushButton, QTabWidget, QWidget

from ..errors import InvalidInputError
from .analysis_tabs import (ComponentsTab, CorrelationTab, KMeansTab, PcaTab, RadiusTab, TsneTab,
                            VaeTab, correlation_task, kmeans_task, radius_task, tsne_task, vae_task)
from .analysis_tabs.base import _Tab
from .clusters import ClusterJob
from .export import export_plot_dialog
from .widgets import configure_pyqtgraph

log = logging.getLogger(__name__)


class AnalysisViews(QTabWidget):
    """The analysis panels as tabs (see the module docstring).

    Signals
    -------
    planeRequested(plane) : a tab asks to show a plane in the Explorer (a correlated pair, two
        selected components, two PCA axes); the main window shows it and switches there
    """

    planeRequested = Signal(object)

    def __init__(self, state, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.state = state
        self.model = state.model
        self.runner = controller.runner
        self._cross_filtered = False
        self.cluster_job = ClusterJob(state, self.runner, self)
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
            TsneTab.title: "t-SNE or UMAP map of the points (on demand, drawn as it forms)",
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
        state.dataChanged.connect(lambda _m: self._latents_changed())
        state.analysisChanged.connect(lambda _a: self._analysis_changed())
        state.samplesChanged.connect(lambda _s: self.radius.invalidate())
        state.colorByChanged.connect(lambda _c: self._color_by_changed())
        state.filterChanged.connect(lambda _f: self._filter_changed())

    # ---------------------------------------------------------------------------- updates
    def _latents_changed(self) -> None:
        self.tsne.clear()
        self.kmeans.clear()
        for tab in self.tabs:
            tab.invalidate()

    def _filter_changed(self) -> None:
        # with cross-filtering on (or just turned off) every tab shows other points now
        m = self.state.model
        if m.cross_filter or self._cross_filtered:
            self._latents_changed()
            if self.isVisible():
                self._tab_changed(self.currentIndex())
        self._cross_filtered = m.cross_filter and m.filter_mask() is not None

    def _analysis_changed(self) -> None:
        self.components.invalidate()
        self.pca.invalidate()

    def _color_by_changed(self) -> None:
        self.tsne.recolor()
        self.kmeans.show_clusters()

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
            name = tab.title.lower().replace("-", "").replace(" / ", "_")  # "tsne_umap"
            path = export_plot_dialog(self, target, name,
                                      workspace=self.state.workspace)
        except (InvalidInputError, OSError, ValueError) as exc:
            self.state.errorOccurred.emit(f"Export: {exc}")
            return None
        if path is not None:
            self.state.notice.emit(f"Plot saved: {path}")
        return path


__all__ = ["AnalysisViews", "radius_task", "correlation_task", "tsne_task",
           "kmeans_task", "vae_task"]
