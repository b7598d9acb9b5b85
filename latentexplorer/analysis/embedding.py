"""2-D maps of the z-points: t-SNE (openTSNE) and UMAP (umap-learn); the KMeans inertia curve
(SPEC §4; its code is in :mod:`latentexplorer.analysis.kmeans`, re-exported here).

All of them report progress through a :class:`~latentexplorer.progress.ProgressReporter` and
stop with :class:`~latentexplorer.errors.Cancelled` when it is cancelled. The two maps also
send their layout while it forms: updates whose ``metrics`` are

``{"event": "embedding", "method": "t-SNE" | "UMAP", "embedding": ndarray (n_points, 2) float32,
"iteration": int, "n_iter": int, ...}``

(a copy the receiver may keep), so that a GUI can redraw the map every few iterations.
"""

from __future__ import annotations

import re
import sys
import threading
import warnings

import numpy as np

from ..errors import Cancelled, InvalidInputError
from ._validation import check_matrix, check_positive
from .kmeans import kmeans_inertia

__all__ = ["tsne_embedding", "umap_embedding", "kmeans_inertia", "EXACT_NEIGHBOURS_MAX_POINTS"]


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_jobs(n_jobs) -> int:
    if n_jobs == -1:
        return -1
    return _check_int(n_jobs, "n_jobs", 1)


