import subprocess
import sys

import numpy as np
import pytest

from latentexplorer.analysis.embedding import kmeans_inertia, tsne_embedding, umap_embedding
from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.progress import ProgressReporter


def _blobs(n_per=60, d=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, size=(3, d))
    z = np.concatenate([c + rng.normal(size=(n_per, d)) for c in centres])
    return z.astype(np.float32), np.repeat(np.arange(3), n_per)


def _separated(emb, lab) -> float:
    """Fraction of points nearer to their own blob's centre in the map than to the others'."""
    cents = np.array([emb[lab == k].mean(axis=0) for k in range(3)])
    nearest = np.argmin(((emb[:, None] - cents[None]) ** 2).sum(-1), axis=1)
    return float((nearest == lab).mean())


class _Recorder(ProgressReporter):
    """Keeps every update, with the metrics."""

    def __init__(self, cancel_when=None):
        super().__init__()
        self.seen = []
        self.cancel_when = cancel_when

    def update(self, done, total, message="", metrics=None):
        self.seen.append((done, total, message, metrics))
        if self.cancel_when is not None and self.cancel_when(done, metrics):
            self.cancel()

    def embeddings(self):
        return [m for *_, m in self.seen if m and m.get("event") == "embedding"]


def test_tsne_separates_blobs_and_reports_progress_with_the_layout():
    z, lab = _blobs()
    rec = _Recorder()
    emb = tsne_embedding(z, n_pca=5, perplexity=15, n_iter=100, early_exaggeration_iter=50,
                         callbacks_every_iters=25, progress=rec)
    assert emb.shape == (180, 2) and emb.dtype == np.float64 and np.isfinite(emb).all()
    assert rec.seen[-1][:2] == (150, 150)
    snaps = rec.embeddings()
    # the initial layout, one every 25 iterations of both phases, and the result
    assert [m["iteration"] for m in snaps] == [0, 25, 50, 75, 100, 125, 150, 150]
    for m in snaps:
        assert m["method"] == "t-SNE" and m["n_iter"] == 150
        assert m["embedding"].shape == (180, 2) and m["embedding"].dtype == np.float32
        assert np.isfinite(m["embedding"]).all()
    assert snaps[0]["kl_divergence"] is None and snaps[1]["kl_divergence"] > 0
    assert snaps[1]["exaggeration"] == 12 and snaps[-2]["exaggeration"] == 1
    # copies, not the optimiser's array: the layout moved between snapshots
    assert not np.array_equal(snaps[1]["embedding"], snaps[-2]["embedding"])
    np.testing.assert_allclose(snaps[-1]["embedding"], emb, rtol=1e-6)
    assert _separated(emb, lab) > 0.95


@pytest.mark.parametrize("neighbors", ["exact", "approx"])
def test_tsne_neighbour_search_methods_both_separate_blobs(neighbors):
    z, lab = _blobs(n_per=200)
    emb = tsne_embedding(z, n_pca=0, perplexity=30, n_iter=150, early_exaggeration_iter=100,
                         neighbors=neighbors, n_jobs=1)
    assert _separated(emb, lab) > 0.95
    with pytest.raises(InvalidInputError, match="neighbors: expected 'auto', 'exact' or 'approx'"):
        tsne_embedding(z, neighbors="annoy")


def test_tsne_auto_neighbours_are_exact_below_the_limit(monkeypatch):
    import openTSNE

    from latentexplorer.analysis import embedding

    used = []
    real = openTSNE.TSNE

    def spy(*a, **kw):
        used.append(kw["neighbors"])
        return real(*a, **kw)

    monkeypatch.setattr(openTSNE, "TSNE", spy)
    z, _ = _blobs(n_per=20)
    tsne_embedding(z, n_iter=5, early_exaggeration_iter=5)
    monkeypatch.setattr(embedding, "EXACT_NEIGHBOURS_MAX_POINTS", 50)
    tsne_embedding(z, n_iter=5, early_exaggeration_iter=5)
    assert used == ["exact", "annoy"]


def test_tsne_is_reproducible_with_random_state():
    z, _ = _blobs(n_per=40)
    a = tsne_embedding(z, n_iter=50, early_exaggeration_iter=25, random_state=3, n_jobs=1)
    b = tsne_embedding(z, n_iter=50, early_exaggeration_iter=25, random_state=3, n_jobs=1)
    np.testing.assert_array_equal(a, b)


