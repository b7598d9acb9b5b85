"""t-SNE embedding (openTSNE) and the KMeans inertia curve (SPEC §4).

Both report progress through a :class:`~latentexplorer.progress.ProgressReporter` and stop
with :class:`~latentexplorer.errors.Cancelled` when it is cancelled.
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import Cancelled, InvalidInputError
from ._validation import check_matrix, check_positive

__all__ = ["tsne_embedding", "kmeans_inertia"]


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _cancellable(fn, progress, poll: float = 0.05, what: str = "t-SNE"):
    """``fn()``, but return at once (raising :class:`Cancelled`) when ``progress`` is cancelled.

    openTSNE's neighbour search and affinities (seconds to a minute for 20,000 points) and one
    KMeans fit have no callback; ``fn`` runs in a helper thread that the caller stops waiting for
    on cancel. The helper finishes its current phase in the background (t-SNE then stops at the
    first optimisation callback, which sees the cancel flag) and its result is dropped.
    """
    if progress is None:
        return fn()
    out: dict = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the caller's thread
            out["error"] = exc

    helper = threading.Thread(target=run, name=what, daemon=True)
    helper.start()
    while helper.is_alive():
        helper.join(poll)
        if progress.cancelled and helper.is_alive():
            raise Cancelled(f"{what} cancelled by the user")
    if "error" in out:
        raise out["error"]
    return out["value"]


#: up to this many points ``tsne_embedding`` finds neighbours by exact (brute-force) search.
#: Measured on 50 dimensions, one thread: 1.5 s vs 7.0 s (Annoy) at 20,000 points, 7.4 s vs
#: 24 s at 50,000; exact's O(N²) would overtake Annoy's O(N log N) near 180,000.
EXACT_NEIGHBOURS_MAX_POINTS = 100_000


def tsne_embedding(z, *, n_pca: int = 50, perplexity: float = 30.0, random_state: int = 0,
                   n_iter: int = 500, early_exaggeration_iter: int = 250,
                   progress=None, callbacks_every_iters: int = 25, n_jobs: int = 1,
                   neighbors: str = "auto") -> np.ndarray:
    """2-D t-SNE embedding of the points (openTSNE, FFT-accelerated for large N).

    The points are first reduced by PCA to ``min(n_pca, z_dim, n_points)`` components.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim), n_points >= 4
    n_pca : int, keyword-only
        PCA components before t-SNE (0 = no PCA).
    perplexity : float, keyword-only
        Reduced automatically to ``(n_points − 1) / 3`` for tiny data sets.
    random_state : int, keyword-only
    n_iter, early_exaggeration_iter : int, keyword-only
        Iterations of the two optimisation phases.
    progress : ProgressReporter, optional, keyword-only
        ``update(iteration, total, "t-SNE ...")`` every ``callbacks_every_iters`` iterations;
        cancelling stops the optimisation and raises :class:`Cancelled`.
    n_jobs : int, keyword-only
        Threads for openTSNE.
    neighbors : {"auto", "exact", "approx"}, keyword-only
        How the perplexity neighbours are found. ``"auto"`` searches exactly up to
        :data:`EXACT_NEIGHBOURS_MAX_POINTS` points (exact, and faster there:
        7.4 s against 24 s for Annoy on 50,000 x 50) and with Annoy's approximate search above.

    Returns
    -------
    embedding : ndarray of shape (n_points, 2), float64
    """
    from openTSNE import TSNE
    from openTSNE.tsne import OptimizationInterrupt

    z = check_matrix(z, min_rows=4)
    n_pca = _check_int(n_pca, "n_pca", 0)
    perplexity = check_positive(perplexity, "perplexity")
    n_iter = _check_int(n_iter, "n_iter", 1)
    early_exaggeration_iter = _check_int(early_exaggeration_iter, "early_exaggeration_iter", 0)
    every = _check_int(callbacks_every_iters, "callbacks_every_iters", 1)
    n_jobs = _check_int(n_jobs, "n_jobs", 1) if n_jobs != -1 else -1
    if neighbors not in ("auto", "exact", "approx"):
        raise InvalidInputError(f"neighbors: expected 'auto', 'exact' or 'approx', got {neighbors!r}")
    n = z.shape[0]
    if neighbors == "auto":
        neighbors = "exact" if n <= EXACT_NEIGHBOURS_MAX_POINTS else "approx"
    total = early_exaggeration_iter + n_iter
    if progress is not None:
        progress.raise_if_cancelled()
        progress.update(0, total, "t-SNE: PCA and neighbours")
    k = min(n_pca, z.shape[1], n)
    if 0 < k < z.shape[1]:
        from .pca import LatentPCA
        x = LatentPCA(n_components=k).fit(z).transform(z)
    else:
        x = np.asarray(z, dtype=np.float64)
    perplexity = min(perplexity, max((n - 1) / 3.0, 1.0))
    state = {"phase_offset": 0, "last": 0}

    def callback(iteration, error, embedding):
        done = state["phase_offset"] + iteration
        if iteration < state["last"]:            # second phase restarted the counter
            state["phase_offset"] = early_exaggeration_iter
            done = early_exaggeration_iter + iteration
        state["last"] = iteration
        if progress is None:
            return False
        if progress.cancelled:  # no more updates once cancelled (the task may be gone)
            return True
        progress.update(min(done, total), total, f"t-SNE iteration {done}/{total}")
        return progress.cancelled

    tsne = TSNE(n_components=2, perplexity=perplexity, n_iter=n_iter,
                early_exaggeration_iter=early_exaggeration_iter, random_state=random_state,
                neighbors="exact" if neighbors == "exact" else "annoy",
                n_jobs=n_jobs, callbacks=callback if progress is not None else None,
                callbacks_every_iters=every, verbose=False)
    try:
        emb = _cancellable(lambda: tsne.fit(x), progress)
    except OptimizationInterrupt:
        raise Cancelled("t-SNE cancelled by the user") from None
    if progress is not None:
        progress.raise_if_cancelled()
        progress.update(total, total, "t-SNE done")
    return np.asarray(emb, dtype=np.float64)


def kmeans_inertia(z, *, k_values=range(2, 81), random_state: int = 0, batch_size: int = 2048,
                   n_init: int = 3, max_points: int | None = None, progress=None):
    """KMeans inertia for a range of cluster counts (MiniBatchKMeans), to look for an elbow.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
    k_values : iterable of int, keyword-only
        Cluster counts (each ``2 <= k <= n_points``); default 2 … 80.
    random_state : int, keyword-only
    batch_size, n_init : int, keyword-only
        MiniBatchKMeans settings.
    max_points : int or None, keyword-only
        Fit on a random subset of this many points (seeded) to save time; ``None`` = all.
    progress : ProgressReporter, optional, keyword-only
        One update per k; cancellable between fits.

    Returns
    -------
    k : ndarray of shape (n_k,), int64
    inertia : ndarray of shape (n_k,), float64
        Sum of squared distances of the points to their nearest centre (on all used points).
    """
    from sklearn.cluster import MiniBatchKMeans

    z = check_matrix(z, min_rows=2)
    ks = np.array(sorted({int(k) for k in k_values}), dtype=np.int64)
    if ks.size == 0:
        raise InvalidInputError("k_values: at least one cluster count is needed")
    if ks[0] < 1:
        raise InvalidInputError(f"k_values: cluster counts must be >= 1, got {ks[0]}")
    x = z
    if max_points is not None:
        max_points = _check_int(max_points, "max_points", 2)
        if max_points < z.shape[0]:
            rng = np.random.default_rng(random_state)
            x = z[np.sort(rng.choice(z.shape[0], size=max_points, replace=False))]
    if ks[-1] > x.shape[0]:
        raise InvalidInputError(
            f"k_values: k={ks[-1]} exceeds the number of points ({x.shape[0]})")
    x = np.asarray(x, dtype=np.float32 if x.dtype == np.float32 else np.float64)
    inertia = np.empty(ks.size)
    for idx, k in enumerate(ks):
        if progress is not None:
            progress.raise_if_cancelled()
            progress.update(idx, ks.size, f"KMeans k={k}")
        km = MiniBatchKMeans(n_clusters=int(k), random_state=random_state,
                             batch_size=batch_size, n_init=n_init)
        # one fit of a large k takes seconds: wait for it in a cancellable way
        _cancellable(lambda: km.fit(x), progress, what="KMeans")
        # inertia on all used points (MiniBatchKMeans.inertia_ is already that)
        inertia[idx] = float(km.inertia_)
    if progress is not None:
        progress.update(ks.size, ks.size, "KMeans done")
    return ks, inertia