def _cancellable(fn, progress, poll: float = 0.05, what: str = "t-SNE"):
    """``fn()``, but return at once (raising :class:`Cancelled`) when ``progress`` is cancelled.

    The neighbour searches and affinities (a minute or more for 200,000 points) have no
    callback; ``fn`` runs in a helper thread that the caller stops waiting for on cancel. The
    helper finishes its current phase in the background (t-SNE then stops at the first
    optimisation callback, which sees the cancel flag; UMAP runs to its end, as umap-learn
    offers no safe way to stop it) and its result is dropped.
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


def _pca_input(z, n_pca: int) -> np.ndarray:
    """``z`` reduced to ``min(n_pca, z_dim, n_points)`` principal components (0: unchanged)."""
    k = min(n_pca, z.shape[1], z.shape[0])
    if 0 < k < z.shape[1]:
        from .pca import LatentPCA
        return LatentPCA(n_components=k).fit(z).transform(z)
    return np.asarray(z, dtype=np.float64)


def _snapshot(method: str, embedding, iteration: int, n_iter: int, **extra) -> dict:
    """The ``metrics`` of an intermediate layout (a float32 copy: the optimiser moves on)."""
    return {"event": "embedding", "method": method,
            "embedding": np.array(embedding, dtype=np.float32, copy=True),
            "iteration": int(iteration), "n_iter": int(n_iter), **extra}


#: up to this many points ``tsne_embedding`` finds neighbours by exact (brute-force) search.
#: Measured on 50 dimensions, one thread: 1.5 s vs 7.0 s (Annoy) at 20,000 points, 7.4 s vs
#: 24 s at 50,000; exact's O(N²) would overtake Annoy's O(N log N) near 180,000.
EXACT_NEIGHBOURS_MAX_POINTS = 100_000


def tsne_embedding(z, *, n_pca: int = 50, perplexity: float = 30.0, random_state: int = 0,
                   n_iter: int = 500, early_exaggeration_iter: int = 250,
                   progress=None, callbacks_every_iters: int = 25, n_jobs: int = -1,
                   neighbors: str = "auto") -> np.ndarray:
    """2-D t-SNE embedding of the points (openTSNE, FFT-accelerated gradients).

    The points are first reduced by PCA to ``min(n_pca, z_dim, n_points)`` components. Then
    openTSNE finds each point's ``3 * perplexity`` nearest neighbours, turns them into
    affinities, starts from the (rescaled) PCA layout and optimises in two phases. 200,000
    points take about 5 minutes on two cores (docs/performance.md, row ``tsne_200k``).

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim), n_points >= 4
    n_pca : int, keyword-only
        PCA components before t-SNE (0 = no PCA).
    perplexity : float, keyword-only
        Reduced automatically to ``(n_points − 1) / 3`` for tiny data sets.
    random_state : int, keyword-only
        Seed of the PCA initialisation and the approximate neighbour search.
    n_iter, early_exaggeration_iter : int, keyword-only
        Iterations of the two optimisation phases.
    progress : ProgressReporter, optional, keyword-only
        Phase messages while the neighbours are searched, then ``update(iteration, total,
        message, metrics)`` every ``callbacks_every_iters`` iterations (and once for the
        initial layout, iteration 0) with ``metrics = {"event": "embedding", "method":
        "t-SNE", "embedding": (n_points, 2) float32, "iteration", "n_iter", "kl_divergence"
        (None for the initial layout), "exaggeration"}``. Cancelling stops the optimisation and
        raises :class:`Cancelled`.
    callbacks_every_iters : int, keyword-only
        Iterations between two progress updates (each carries a copy of the layout).
    n_jobs : int, keyword-only
        Threads for openTSNE (-1: all cores).
    neighbors : {"auto", "exact", "approx"}, keyword-only
        How the perplexity neighbours are found. ``"approx"`` is Annoy (random projection
        trees, openTSNE's default); ``"auto"`` searches exactly up to
        :data:`EXACT_NEIGHBOURS_MAX_POINTS` points (exact, and faster there: 7.4 s against
        24 s for Annoy on 50,000 x 50) and approximately above.

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
    n_jobs = _check_jobs(n_jobs)
    if neighbors not in ("auto", "exact", "approx"):
        raise InvalidInputError(f"neighbors: expected 'auto', 'exact' or 'approx', got {neighbors!r}")
    n = z.shape[0]
    if neighbors == "auto":
        neighbors = "exact" if n <= EXACT_NEIGHBOURS_MAX_POINTS else "approx"
    total = early_exaggeration_iter + n_iter
    if progress is not None:
        progress.raise_if_cancelled()
        progress.update(0, total, "t-SNE: PCA")
    x = _pca_input(z, n_pca)
    perplexity = min(perplexity, max((n - 1) / 3.0, 1.0))
    phase = {"offset": 0, "exaggeration": None}

    def callback(iteration, error, embedding):
        if progress is None:
            return False
        if progress.cancelled:  # no more updates once cancelled (the task may be gone)
            return True
        done = min(phase["offset"] + iteration, total)
        progress.update(done, total, f"t-SNE iteration {done}/{total}",
                        _snapshot("t-SNE", embedding, done, total, kl_divergence=float(error),
                                  exaggeration=phase["exaggeration"]))
        return progress.cancelled

    tsne = TSNE(n_components=2, perplexity=perplexity, n_iter=n_iter,
                early_exaggeration_iter=early_exaggeration_iter, random_state=random_state,
                neighbors="exact" if neighbors == "exact" else "annoy",
                n_jobs=n_jobs, callbacks=callback if progress is not None else None,
                callbacks_every_iters=every, verbose=False)

    def run():
        # TSNE.fit, phase by phase, to report the neighbour search and the initial layout
        if progress is not None:
            how = "exact" if neighbors == "exact" else "approximate (Annoy)"
            progress.update(0, total, f"t-SNE: {how} nearest neighbours of {n:,} points and "
                                      "affinities")
        emb = tsne.prepare_initial(x)
        if progress is not None:
            progress.raise_if_cancelled()
            progress.update(0, total, "t-SNE: initial layout",
                            _snapshot("t-SNE", emb, 0, total, kl_divergence=None,
                                      exaggeration=tsne.early_exaggeration))
        phase.update(offset=0, exaggeration=float(tsne.early_exaggeration))
        emb.optimize(n_iter=early_exaggeration_iter, exaggeration=tsne.early_exaggeration,
                     momentum=tsne.initial_momentum, inplace=True, propagate_exception=True)
        phase.update(offset=early_exaggeration_iter,
                     exaggeration=float(tsne.exaggeration or 1.0))
        emb.optimize(n_iter=n_iter, exaggeration=tsne.exaggeration,
                     momentum=tsne.final_momentum, inplace=True, propagate_exception=True)
        return emb

    try:
        emb = _cancellable(run, progress)
    except OptimizationInterrupt:
        raise Cancelled("t-SNE cancelled by the user") from None
    emb = np.asarray(emb, dtype=np.float64)
    if progress is not None:
        progress.raise_if_cancelled()
        progress.update(total, total, "t-SNE done", _snapshot("t-SNE", emb, total, total,
                                                              final=True))
    return emb


# ------------------------------------------------------------------------------------- UMAP
def _import_umap():
    """``umap.UMAP`` without loading TensorFlow.

    ``import umap`` also imports its optional ``ParametricUMAP``, which loads TensorFlow (6 s,
    and :mod:`latentexplorer.analysis` must not load it). umap-learn falls back by design when
    that import fails (as on installs without TensorFlow), so the submodule is marked as
    unavailable (``sys.modules[name] = None``) while ``umap`` is first imported, then unmarked.
    """
    name = "umap.parametric_umap"
    if "umap" not in sys.modules and "tensorflow" not in sys.modules and name not in sys.modules:
        sys.modules[name] = None  # type: ignore[assignment]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ImportWarning)
                import umap  # noqa: F401
        finally:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    from umap import UMAP
    return UMAP


_EPOCHS = re.compile(r"epochs:(\d+)/(\d+)")

#: one UMAP at a time in a process. umap-learn and pynndescent run numba-parallel kernels, and
#: numba's default (workqueue) thread layer deadlocks when two threads enter them at once — which
#: would happen when a cancelled UMAP still finishing in the background (see ``_cancellable``)
#: meets the next one. The next one waits for it instead.
_UMAP_RUNNING = threading.Lock()


class _EpochStream:
    """The file umap-learn's tqdm epoch bar writes to: each write is one epoch count
    (``bar_format`` below), which it reports."""

    BAR_FORMAT = "epochs:{n}/{total}"

    def __init__(self, on_epoch) -> None:
        self.on_epoch = on_epoch

    def write(self, text: str) -> int:
        found = _EPOCHS.findall(text)
        if found:
            self.on_epoch(int(found[-1][0]), int(found[-1][1]))
        return len(text)

    def flush(self) -> None:
        pass


def umap_embedding(z, *, n_pca: int = 50, n_neighbors: int = 15, min_dist: float = 0.1,
                   random_state: int | None = 0, n_epochs: int | None = None, progress=None,
                   n_jobs: int = -1) -> np.ndarray:
    """2-D UMAP embedding of the points (umap-learn), the second map next to t-SNE.

    The points are first reduced by PCA to ``min(n_pca, z_dim, n_points)`` components; UMAP
    then builds the fuzzy graph of each point's ``n_neighbors`` approximate nearest
    neighbours (NN-descent), starts from its spectral layout and runs ``n_epochs`` of
    stochastic gradient descent. It keeps more of the global arrangement than t-SNE and is
    faster at this size (docs/performance.md, row ``umap_200k``).

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim), n_points >= 4
    n_pca : int, keyword-only
        PCA components before UMAP (0 = no PCA).
    n_neighbors : int, keyword-only
        Size of the local neighbourhood (reduced to ``n_points − 1`` for tiny data sets).
    min_dist : float, keyword-only
        How tightly points may pack in the map (>= 0).
    random_state : int or None, keyword-only
        Seed: the same seed gives the same map. umap-learn then runs its optimisation on one
        thread; ``None`` lets it use ``n_jobs`` threads, with a map that varies between runs.
    n_epochs : int or None, keyword-only
        Optimisation epochs (None: umap-learn's default, 200 above 10,000 points, else 500).
    progress : ProgressReporter, optional, keyword-only
        Phase messages during the neighbour graph and the spectral layout, then one update
        per epoch; the final one carries ``metrics = {"event": "embedding", "method": "UMAP",
        "embedding": (n_points, 2) float32, "iteration", "n_iter", "final": True}``
        (umap-learn exposes no layout between epochs). Cancelling raises :class:`Cancelled`
        at once; the abandoned run finishes in the background without reporting.
    n_jobs : int, keyword-only
        Threads when ``random_state`` is None (-1: all cores).

    Returns
    -------
    embedding : ndarray of shape (n_points, 2), float64
    """
    z = check_matrix(z, min_rows=4)
    n_pca = _check_int(n_pca, "n_pca", 0)
    n_neighbors = _check_int(n_neighbors, "n_neighbors", 2)
    try:
        min_dist = float(min_dist)
    except (TypeError, ValueError):
        raise InvalidInputError(f"min_dist: expected a number >= 0, got {min_dist!r}") from None
    if not (np.isfinite(min_dist) and min_dist >= 0):
        raise InvalidInputError(f"min_dist: expected a number >= 0, got {min_dist!r}")
    if random_state is not None:
        random_state = _check_int(random_state, "random_state", 0)
    if n_epochs is not None:
        n_epochs = _check_int(n_epochs, "n_epochs", 1)
    n_jobs = _check_jobs(n_jobs)
    n = z.shape[0]
    expected = n_epochs if n_epochs is not None else (200 if n > 10_000 else 500)
    if progress is not None:
        progress.raise_if_cancelled()
        progress.update(0, expected, "UMAP: PCA")
    x = _pca_input(z, n_pca).astype(np.float32)
    UMAP = _import_umap()
    state = {"total": expected}

    def on_epoch(done: int, total: int) -> None:
        if progress is None:
            return
        if progress.cancelled:
            # never raise here: tqdm calls this write between its lock's acquire() and release()
            # without try/finally, so an exception would leave tqdm's global lock held and hang
            # every later progress bar in the process. The abandoned run finishes in the
            # background (its result is dropped; the next UMAP waits for it, see _UMAP_RUNNING).
            return
        state["total"] = total
        if done < total:
            progress.update(done, total, f"UMAP epoch {done}/{total}")

    stream = _EpochStream(on_epoch)
    model = UMAP(n_components=2, n_neighbors=min(n_neighbors, n - 1), min_dist=min_dist,
                 n_epochs=n_epochs, random_state=random_state,
                 n_jobs=1 if random_state is not None else n_jobs, low_memory=True,
                 verbose=False,
                 tqdm_kwds={"disable": progress is None, "file": stream, "mininterval": 0.0,
                            "miniters": 1, "bar_format": _EpochStream.BAR_FORMAT,
                            "desc": "epochs", "leave": False, "ascii": True})

    def run():
        if progress is not None:
            progress.update(0, expected, f"UMAP: nearest-neighbour graph of {n:,} points and "
                                         "spectral layout")
        with warnings.catch_warnings():
            # "n_jobs overridden to 1 by setting random_state" (we set it so), and numba's
            # notes about its thread layer
            warnings.filterwarnings("ignore", message=".*n_jobs.*")
            warnings.filterwarnings("ignore", category=UserWarning, module="umap")
            with _UMAP_RUNNING:
                return model.fit_transform(x)

    emb = np.asarray(_cancellable(run, progress, what="UMAP"), dtype=np.float64)
    if progress is not None:
        progress.raise_if_cancelled()
        total = state["total"]
        progress.update(total, total, "UMAP done",
                        _snapshot("UMAP", emb, total, total, final=True))
    return emb