def test_tsne_cancel():
    z, _ = _blobs(n_per=30)
    rec = _Recorder(cancel_when=lambda done, metrics: done >= 25)
    with pytest.raises(Cancelled):
        tsne_embedding(z, n_iter=100, early_exaggeration_iter=50, callbacks_every_iters=25,
                       progress=rec)
    assert max(d for d, *_ in rec.seen) < 150       # stopped before the end
    with pytest.raises(InvalidInputError, match="at least 4"):
        tsne_embedding(z[:3])


# ------------------------------------------------------------------------------------ UMAP
@pytest.fixture(scope="module")
def umap_runs():
    """Two seeded UMAP runs of the same blobs (one with progress): numba compiles once."""
    z, lab = _blobs(n_per=100)
    rec = _Recorder()
    a = umap_embedding(z, n_neighbors=10, random_state=7, n_epochs=60, progress=rec)
    b = umap_embedding(z, n_neighbors=10, random_state=7, n_epochs=60)
    return z, lab, a, b, rec


def test_umap_shape_separation_and_determinism(umap_runs):
    z, lab, a, b, _ = umap_runs
    assert a.shape == (300, 2) and a.dtype == np.float64 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)          # same random_state, same map
    assert _separated(a, lab) > 0.95
    c = umap_embedding(z, n_neighbors=10, random_state=8, n_epochs=60)
    assert not np.array_equal(a, c)


def test_umap_reports_epochs_and_the_final_layout(umap_runs):
    *_, a, _, rec = umap_runs
    epochs = [d for d, t, msg, _ in rec.seen if msg.startswith("UMAP epoch")]
    assert epochs and epochs == sorted(epochs) and max(epochs) < 60
    assert all(t == 60 for d, t, msg, _ in rec.seen if msg.startswith("UMAP epoch"))
    assert rec.seen[-1][:2] == (60, 60)
    (final,) = rec.embeddings()
    assert final["method"] == "UMAP" and final["final"] is True
    assert final["embedding"].shape == (300, 2) and final["embedding"].dtype == np.float32
    np.testing.assert_allclose(final["embedding"], a, rtol=1e-6)


class _Sink:
    def write(self, text):
        return len(text)

    def flush(self):
        pass


def test_umap_cancel_and_checks():
    z, _ = _blobs(n_per=40)
    rec = _Recorder(cancel_when=lambda done, metrics: done >= 5)
    with pytest.raises(Cancelled):
        umap_embedding(z, n_neighbors=10, n_epochs=200, progress=rec)
    assert max(d for d, *_ in rec.seen) < 200
    # the abandoned run must not leave tqdm's global lock held (a raise inside its write would):
    # a new progress bar in another thread is created at once
    import threading

    from tqdm import tqdm

    made = threading.Event()
    threading.Thread(target=lambda: (tqdm(range(2), disable=False, file=_Sink()).close(),
                                     made.set()), daemon=True).start()
    assert made.wait(30), "tqdm's lock is still held by the cancelled UMAP"
    with pytest.raises(InvalidInputError, match="at least 4"):
        umap_embedding(z[:3])
    with pytest.raises(InvalidInputError, match="min_dist"):
        umap_embedding(z, min_dist=-1)
    with pytest.raises(InvalidInputError, match="random_state"):
        umap_embedding(z, random_state=-2)


def test_umap_import_does_not_load_tensorflow():
    code = ("import sys; from latentexplorer.analysis.embedding import _import_umap; "
            "U = _import_umap(); assert U.__name__ == 'UMAP'; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow loaded'; "
            "import umap.parametric_umap  # still importable on demand (loads TensorFlow)\n"
            "print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-2000:]


# ------------------------------------------------------------------------------------ KMeans
def test_kmeans_inertia_elbow_and_cancel():
    z, _ = _blobs()
    k, inertia = kmeans_inertia(z, k_values=range(1, 7), random_state=0, n_init=1)
    assert k.tolist() == [1, 2, 3, 4, 5, 6]
    assert inertia[0] > inertia[1] > inertia[2]
    assert inertia[2] / inertia[1] < 0.5 and inertia[3] / inertia[2] > 0.6   # elbow at 3
    rep = ProgressReporter()
    rep.cancel()
    with pytest.raises(Cancelled):
        kmeans_inertia(z, k_values=[2, 3], progress=rep)
    with pytest.raises(InvalidInputError, match="exceeds"):
        kmeans_inertia(z[:5], k_values=[10])
