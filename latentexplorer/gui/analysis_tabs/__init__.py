"""The tabs of :class:`~latentexplorer.gui.analysis_views.AnalysisViews`, one module per tab.

Each tab module holds its Qt-free worker function (``*_task(params, reporter)``) and its
:class:`~.base._Tab` subclass; :mod:`.base` holds the shared widget helpers, the lazy-refresh /
run-in-the-worker base :class:`~.base._Tab` and :class:`~.base.OnDemandTab` (t-SNE, KMeans)."""

from .base import OnDemandTab
from .components import ComponentsTab
from .correlation import CORR_THRESHOLDS, MAX_PAIRS_LISTED, CorrelationTab, correlation_task
from .kmeans import KMeansTab, kmeans_task
from .pca import PcaTab
from .radius import RadiusTab, radius_task
from .tsne import TsneTab, tsne_task
from .vae import VaeTab, vae_task

__all__ = ["OnDemandTab", "ComponentsTab", "RadiusTab", "CorrelationTab", "PcaTab", "TsneTab",
           "KMeansTab", "VaeTab", "radius_task", "correlation_task", "tsne_task",
           "kmeans_task", "vae_task", "MAX_PAIRS_LISTED", "CORR_THRESHOLDS"]
