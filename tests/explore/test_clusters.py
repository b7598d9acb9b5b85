"""KMeans clusters as exploration state, without Qt: the fit on all points against independent
computations, the model's k / clusters / selection, persistence of the colouring, the palette."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from latentexplorer.analysis.kmeans import kmeans_clusters, nearest_centre
from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.explore import ExplorationModel
from latentexplorer.explore.clusters import (
    CLUSTER_COLORING,
    DEFAULT_N_CLUSTERS,
    MAX_CLUSTERS,
    Clusters,
    cluster_palette,
    fit_clusters,
)
from latentexplorer.explore.persist import restore, to_state
from latentexplorer.progress import ProgressReporter


def blobs(n_per: int = 60, k: int = 4, d: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``k`` well-separated Gaussian blobs (centres 12 apart, σ = 1, shuffled) and their labels."""
    z, truth = make_blobs(n_samples=[n_per] * k, centers=12.0 * np.eye(k, d), cluster_std=1.0,
                          random_state=seed)
    return z.astype(np.float32), truth


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Labels ``a`` and ``b`` split the points the same way (up to renaming the clusters)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


# ------------------------------------------------------------------ the fit
def test_clusters_recover_separated_blobs_and_their_inertia():
    z, truth = blobs()
    labels, centres, inertia = kmeans_clusters(z, 4, random_state=0)
    assert labels.shape == (240,) and labels.dtype == np.int32 and centres.shape == (4, 6)
    assert _same_partition(labels, truth)
    # independent: each point's squared distance to the mean of its true blob
    means = np.stack([z[truth == c].mean(axis=0) for c in range(4)]).astype(np.float64)
    expect = float(((z - means[truth]) ** 2).sum())
    assert inertia == pytest.approx(expect, rel=1e-4)


def test_nearest_centre_is_the_brute_force_argmin():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5000, 5)).astype(np.float32)  # more than one block of rows
    c = rng.standard_normal((7, 5)).astype(np.float32)
    d2 = ((z[:, None, :].astype(np.float64) - c[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(nearest_centre(z, c), d2.argmin(axis=1))
    with pytest.raises(InvalidInputError, match="centers"):
        nearest_centre(z, c[:, :3])


def test_the_fit_is_seeded_and_cancellable():
    z, _ = blobs(seed=1)
    a, b = fit_clusters(z, 5, random_state=2), fit_clusters(z, 5, random_state=2)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.k == 5 and a.counts.sum() == len(z)
    np.testing.assert_array_equal(a.counts, np.bincount(a.labels, minlength=5))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        fit_clusters(z, 5, progress=ProgressReporter(cancel_event=cancel))
    with pytest.raises(InvalidInputError, match="exceeds the number of points"):
        fit_clusters(z[:3], 5)


def test_clusters_check_their_labels():
    with pytest.raises(InvalidInputError, match="0..1"):
        Clusters.of([0, 2], np.zeros((2, 3)), 0.0)
    c = Clusters.of([1, 0, 1], np.zeros((2, 3)), 1.5)
    np.testing.assert_array_equal(c.indices(1), [0, 2])
    with pytest.raises(InvalidInputError, match="out of range"):
        c.indices(2)


# ------------------------------------------------------------------ the model
def test_model_colours_by_cluster_and_selects_one():
    z, truth = blobs()
    m = ExplorationModel()
    m.set_data(z)
    seen = []
    m.colorByChanged.connect(seen.append)
    assert m.n_clusters == DEFAULT_N_CLUSTERS and not m.clusters_needed()  # colour: density
    m.set_color_by(CLUSTER_COLORING)
    assert seen == [CLUSTER_COLORING] and m.clusters_needed()
    m.set_n_clusters(4)
    assert len(seen) == 2 and m.clusters_needed()
    m.set_clusters(fit_clusters(m.z, 4))  # what the GUI's job hands in
    assert len(seen) == 3 and not m.clusters_needed()
    selected = []
    m.selectionChanged.connect(selected.append)
    c = int(m.clusters.labels[17])
    m.select_cluster(c)
    np.testing.assert_array_equal(m.selection, np.flatnonzero(truth == truth[17]))
    m.select_cluster((c + 1) % 4, "add")
    assert len(m.selection) == 120 and len(selected) == 2
    m.set_n_clusters(5)  # other k: the clusters are dropped, a new fit is needed
    assert m.clusters is None and m.clusters_needed()


def test_model_checks_clusters():
    m = ExplorationModel()
    m.set_data(blobs()[0])
    for bad in (1, MAX_CLUSTERS + 1, 2.5, True):
        with pytest.raises(InvalidInputError, match="clusters"):
            m.set_n_clusters(bad)
    with pytest.raises(InvalidInputError, match="labels of 240 points"):
        m.set_clusters(Clusters.of(np.zeros(10, int), np.zeros((2, 6)), 0.0))
    with pytest.raises(InvalidInputError, match="no KMeans clusters"):
        m.select_cluster(0)
    m.set_color_by(CLUSTER_COLORING)
    m.set_n_clusters(MAX_CLUSTERS)
    m.set_data(blobs()[0][:30])  # fewer points than clusters: nothing to fit
    assert not m.clusters_needed()


def test_new_points_drop_the_clusters_but_keep_the_colouring():
    m = ExplorationModel()
    m.set_data(blobs()[0])
    m.set_color_by(CLUSTER_COLORING)
    m.set_clusters(fit_clusters(m.z, 4))
    m.set_data(blobs(seed=5)[0])
    assert m.color_by == CLUSTER_COLORING and m.clusters is None and m.clusters_needed()


def test_the_cluster_colouring_is_saved_and_restored():
    m = ExplorationModel()
    m.set_data(blobs()[0])
    m.set_color_by(CLUSTER_COLORING)
    again = ExplorationModel()
    again.set_data(blobs()[0])
    restore(again, to_state(m))
    assert again.color_by == CLUSTER_COLORING and again.clusters_needed()


# ------------------------------------------------------------------ colours
@pytest.mark.parametrize("k", [2, 8, 20, MAX_CLUSTERS])
def test_palette_is_categorical(k):
    p = cluster_palette(k)
    assert p.shape == (k, 3) and p.dtype == np.uint8
    assert len({tuple(c) for c in p.tolist()}) == k  # distinct
    spread = p.max(axis=1).astype(int) - p.min(axis=1)
    assert spread.min() > 30  # no greys: grey means "greyed out" in the scatter
    np.testing.assert_array_equal(cluster_palette(k)[:2], cluster_palette(2))  # stable colours
