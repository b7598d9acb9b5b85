"""KMeans tab: the inertia curve for k = 2 … k_max, computed on demand, with the clusters the
explorer colours by (View: colour "KMeans cluster") marked on it. Both are fitted by
:mod:`latentexplorer.analysis.kmeans` the same way (k-means++ seedings and Lloyd on the same seeded
subsample, inertia on all points), so the mark lies on or near the curve."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QSpinBox

from ...progress import ProgressReporter
from .. import analysis_plots as ap
from .base import OnDemandTab


def kmeans_task(params, reporter: ProgressReporter | None = None) -> dict:
    """KMeans inertia for k = 2 … k_max: ``{"k", "inertia"}``."""
    from ...analysis.embedding import kmeans_inertia

    z = params["z"]
    max_points = params.get("max_points")
    n_used = z.shape[0] if max_points is None else min(z.shape[0], int(max_points))
    k_max = max(2, min(int(params.get("k_max", 80)), n_used))
    k, inertia = kmeans_inertia(z, k_values=range(2, k_max + 1), max_points=max_points,
                                random_state=int(params.get("seed", 0)), progress=reporter)
    return {"k": np.asarray(k), "inertia": np.asarray(inertia)}


class KMeansTab(OnDemandTab):
    """KMeans inertia curve (k = 2 … k_max), computed on demand."""

    title = "KMeans"
    JOB = "kmeans"
    TASK = staticmethod(kmeans_task)
    PLOT_TITLE = "KMeans inertia"
    EXPORT_NAME = "kmeans_inertia"
    BUTTON_TEXT = "Compute inertia"
    BUTTON_TIP = ("Fit every k together in the background (k-means++ seedings and Lloyd on 20,000 "
                  "points, inertia on all of them; about 36 s for 200,000 points)")
    BUSY_TEXT = "KMeans running …"

    def _build_controls(self):
        self.k_max = QSpinBox()
        self.k_max.setRange(3, 500)
        self.k_max.setValue(80)
        self.k_max.setToolTip("Largest number of clusters")
        self.max_points = QSpinBox()
        self.max_points.setRange(0, 100_000_000)
        self.max_points.setSingleStep(10_000)
        self.max_points.setSpecialValueText("all")
        self.max_points.setValue(0)
        self.max_points.setToolTip("Use a random subset of at most this many points (all: every point)")
        self.cluster_mark: pg.ScatterPlotItem | None = None
        self.cluster_label = QLabel("")
        self.cluster_label.setWordWrap(True)
        return [("k max", self.k_max), ("Points", self.max_points)]

    def _side_widgets(self):
        return [self.cluster_label]

    def _clear_plot(self) -> None:
        self.plot.getPlotItem().clear()
        self.cluster_mark = None
        self.show_clusters()

    def show_clusters(self) -> None:
        """Mark the explorer's KMeans clusters (k, inertia on all points) on the curve."""
        pi = self.plot.getPlotItem()
        if self.cluster_mark is not None:
            pi.removeItem(self.cluster_mark)
            self.cluster_mark = None
        c = self.model.clusters
        if c is None:
            self.cluster_label.setText("")
            return
        self.cluster_mark = pg.ScatterPlotItem([c.k], [c.inertia], symbol="star", size=16,
                                               pen=pg.mkPen("k"), brush=pg.mkBrush(255, 140, 0))
        pi.addItem(self.cluster_mark)
        self.cluster_label.setText(f"★ the explorer's clusters: k = {c.k}, inertia {c.inertia:.4g} "
                                   "(on all points)")

    def _params(self, z) -> dict:
        return {"z": z, "k_max": int(self.k_max.value()), "max_points": int(self.max_points.value()) or None,
                "seed": 0}

    def _set_result(self, res: dict) -> None:
        self.result = res
        ap.plot_kmeans_inertia(res["k"], res["inertia"], plot=self.plot)
        self.cluster_mark = None  # (cleared with the plot)
        self.show_clusters()
        self.message.setText(f"k = {int(res['k'][0])} … {int(res['k'][-1])}")
