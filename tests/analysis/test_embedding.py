import numpy as np
import pytest

from latentexplorer.analysis.embedding import kmeans_inertia, tsne_embedding
from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.progress import ProgressReporter


def _blobs(n_per=60, d=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, size=(3, d))
    z = np.concatenate([c + rng.normal(size=(n_per, d)) for c in centres])
    return z.astype(np.float32), np.repeat(np.arange(3), n_per)


def test_tsne_separates_blobs_and_reports_progress():
    z, lab = _blobs()
    seen = []
    emb = tsne_embedding(z, n_pca=5, perplexity=15, n_iter=100, early_exaggeration_iter=50,
                         callbacks_every_iters=25,
                         progress=ProgressReporter(lambda d, t, m: seen.append((d, t))))
    assert emb.shape == (180, 2) and np.isfinite(emb).all()
    assert seen[-1] == (150, 150) and len(seen) >= 6
    # each blob's points are closer to their own centre than to the others
    cents = np.array([emb[lab == k].mean(axis=0) for k in range(3)])
    nearest = np.argmin(((emb[:, None] - cents[None]) ** 2).sum(-1), axis=1)
    assert (nearest == lab).mean() > 0.95


@pytest.mark.parametrize("neighbors", ["exact", "approx"])
def test_tsne_neighbour_search_methods_both_separate_blobs(neighbors):
    z, lab = _blobs(n_per=200)
    emb = tsne_embedding(z, n_pca=0, perplexity=30, n_iter=150, early_exaggeration_iter=100,
                         neighbors=neighbors)
    cents = np.array([emb[lab == k].mean(axis=0) for k in range(3)])
    nearest = np.argmin(((emb[:, None] - cents[None]) ** 2).sum(-1), axis=1)
    assert (nearest == lab).mean() > 0.95
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


def test_tsne_cancel():
    z, _ = _blobs(n_per=30)
    rep = ProgressReporter(lambda d, t, m: rep.cancel() if d >= 25 else None)
    with pytest.raises(Cancelled):
        tsne_embedding(z, n_iter=100, early_exaggeration_iter=50, callbacks_every_iters=25,
                       progress=rep)
    with pytest.raises(InvalidInputError, match="at least 4"):
        tsne_embedding(z[:3])


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
