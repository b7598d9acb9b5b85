"""KMeans clusters of the z-points as exploration state: the labels every view colours by.

The explorer colours its scatter (and the t-SNE / UMAP map) by cluster when ``color_by`` is
:data:`CLUSTER_COLORING`. The clusters are fitted once on all points
(:func:`fit_clusters`, the project's KMeans of :mod:`latentexplorer.analysis.kmeans`) and held by
the :class:`~latentexplorer.explore.model.ExplorationModel`, so that every view shows the same
clusters; :func:`cluster_palette` gives each cluster its categorical colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.kmeans import kmeans_clusters
from ..errors import InvalidInputError

#: the ``color_by`` value of the cluster colouring (the GUI shows it as "KMeans cluster")
CLUSTER_COLORING = "kmeans"
DEFAULT_N_CLUSTERS = 8
MAX_CLUSTERS = 40
#: seed of the cluster fit (and of the KMeans curve's default), so both find the same clusters
CLUSTER_SEED = 0

# Tableau 10 without its grey (grey means "greyed out" in the scatter) and orange (the selection's
# marks are orange), navy and gold in their place; then light Tableau 20 shades; beyond 20 clusters, hues
# spaced by the golden angle.
_QUALITATIVE = np.array([
    (31, 119, 180), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (57, 59, 121), (188, 189, 34), (23, 190, 207), (230, 171, 2),
    (174, 199, 232), (152, 223, 138), (255, 152, 150), (197, 176, 213), (196, 156, 148),
    (247, 182, 210), (156, 158, 222), (219, 219, 141), (158, 218, 229), (128, 0, 64),
], dtype=np.uint8)


def cluster_palette(k: int) -> np.ndarray:
    """Categorical colours (k, 3) uint8 RGB, one per cluster (distinct, not a gradient)."""
    k = int(k)
    if k <= len(_QUALITATIVE):
        return _QUALITATIVE[:k].copy()
    extra = []
    for j in range(k - len(_QUALITATIVE)):
        h = (j * 0.618033988749895 + 0.05) % 1.0
        v = 0.75 if j % 2 else 0.55
        extra.append(_hsv_to_rgb(h, 0.65, v))
    return np.concatenate([_QUALITATIVE, np.array(extra, dtype=np.uint8)])


def _hsv_to_rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return round(255 * r), round(255 * g), round(255 * b)


@dataclass(frozen=True, eq=False)
class Clusters:
    """KMeans clusters of all z-points.

    Attributes
    ----------
    labels : ndarray of shape (n_points,), int32
        Cluster of each point, 0 … k − 1.
    centers : ndarray of shape (k, z_dim), float32
    inertia : float
        Sum of squared distances of the points to their centre.
    counts : ndarray of shape (k,), int64
        Points per cluster.
    """

    labels: np.ndarray
    centers: np.ndarray
    inertia: float
    counts: np.ndarray

    @classmethod
    def of(cls, labels, centers, inertia: float) -> Clusters:
        labels = np.asarray(labels)
        centers = np.asarray(centers, dtype=np.float32)
        if labels.ndim != 1 or centers.ndim != 2 or len(centers) < 1:
            raise InvalidInputError(f"clusters: expected labels (n,) and centres (k, z_dim), got "
                                    f"{labels.shape} and {centers.shape}")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(centers)):
            raise InvalidInputError(f"clusters: labels must lie in 0..{len(centers) - 1}")
        labels = labels.astype(np.int32, copy=False)
        counts = np.bincount(labels, minlength=len(centers)).astype(np.int64)
        return cls(labels, centers, float(inertia), counts)

    @property
    def k(self) -> int:
        return len(self.centers)

    def indices(self, cluster: int) -> np.ndarray:
        """Sorted indices (m,) int64 of the points of ``cluster``."""
        if not 0 <= int(cluster) < self.k:
            raise InvalidInputError(f"cluster {cluster}: out of range 0..{self.k - 1}")
        return np.flatnonzero(self.labels == int(cluster)).astype(np.int64)


class ClusterColoring:
    """The cluster colouring's part of :class:`~latentexplorer.explore.model.ExplorationModel`
    (mixed into it): k, the fitted clusters and selecting a cluster. The model holds no jobs: the
    GUI fits the clusters when :meth:`clusters_needed` says so and hands them in."""

    n_clusters: int
    clusters: Clusters | None

    def set_n_clusters(self, k: int) -> None:
        """The number of clusters of the cluster colouring; clusters of another k are dropped
        (whoever fits them sees :meth:`clusters_needed`)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= MAX_CLUSTERS:
            raise InvalidInputError(f"clusters: expected an integer from 2 to {MAX_CLUSTERS}, got {k!r}")
        if int(k) != self.n_clusters:
            self.n_clusters = int(k)
            if self.clusters is not None and self.clusters.k != self.n_clusters:
                self.clusters = None
            if self.color_by == CLUSTER_COLORING:
                self.colorByChanged.emit(self.color_by)

    def clusters_needed(self) -> bool:
        """True when the scatter is coloured by cluster and the clusters of k are missing."""
        return (self.color_by == CLUSTER_COLORING and self.z is not None
                and self.n_points >= self.n_clusters
                and (self.clusters is None or self.clusters.k != self.n_clusters))

    def set_clusters(self, clusters: Clusters | None) -> None:
        """Install the KMeans clusters of the current z-points (None drops them)."""
        if clusters is not None:
            if len(clusters.labels) != self.n_points:
                raise InvalidInputError(f"clusters: expected labels of {self.n_points} points, "
                                        f"got {len(clusters.labels)}")
            self.n_clusters = clusters.k
        self.clusters = clusters
        if self.color_by == CLUSTER_COLORING:
            self.colorByChanged.emit(self.color_by)

    def select_cluster(self, cluster: int, op: str = "replace") -> None:
        """Select the points of ``cluster`` (see :meth:`set_selection` for ``op``)."""
        if self.clusters is None:
            raise InvalidInputError("no KMeans clusters yet (colour by KMeans cluster first)")
        self.set_selection(self.clusters.indices(cluster), op)


def fit_clusters(z, n_clusters: int, *, random_state: int = CLUSTER_SEED, progress=None) -> Clusters:
    """KMeans with ``n_clusters`` clusters on all points ``z`` (n_points, z_dim) (see
    :func:`~latentexplorer.analysis.kmeans.kmeans_clusters`; cancellable through ``progress``)."""
    labels, centers, inertia = kmeans_clusters(z, n_clusters, random_state=random_state,
                                               progress=progress)
    return Clusters.of(labels, centers, inertia)
