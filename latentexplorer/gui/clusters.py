"""Fits the KMeans clusters of the "KMeans cluster" colouring in the background.

:class:`ClusterJob` watches the model: when it is coloured by cluster and the clusters of the
chosen k are missing (:meth:`~latentexplorer.explore.clusters.ClusterColoring.clusters_needed`),
it starts the named job :data:`JOB` in the task runner (a newer request cancels an older one) and
hands the result to the model, unless the z-points or k changed meanwhile. 200,000 x 256 points
take a few seconds in the worker; the GUI thread only installs the labels.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from ..errors import InvalidInputError
from ..explore.clusters import CLUSTER_SEED, fit_clusters
from ..progress import ProgressReporter

JOB = "clusters"


def clusters_task(params, reporter: ProgressReporter | None = None):
    """KMeans clusters (a :class:`~latentexplorer.explore.clusters.Clusters`) of ``params["z"]``
    with ``params["k"]`` clusters."""
    return fit_clusters(params["z"], int(params["k"]), random_state=int(params.get("seed", CLUSTER_SEED)),
                        progress=reporter)


class ClusterJob(QObject):
    """See the module docstring. ``runner`` None fits synchronously (scripts, tests)."""

    def __init__(self, state, runner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = state.model
        self.runner = runner
        self._pending: tuple | None = None  # _key() of the running fit
        self._data_generation = 0  # counts new z-points (a fit of older ones is dropped)
        state.colorByChanged.connect(lambda _c: self.check())
        state.dataChanged.connect(self._new_data)

    def _new_data(self, _model=None) -> None:
        self._data_generation += 1
        self.check()

    def _key(self) -> tuple:
        return self._data_generation, self.model.n_clusters

    @property
    def busy(self) -> bool:
        return self.runner is not None and self.runner.is_running(JOB)

    def check(self) -> None:
        """Start a fit when the model needs clusters and none for them is running."""
        m = self.model
        if not m.clusters_needed():
            return
        key = self._key()
        if key == self._pending and self.busy:
            return
        self._pending = key
        params = {"z": m.z, "k": m.n_clusters, "seed": CLUSTER_SEED}
        if self.runner is None:
            try:
                self._arrived(clusters_task(params, ProgressReporter()), key)
            except InvalidInputError as exc:
                self._failed(str(exc))
            return
        w = self.runner.start(JOB, clusters_task, params)
        w.result.connect(lambda res, key=key: self._arrived(res, key))
        w.error.connect(self._failed)

    def _arrived(self, clusters, key: tuple) -> None:
        if key == self._key():  # else the points or k changed meanwhile: a newer fit runs
            self._pending = None
            self.model.set_clusters(clusters)

    def _failed(self, message: str) -> None:
        self._pending = None
        self.state.errorOccurred.emit(f"KMeans clusters: {message}")
