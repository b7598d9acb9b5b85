"""``AppState``: the one application-state object of the explorer.

Widgets never talk to each other; they read this object and observe its signals:

=====================  ======================================================================
signal                 emitted when
=====================  ======================================================================
``workspaceChanged``   a workspace was opened/closed (``workspace``, ``dataset``, ``decoder``)
``latentsChanged``     new z-points (``z``, ``attributes``); the plane cache is dropped
``analysisChanged``    ``pca`` / ``stats`` arrived (they are computed in a worker)
``decoderChanged``     ``decoder`` was set or replaced (e.g. after a training epoch)
``planeChanged``       ``plane`` changed (the path is cleared, ellipses recomputed)
``currentChanged``     ``current`` (the z-vector shown in the face view) changed
``overlayChanged``     ``sigma_level`` or ``fact`` changed (ellipses only)
``sharpenChanged``     ``sharpen`` changed (re-render only, no re-decode needed)
``samplesChanged``     ``samples`` / ``sample_info`` changed
``pathChanged``        ``path_points`` changed
``colorByChanged``     ``color_by`` changed
``busyChanged(bool)``  a background task started / all tasks ended
=====================  ======================================================================

Coordinates: a *plane* is ``("latent", i, j)`` (components i and j of z) or ``("pca", i, j)``
(PCA axes i and j of the z-points, 0-based). :meth:`AppState.plane_coords` projects vectors on
the plane; :meth:`AppState.set_plane_point` moves the current vector in the plane, keeping all
of its other coordinates (in a PCA plane all other PCA coordinates *and* the part outside the
PCA subspace are kept: ``c + inverse_transform(d) - inverse_transform(0)``).

Heavy work (PCA on 200k x 256 points, component statistics, loading latents and the decoder) is
done in :class:`~latentexplorer.gui.workers.TaskRunner` jobs when a runner is given; without one
(tests, scripts) it runs synchronously.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..analysis.ellipse import Ellipse, confidence_ellipse
from ..errors import InvalidInputError
from ..progress import ProgressReporter

log = logging.getLogger(__name__)

PLANE_KINDS = ("latent", "pca")
GUI_STATE_VERSION = 1
#: points used for fitting the PCA / statistics when there are more (the fit is then ~1 s)
ANALYSIS_MAX_POINTS = 200_000
#: PCA components kept for the explorer (planes, Mahalanobis distance)
PCA_MAX_COMPONENTS = 256


# ------------------------------------------------------------------------------------------------
# Qt-free computations (run in workers)
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnalysisTask:
    """Parameters of :func:`compute_analysis`."""

    z: np.ndarray
    n_components: int = PCA_MAX_COMPONENTS
    max_points: int = ANALYSIS_MAX_POINTS
    seed: int = 0


def _fit_pca(z: np.ndarray, n_components: int, seed: int):
    try:
        from ..analysis.pca import LatentPCA  # the project's PCA (analysis issue)
    except ImportError:
        LatentPCA = None
    n_components = int(min(n_components, z.shape[1], max(z.shape[0] - 1, 1)))
    if LatentPCA is not None:
        return LatentPCA(n_components=n_components, random_state=seed).fit(z)
    from sklearn.decomposition import PCA  # fallback until analysis/pca.py exists

    return PCA(n_components=n_components, svd_solver="full", random_state=seed).fit(z)


def compute_stats(z: np.ndarray) -> dict[str, Any]:
    """Per-component statistics for the explorer.

    Returns a dict with ``mu`` (z_dim,), ``std`` (z_dim,), ``half_width`` (z_dim,; FWHM of the
    component distribution), ``dominant`` (list of int, widest first; SPEC thresholds |mu| >= 0.25
    or half-width >= 1.5) and ``component_stats`` (the
    :class:`~latentexplorer.analysis.statistics.ComponentStats`, or ``None`` without that module).
    """
    z = np.asarray(z)
    mean = z.mean(axis=0, dtype=np.float64)
    std = z.std(axis=0, dtype=np.float64)
    out: dict[str, Any] = {"mu": mean, "std": std, "half_width": 2.3548 * std,
                           "dominant": [], "component_stats": None}
    try:
        from ..analysis.statistics import component_stats, dominant_components
    except ImportError:
        component_stats = None
    if component_stats is not None:
        cs = component_stats(z)
        out.update(mu=np.asarray(cs.mu, np.float64), std=np.asarray(cs.std, np.float64),
                   half_width=np.asarray(cs.half_width, np.float64), component_stats=cs)
        idx = np.asarray(dominant_components(cs), dtype=np.int64)
    else:
        mu, hw = out["mu"], out["half_width"]
        idx = np.flatnonzero((np.abs(mu) >= 0.25) | (hw >= 1.5))
    hw = out["half_width"]
    out["dominant"] = [int(i) for i in idx[np.argsort(-hw[idx], kind="stable")]]
    return out


def compute_analysis(task: AnalysisTask, reporter: ProgressReporter | None = None) -> dict:
    """Fit the PCA and the component statistics of ``task.z`` (worker function).

    For more than ``task.max_points`` points a seeded random subset is used.
    Returns ``{"pca": fitted PCA, "stats": dict (see :func:`compute_stats`), "pca_coords":
    (k, n) float32 coordinates of all points on the k <= 32 leading axes, "nearest":
    NearestIndex}``.
    """
    reporter = reporter or ProgressReporter()
    z = task.z
    if z.shape[0] > task.max_points:
        rng = np.random.default_rng(task.seed)
        idx = np.sort(rng.choice(z.shape[0], task.max_points, replace=False))
        z = z[idx]
    reporter.update(0, 4, "fitting PCA")
    reporter.raise_if_cancelled()
    pca = _fit_pca(np.asarray(z, dtype=np.float32), task.n_components, task.seed)
    reporter.update(1, 4, "projecting on the leading PCA axes")
    reporter.raise_if_cancelled()
    coords = pca_leading_coords(task.z, pca)
    reporter.update(2, 4, "nearest-neighbour index")
    reporter.raise_if_cancelled()
    nearest = NearestIndex(task.z, pca=pca, coords=coords)
    reporter.update(3, 4, "component statistics")
    reporter.raise_if_cancelled()
    stats = compute_stats(z)
    reporter.update(4, 4, "statistics ready")
    return {"pca": pca, "stats": stats, "pca_coords": coords, "nearest": nearest}


#: leading PCA axes whose coordinates of all points are precomputed (plane switch = a copy)
PCA_CACHED_AXES = 32


def pca_leading_coords(z: np.ndarray, pca, k: int = PCA_CACHED_AXES,
                       chunk_rows: int = 16384) -> np.ndarray:
    """Coordinates (k, n) float32 (row per axis, contiguous) of all z on the k leading axes."""
    mean, comps, _ = pca_axes(pca)
    k = int(min(k, comps.shape[0]))
    w = np.ascontiguousarray(comps[:k].T, dtype=np.float32)  # (d, k)
    off = (mean @ comps[:k].T).astype(np.float32)
    out = np.empty((k, z.shape[0]), np.float32)
    for s in range(0, z.shape[0], chunk_rows):
        block = np.asarray(z[s:s + chunk_rows], dtype=np.float32)
        out[:, s:s + len(block)] = (block @ w - off).T
    return out


class NearestIndex:
    """Exact nearest data point (Euclidean, in z-space) in a few milliseconds for 200k points.

    The points' coordinates on the k leading PCA axes and the norms of their residuals (the
    part outside those axes) are stored. For a query ``v`` the squared distance to point i is
    ``|c_i - c_v|^2 + |r_i - r_v|^2 >= |c_i - c_v|^2 + (|r_i| - |r_v|)^2`` (a lower bound
    from k-dimensional data only). Candidates are taken in order of that bound and checked
    exactly until the best exact distance is below the next bound -- exact, but touching only
    a few hundred of the 256-dimensional rows. Without a PCA (or for few points) it is a
    brute-force scan.
    """

    BRUTE_FORCE_MAX = 20_000

    def __init__(self, z: np.ndarray, pca=None, coords: np.ndarray | None = None) -> None:
        self.z = z
        self.n = int(z.shape[0])
        self._sq = None
        self.coords = None
        if pca is None or self.n <= self.BRUTE_FORCE_MAX:
            zz = np.asarray(z, dtype=np.float32)
            self._sq = np.einsum("ij,ij->i", zz, zz)
            return
        mean, comps, _ = pca_axes(pca)
        if coords is None:
            coords = pca_leading_coords(z, pca)
        k = coords.shape[0]
        self._mean = mean.astype(np.float32)
        self._w = np.ascontiguousarray(comps[:k].T, dtype=np.float32)
        self.coords = np.ascontiguousarray(coords.T)  # (n, k)
        self._csq = np.einsum("ij,ij->i", self.coords, self.coords)
        tot = np.empty(self.n, np.float32)
        for s in range(0, self.n, 16384):
            d = np.asarray(z[s:s + 16384], dtype=np.float32) - self._mean
            tot[s:s + len(d)] = np.einsum("ij,ij->i", d, d)
        self._rnorm = np.sqrt(np.maximum(tot - self._csq, 0.0))

    def query(self, v: np.ndarray) -> tuple[int, float]:
        """(index, Euclidean distance) of the data point nearest to ``v`` (z_dim,)."""
        v = np.asarray(v, dtype=np.float32).reshape(-1)
        if self.coords is None:
            d2 = self._sq - 2.0 * (np.asarray(self.z, dtype=np.float32) @ v)
            # the expansion loses precision near 0: re-rank the best few exactly
            k = min(8, self.n)
            cand = np.argpartition(d2, k - 1)[:k] if k < self.n else np.arange(self.n)
            diff = np.asarray(self.z[np.sort(cand)], dtype=np.float64) - v
            exact = np.einsum("ij,ij->i", diff, diff)
            j = int(np.argmin(exact))
            return int(np.sort(cand)[j]), float(np.sqrt(exact[j]))
        dv = v - self._mean
        cv = dv @ self._w
        rv = float(np.sqrt(max(float(dv @ dv) - float(cv @ cv), 0.0)))
        bound = self._csq - 2.0 * (self.coords @ cv) + float(cv @ cv) + (self._rnorm - rv) ** 2
        best_i, best_d2 = -1, np.inf
        m = 64
        order = None
        while True:
            m = min(m, self.n)
            if order is None or len(order) < m:
                part = np.argpartition(bound, m - 1)[:m] if m < self.n else np.arange(self.n)
                order = part[np.argsort(bound[part])]
            cand = order
            d = np.asarray(self.z[np.sort(cand)], dtype=np.float64) - v
            d2 = np.einsum("ij,ij->i", d, d)
            j = int(np.argmin(d2))
            best_i, best_d2 = int(np.sort(cand)[j]), float(d2[j])
            if m >= self.n:
                break
            rest_min = float(np.partition(bound, m)[m])  # (m+1)-th smallest bound
            if best_d2 <= rest_min - 1e-5 * abs(rest_min):  # margin for float32 round-off
                break
            m *= 4
        return best_i, float(np.sqrt(max(best_d2, 0.0)))


def pca_axes(pca) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean (d,), components (k, d), std (k,))`` of a fitted PCA (float64).

    Works with scikit-learn's ``PCA`` and with ``LatentPCA`` (``mean_``, ``components_``,
    ``explained_variance_``); whitening is not supported (the explorer's PCA never whitens).
    """
    mean = np.asarray(pca.mean_, dtype=np.float64)
    comps = np.asarray(pca.components_, dtype=np.float64)
    var = np.asarray(getattr(pca, "explained_variance_", np.ones(comps.shape[0])), dtype=np.float64)
    return mean, comps, np.sqrt(np.maximum(var, 0.0))


def resample_polyline(points: np.ndarray, n: int) -> np.ndarray:
    """``n`` points equally spaced by arc length along the polyline ``points`` (k, 2)."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) == 0 or n < 1:
        return np.zeros((0, 2))
    if len(pts) == 1 or n == 1:
        return np.repeat(pts[:1], n, axis=0)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return np.repeat(pts[:1], n, axis=0)
    target = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(target, s, pts[:, 0]), np.interp(target, s, pts[:, 1])], axis=1)


# ------------------------------------------------------------------------------------------------
class AppState(QObject):
    """The application state (see the module docstring).

    Parameters
    ----------
    runner : TaskRunner, optional
        Runs heavy work (PCA, statistics, loading) in the background. Without it that work is
        done synchronously in the calling thread.
    """

    workspaceChanged = Signal()
    latentsChanged = Signal()
    analysisChanged = Signal()
    decoderChanged = Signal()
    planeChanged = Signal()
    currentChanged = Signal()
    overlayChanged = Signal()
    sharpenChanged = Signal()
    samplesChanged = Signal()
    pathChanged = Signal()
    colorByChanged = Signal()
    busyChanged = Signal(bool)
    errorOccurred = Signal(str)

    def __init__(self, runner=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.workspace = None
        self.dataset = None  # DatasetStore of the workspace (thumbnails, attributes)
        self.decoder = None  # latentexplorer.render.decode.Decoder
        self._fingerprint_cache: tuple[Any, str] | None = None  # (decoder, its fingerprint)
        self.z: np.ndarray | None = None
        self.latents_meta = None  # LatentsMeta of the loaded z-points (weights, store they came from)
        self.attributes: np.ndarray | None = None
        self.attribute_names: list[str] = []
        self.pca = None
        self.stats: dict | None = None
        self.plane: tuple[str, int, int] = ("latent", 0, 1)
        self.current: np.ndarray | None = None
        self.current_index: int | None = None  # data point whose z-vector is current, if any
        self.sigma_level = 2.0
        self.fact = 0.7
        self.sharpen = 0.0
        self.samples: np.ndarray | None = None
        self.sample_info: dict = {}
        self.path_points: np.ndarray | None = None
        # an attribute-direction path instead of a plane path: (name, t values, unit direction)
        self.attribute_path: tuple[str, np.ndarray, np.ndarray] | None = None
        self.color_by: str | None = "density"
        self.busy = False
        self._pending_plane: tuple[str, int, int] | None = None
        self._plane_cache: tuple[tuple, np.ndarray] | None = None
        self._ellipse_cache: tuple[tuple, tuple[np.ndarray, np.ndarray]] | None = None
        self._pca_axes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._pca_inv_cov: np.ndarray | None = None
        self.pca_coords: np.ndarray | None = None  # (k, n) leading PCA coordinates of all z
        self.nearest: NearestIndex | None = None
        if runner is not None:
            runner.busyChanged.connect(self.set_busy)

    # -------------------------------------------------------------------------------- basics
    @property
    def z_dim(self) -> int:
        if self.z is not None:
            return int(self.z.shape[1])
        if self.current is not None:
            return int(self.current.shape[0])
        return 0

    @property
    def n_points(self) -> int:
        return 0 if self.z is None else int(self.z.shape[0])

    @property
    def n_pca(self) -> int:
        return 0 if self._pca_axes is None else int(self._pca_axes[1].shape[0])

    def set_busy(self, busy: bool) -> None:
        busy = bool(busy)
        if busy != self.busy:
            self.busy = busy
            self.busyChanged.emit(busy)

    # ---------------------------------------------------------------------------- workspace
    def load_workspace(self, ws) -> None:
        """Make ``ws`` (a :class:`~latentexplorer.workspace.Workspace`) the current workspace.

        Its dataset store is opened here (memory-mapped, fast); latents, decoder, PCA and
        statistics are loaded in a background job ``"load"`` (synchronously without a runner).
        The saved ``gui_state.json`` is applied once the data is there.
        """
        self.workspace = ws
        self.dataset = None
        self.decoder = None
        try:
            self.dataset = ws.dataset()
        except Exception as exc:  # noqa: BLE001 -- data folder moved: explorer still usable
            log.warning("dataset of %s not available: %s", getattr(ws, "path", ws), exc)
        saved = None
        try:
            saved = ws.read_gui_state() if hasattr(ws, "read_gui_state") else None
        except Exception as exc:  # noqa: BLE001
            log.warning("gui_state.json not readable: %s", exc)
        self.z = None
        self.pca = None
        self.stats = None
        self._pca_axes = None
        self._pca_inv_cov = None
        self._invalidate()
        self.samples, self.sample_info, self.path_points = None, {}, None
        self.attribute_path = None
        self.workspaceChanged.emit()
        if self.runner is None:
            result = load_workspace_data({"ws": ws}, None)
            self._on_loaded(result, saved)
        else:
            w = self.runner.start("load", load_workspace_data, {"ws": ws})
            w.result.connect(lambda res, saved=saved, ws=ws:
                             self._on_loaded(res, saved) if self.workspace is ws else None)
            w.error.connect(self.errorOccurred.emit)

    def _on_loaded(self, res: dict, saved: dict | None) -> None:
        self.latents_meta = res.get("latents_meta")
        if res.get("decoder") is not None:
            self.set_decoder(res["decoder"])
        elif res.get("decoder_error"):
            self.errorOccurred.emit(res["decoder_error"])
        z = res.get("z")
        if z is not None:
            attrs, names = None, []
            if self.dataset is not None and self.dataset.attributes is not None \
                    and self.dataset.attributes.shape[0] == z.shape[0]:
                attrs, names = self.dataset.attributes, list(self.dataset.attribute_names)
            self.set_latents(z, attributes=attrs, attribute_names=names)
        if saved:
            self.restore(saved)

    def set_decoder(self, decoder) -> None:
        self.decoder = decoder
        self._fingerprint_cache = None
        self.decoderChanged.emit()

    def decoder_fingerprint(self) -> str:
        """Weights fingerprint of the current decoder -- the one
        :func:`latentexplorer.render.images.redecode_sidecar` checks -- for grid and path-strip
        sidecars (cached per decoder). Without a Keras decoder model: the workspace's model
        fingerprint, else ``"unknown"`` (such a sidecar cannot be re-decoded)."""
        dec = self.decoder
        cache = self._fingerprint_cache
        if cache is not None and dec is not None and cache[0] is dec:
            return cache[1]
        fp = None
        model = getattr(dec, "model", None)
        if model is not None:
            from ..render.images import weights_fingerprint

            fp = weights_fingerprint(model)
        if not fp and self.workspace is not None and hasattr(self.workspace, "model_fingerprint"):
            fp = self.workspace.model_fingerprint()
        if model is not None and fp:
            self._fingerprint_cache = (dec, fp)
        return fp or "unknown"

    def save_gui_state(self) -> None:
        """Write ``gui_state.json`` of the current workspace (no-op without one)."""
        ws = self.workspace
        if ws is not None and hasattr(ws, "write_gui_state"):
            ws.write_gui_state(self.to_dict())

    # ------------------------------------------------------------------------------ latents
    def set_latents(self, z: np.ndarray, *, pca=None, stats: dict | None = None,
                    attributes: np.ndarray | None = None, attribute_names: list[str] | None = None,
                    keep_current: bool = False) -> None:
        """Set the z-points ``z`` (n, z_dim) (float32, not copied when already float32).

        ``pca`` / ``stats`` are computed (in the background with a runner) when not given.
        The current vector becomes z[0] unless ``keep_current`` and the dimension matches.
        """
        z = np.asarray(z)
        if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 2:
            raise InvalidInputError(f"z-points: expected an array (n >= 1, z_dim >= 2), got shape {z.shape}")
        if z.dtype != np.float32:
            z = z.astype(np.float32)
        old_dim = self.z_dim
        self.z = z
        self.attributes = attributes
        self.attribute_names = list(attribute_names or [])
        if self.color_by not in (None, "density") and self.color_by not in self.attribute_names:
            self.color_by = "density"
        self.pca, self.stats = None, None
        self._pca_axes = None
        self._pca_inv_cov = None
        self.pca_coords, self.nearest = None, None
        self._invalidate()
        kind, i, j = self.plane
        if kind == "pca" or max(i, j) >= z.shape[1]:
            self._pending_plane = self._pending_plane or (self.plane if kind == "pca" else None)
            self.plane = ("latent", 0, 1)
        if self.samples is not None and self.samples.shape[1] != z.shape[1]:
            self.samples, self.sample_info = None, {}
        if not (keep_current and self.current is not None and old_dim == z.shape[1]):
            self.current = z[0].astype(np.float32).copy()
            self.current_index = 0
        self.latentsChanged.emit()
        self.planeChanged.emit()
        self.currentChanged.emit()
        if pca is not None or stats is not None:
            self.set_analysis(pca, stats)
        elif self.runner is None:
            self.set_analysis(**compute_analysis(AnalysisTask(z)))
        else:
            w = self.runner.start("analysis", compute_analysis, AnalysisTask(z))
            w.result.connect(lambda res, z=z: self.set_analysis(**res) if self.z is z else None)
            w.error.connect(self.errorOccurred.emit)

    def set_analysis(self, pca=None, stats: dict | None = None,
                     pca_coords: np.ndarray | None = None, nearest: "NearestIndex | None" = None
                     ) -> None:
        """Install a fitted PCA, component statistics, the leading PCA coordinates (k, n) of all
        points and a :class:`NearestIndex` (all from :func:`compute_analysis`)."""
        self.pca = pca
        self.stats = stats
        self.pca_coords = pca_coords if pca_coords is not None and self.z is not None \
            and pca_coords.shape[1] == self.n_points else None
        self.nearest = nearest
        self._pca_axes = pca_axes(pca) if pca is not None else None
        self._pca_inv_cov = None
        if self._pca_axes is not None:
            std = self._pca_axes[2]
            self._pca_inv_cov = 1.0 / np.maximum(std, 1e-12) ** 2
        self.analysisChanged.emit()
        if self._pending_plane is not None:
            plane, self._pending_plane = self._pending_plane, None
            try:
                self.set_plane(*plane)
            except InvalidInputError:
                pass
        elif self.plane[0] == "pca":
            self._invalidate()
            self.planeChanged.emit()
        else:
            self.overlayChanged.emit()  # the sampling ellipse depends on the PCA

    def _invalidate(self) -> None:
        self._plane_cache = None
        self._ellipse_cache = None

    # -------------------------------------------------------------------------------- plane
    def set_plane(self, kind: str, i: int, j: int) -> None:
        """Show plane ``(kind, i, j)``; raises :class:`InvalidInputError` for a bad plane."""
        plane = self.validate_plane(kind, i, j)
        if plane == self.plane:
            return
        self.plane = plane
        self._invalidate()
        if self.path_points is not None:
            self.path_points = None
            self.pathChanged.emit()
        self.planeChanged.emit()

    def validate_plane(self, kind: str, i: int, j: int) -> tuple[str, int, int]:
        if kind not in PLANE_KINDS:
            raise InvalidInputError(f"plane: coordinate system must be 'latent' or 'pca', got {kind!r}")
        try:
            i, j = int(i), int(j)
        except (TypeError, ValueError):
            raise InvalidInputError(f"plane: axes must be integers, got {i!r}, {j!r}") from None
        if i == j:
            raise InvalidInputError(f"plane: the two axes must differ (both are {i})")
        if kind == "latent":
            n = self.z_dim
            what = "latent components"
        else:
            n = self.n_pca
            what = "PCA components"
            if n == 0:
                raise InvalidInputError("plane: the PCA of the z-points is not available yet")
        if n and not (0 <= i < n and 0 <= j < n):
            raise InvalidInputError(f"plane: axes must be in 0..{n - 1} ({n} {what}), got {i}, {j}")
        if i < 0 or j < 0:
            raise InvalidInputError(f"plane: axes must be >= 0, got {i}, {j}")
        return (kind, i, j)

    def plane_coords(self, vectors: np.ndarray) -> np.ndarray:
        """Coordinates (n, 2) float64 of ``vectors`` (n, z_dim) (or one (z_dim,)) in the plane."""
        v = np.asarray(vectors)
        one = v.ndim == 1
        v2 = np.atleast_2d(v)
        kind, i, j = self.plane
        if kind == "latent":
            out = v2[:, [i, j]].astype(np.float64)
        else:
            if self._pca_axes is None:
                raise InvalidInputError("plane: the PCA of the z-points is not available yet")
            mean, comps, _ = self._pca_axes
            w = comps[[i, j]]  # (2, d)
            out = v2 @ w.T.astype(v2.dtype if v2.dtype == np.float32 else np.float64)
            out = out.astype(np.float64) - mean @ w.T
        return out[0] if one else out

    def plane_points(self) -> np.ndarray:
        """Plane coordinates (n, 2) float32 of all z-points (cached per plane)."""
        if self.z is None:
            return np.zeros((0, 2), np.float32)
        key = (self.plane, id(self.z), id(self.pca))
        if self._plane_cache is None or self._plane_cache[0] != key:
            kind, i, j = self.plane
            if kind == "latent":
                pts = np.column_stack([self.z[:, i], self.z[:, j]])
            elif self.pca_coords is not None and max(i, j) < self.pca_coords.shape[0]:
                pts = np.column_stack([self.pca_coords[i], self.pca_coords[j]])
            else:
                pts = self.plane_coords(self.z).astype(np.float32)
            self._plane_cache = (key, pts)
        return self._plane_cache[1]

    def plane_axis_label(self, axis: int) -> str:
        kind, i, j = self.plane
        k = (i, j)[axis]
        return f"z[{k}]" if kind == "latent" else f"PC {k + 1}"

    def _plane_delta(self, d2: np.ndarray) -> np.ndarray:
        """Change of a z-vector (m, z_dim) that moves its plane coordinates by d2 (m, 2)."""
        kind, i, j = self.plane
        d2 = np.atleast_2d(np.asarray(d2, dtype=np.float64))
        if kind == "latent":
            out = np.zeros((d2.shape[0], self.z_dim))
            out[:, i] = d2[:, 0]
            out[:, j] = d2[:, 1]
            return out
        if self.pca is None:
            raise InvalidInputError("plane: the PCA of the z-points is not available yet")
        k = self.n_pca
        d = np.zeros((d2.shape[0], k))
        d[:, i] = d2[:, 0]
        d[:, j] = d2[:, 1]
        # inverse_transform is affine: c + inv(d) - inv(0) keeps every other coordinate
        return (np.asarray(self.pca.inverse_transform(d), dtype=np.float64)
                - np.asarray(self.pca.inverse_transform(np.zeros((1, k))), dtype=np.float64))

    def vectors_at(self, points2d: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """Vectors (m, z_dim) float32: ``base`` (default: current) moved to each plane point."""
        base = self.current if base is None else np.asarray(base)
        if base is None:
            raise InvalidInputError("no current z-vector (load z-points first)")
        pts = np.atleast_2d(np.asarray(points2d, dtype=np.float64))
        kind, i, j = self.plane
        if kind == "latent":  # exact: no round-off in the other coordinates
            out = np.repeat(base[None, :].astype(np.float32), len(pts), axis=0)
            out[:, i] = pts[:, 0]
            out[:, j] = pts[:, 1]
            return out
        here = self.plane_coords(base.astype(np.float64))
        out = base.astype(np.float64)[None, :] + self._plane_delta(pts - here[None, :])
        return out.astype(np.float32)

    def set_plane_point(self, x: float, y: float) -> None:
        """The current vector takes plane coordinates (x, y); all other coordinates are kept."""
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InvalidInputError(f"plane point: expected finite numbers, got ({x}, {y})")
        self.current = self.vectors_at(np.array([[x, y]]))[0]
        self.current_index = None
        self.currentChanged.emit()

    def set_current(self, z: np.ndarray, index: int | None = None) -> None:
        """Make ``z`` (z_dim,) the current vector (``index``: the data point it belongs to)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1)
        if self.z_dim and z.shape[0] != self.z_dim:
            raise InvalidInputError(f"current vector: expected {self.z_dim} values, got {z.shape[0]}")
        if not np.isfinite(z).all():
            raise InvalidInputError("current vector: contains NaN or infinite values")
        self.current = z.copy()
        self.current_index = index
        self.currentChanged.emit()

    def select_point(self, index: int) -> None:
        """Make the z-vector of data point ``index`` the current one."""
        if self.z is None or not (0 <= int(index) < self.n_points):
            raise InvalidInputError(f"data point {index}: out of range 0..{self.n_points - 1}")
        self.set_current(self.z[int(index)], index=int(index))

    def nearest_point(self, v: np.ndarray | None = None) -> tuple[int, float] | None:
        """(index, distance) of the data point nearest to ``v`` (default: current) in z-space;
        None while the index is being built for a large set."""
        v = self.current if v is None else v
        if v is None or self.z is None:
            return None
        if self.nearest is None:
            if self.n_points > NearestIndex.BRUTE_FORCE_MAX:
                return None
            self.nearest = NearestIndex(self.z)
        return self.nearest.query(v)

    def nearest_plane_point(self, x: float, y: float, max_dist: float | None = None) -> int | None:
        """Index of the data point whose plane coordinates are nearest to (x, y)."""
        pts = self.plane_points()
        if len(pts) == 0:
            return None
        d2 = (pts[:, 0] - np.float32(x)) ** 2 + (pts[:, 1] - np.float32(y)) ** 2
        k = int(np.argmin(d2))
        if max_dist is not None and d2[k] > max_dist ** 2:
            return None
        return k

    # ----------------------------------------------------------------------------- sliders
    def set_sigma_level(self, value: float) -> None:
        value = float(value)
        if not (math.isfinite(value) and value > 0):
            raise InvalidInputError(f"sigma level: expected a number > 0, got {value}")
        if value != self.sigma_level:
            self.sigma_level = value
            self.overlayChanged.emit()

    def set_fact(self, value: float) -> None:
        value = float(value)
        if not (math.isfinite(value) and value > 0):
            raise InvalidInputError(f"fact: expected a number > 0, got {value}")
        if value != self.fact:
            self.fact = value
            self.overlayChanged.emit()

    def set_sharpen(self, value: float) -> None:
        value = float(value)
        if not (math.isfinite(value) and value >= 0):
            raise InvalidInputError(f"sharpen: expected a number >= 0, got {value}")
        if value != self.sharpen:
            self.sharpen = value
            self.sharpenChanged.emit()

    def set_color_by(self, name: str | None) -> None:
        if name not in (None, "density") and name not in self.attribute_names:
            raise InvalidInputError(f"colour by: unknown attribute {name!r} "
                                    f"(known: density, {', '.join(self.attribute_names) or 'none'})")
        if name != self.color_by:
            self.color_by = name
            self.colorByChanged.emit()

    # ---------------------------------------------------------------------------- ellipses
    def plane_ellipse(self) -> Ellipse | None:
        """Confidence ellipse of the z-points in the current plane at sigma level 1 (cached per
        plane; sliders only scale it)."""
        if self.z is None or self.n_points < 2:
            return None
        key = (self.plane, id(self.z), id(self.pca))
        if self._ellipse_cache is None or self._ellipse_cache[0] != key:
            self._ellipse_cache = (key, confidence_ellipse(self.plane_points(), sigma_level=1.0))
        return self._ellipse_cache[1]

    def confidence_ellipse(self, sigma_level: float | None = None) -> Ellipse | None:
        """Confidence ellipse of the z-points in the plane at ``sigma_level`` (default: slider)."""
        e = self.plane_ellipse()
        s = self.sigma_level if sigma_level is None else float(sigma_level)
        return None if e is None else e.scaled(s)

    def sampling_ellipse(self) -> Ellipse | None:
        """The ``fact``-scaled sampling ellipse of the plane.

        In a PCA plane: centred on the PCA origin (the data mean), axis-aligned, half-axes
        ``sigma_level * sigma_i * fact`` -- exactly the region the ellipse sampler draws the two
        coordinates from. In a latent plane: the confidence ellipse scaled by ``fact``.
        """
        kind, i, j = self.plane
        if kind == "pca" and self._pca_axes is not None:
            std = self._pca_axes[2]
            a = self.sigma_level * self.fact * np.array([std[i], std[j]])
            return Ellipse(center=np.zeros(2), half_axes=a, angle=0.0,
                           cov=np.diag([std[i] ** 2, std[j] ** 2]),
                           sigma_level=self.sigma_level * self.fact)
        e = self.plane_ellipse()
        return None if e is None else e.scaled(self.sigma_level * self.fact)

    def confidence_polyline(self, sigma_level: float | None = None, n: int = 128) -> np.ndarray | None:
        """Outline (n+1, 2) of :meth:`confidence_ellipse` (None without z-points)."""
        e = self.confidence_ellipse(sigma_level)
        return None if e is None else e.polyline(n)

    def sampling_polyline(self, n: int = 128) -> np.ndarray | None:
        """Outline (n+1, 2) of :meth:`sampling_ellipse` (None without z-points)."""
        e = self.sampling_ellipse()
        return None if e is None else e.polyline(n)

    def origin_point(self) -> np.ndarray:
        """Plane coordinates of z = 0."""
        if self.z_dim == 0:
            return np.zeros(2)
        return self.plane_coords(np.zeros(self.z_dim))

    # ---------------------------------------------------------------------- current measures
    def radius(self, v: np.ndarray | None = None) -> float | None:
        v = self.current if v is None else v
        return None if v is None else float(np.linalg.norm(np.asarray(v, dtype=np.float64)))

    def mahalanobis(self, v: np.ndarray | None = None) -> float | None:
        """Mahalanobis distance of ``v`` (default: current) from the z-point mean, in the PCA
        basis (the PCA's kept components; None before the PCA is there)."""
        v = self.current if v is None else v
        if v is None or self._pca_axes is None:
            return None
        mean, comps, _ = self._pca_axes
        y = comps @ (np.asarray(v, dtype=np.float64) - mean)
        return float(np.sqrt(np.sum(y * y * self._pca_inv_cov)))

    # ------------------------------------------------------------------------------ samples
    def set_samples(self, z: np.ndarray | None, info: dict | None = None) -> None:
        """Show generated vectors ``z`` (m, z_dim) in the scatter (None clears)."""
        if z is not None:
            z = np.asarray(z, dtype=np.float32)
            if z.ndim != 2 or (self.z_dim and z.shape[1] != self.z_dim):
                raise InvalidInputError(f"samples: expected shape (m, {self.z_dim}), got {z.shape}")
        self.samples = z
        self.sample_info = dict(info or {})
        self.samplesChanged.emit()

    # --------------------------------------------------------------------------------- path
    def set_path(self, points2d: np.ndarray | None) -> None:
        """Set the path (k, 2) in plane coordinates (None or < 1 point clears it)."""
        if points2d is not None:
            pts = np.asarray(points2d, dtype=np.float64).reshape(-1, 2)
            if not np.isfinite(pts).all():
                raise InvalidInputError("path: contains NaN or infinite values")
            points2d = pts if len(pts) else None
        self.path_points = points2d
        self.attribute_path = None
        self.pathChanged.emit()

    def attribute_unit_direction(self, name: str, max_points: int = 50_000) -> tuple[np.ndarray, float]:
        """Unit mean-difference direction of attribute ``name`` and the std of the points along it.

        Uses at most ``max_points`` labelled points (seeded subset) so it stays fast on the GUI
        thread with 200,000 points; NaN labels (unknown) are left out.
        """
        from ..analysis.attributes import binarize_labels

        if self.z is None or self.attributes is None or name not in self.attribute_names:
            raise InvalidInputError(f"attribute {name!r}: not available for these z-points")
        lab = np.asarray(self.attributes[:, self.attribute_names.index(name)], dtype=np.float64)
        idx = np.flatnonzero(np.isfinite(lab))
        if idx.size > max_points:
            idx = np.sort(np.random.default_rng(0).choice(idx, max_points, replace=False))
        pos = binarize_labels(lab[idx])
        if pos.all() or not pos.any():
            raise InvalidInputError(f"attribute {name!r}: needs points on both sides")
        z = np.asarray(self.z[idx], dtype=np.float64)
        d = z[pos].mean(axis=0) - z[~pos].mean(axis=0)
        norm = float(np.linalg.norm(d))
        if norm == 0.0:
            raise InvalidInputError(f"attribute {name!r}: both groups have the same mean")
        unit = d / norm
        return unit, float(np.std(z @ unit))

    def set_attribute_path(self, name: str | None, span: float = 2.0) -> None:
        """Path through the current vector along attribute ``name``'s direction.

        It runs from ``-span`` to ``+span`` standard deviations of the data along that direction
        (negative = less of the attribute); ``None`` clears it.
        """
        if name is None:
            self.attribute_path = None
        else:
            if not np.isfinite(span) or span <= 0:
                raise InvalidInputError(f"span={span}: expected a positive number")
            unit, std = self.attribute_unit_direction(name)
            self.attribute_path = (name, np.array([-span * std, span * std]), unit)
            self.path_points = None
        self.pathChanged.emit()

    def has_path(self) -> bool:
        return self.path_points is not None or self.attribute_path is not None

    def path_vectors(self, n: int) -> np.ndarray:
        """``n`` z-vectors (n, z_dim) equally spaced along the path: the current vector with its
        two plane coordinates replaced (empty (0, z_dim) without a path)."""
        if not self.has_path() or self.current is None or n < 1:
            return np.zeros((0, self.z_dim), np.float32)
        if self.attribute_path is not None:
            from ..sampling.paths import attribute_path

            _, ends, unit = self.attribute_path
            return attribute_path(self.current, unit, np.linspace(ends[0], ends[1], int(n)))
        return self.vectors_at(resample_polyline(self.path_points, int(n)))

    # ------------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        """JSON-ready dict for ``gui_state.json``."""
        return {
            "version": GUI_STATE_VERSION,
            "plane": [self.plane[0], int(self.plane[1]), int(self.plane[2])],
            "sigma_level": float(self.sigma_level),
            "fact": float(self.fact),
            "sharpen": float(self.sharpen),
            "current": None if self.current is None else [float(x) for x in self.current],
            "current_index": self.current_index,
            "color_by": self.color_by,
        }

    def restore(self, d: dict | None) -> None:
        """Apply a dict from :meth:`to_dict`; invalid or mismatching entries are skipped.

        A PCA plane that cannot be shown yet (PCA still being computed) is applied as soon as
        the PCA arrives.
        """
        if not isinstance(d, dict):
            return
        for key, setter in (("sigma_level", self.set_sigma_level), ("fact", self.set_fact),
                            ("sharpen", self.set_sharpen)):
            if key in d:
                try:
                    setter(d[key])
                except (InvalidInputError, TypeError, ValueError):
                    log.info("gui_state: ignoring %s=%r", key, d[key])
        cb = d.get("color_by", self.color_by)
        try:
            self.set_color_by(cb)
        except InvalidInputError:
            pass
        cur = d.get("current")
        if isinstance(cur, list) and len(cur) == self.z_dim and self.z_dim:
            try:
                idx = d.get("current_index")
                idx = int(idx) if isinstance(idx, int) and 0 <= idx < self.n_points else None
                self.set_current(np.asarray(cur, dtype=np.float32), index=idx)
            except (InvalidInputError, TypeError, ValueError):
                pass
        plane = d.get("plane")
        if isinstance(plane, (list, tuple)) and len(plane) == 3:
            kind, i, j = plane
            if kind == "pca" and self.pca is None and self.z is not None:
                self._pending_plane = (str(kind), int(i), int(j))
            else:
                try:
                    self.set_plane(kind, i, j)
                except (InvalidInputError, TypeError, ValueError):
                    log.info("gui_state: ignoring plane %r", plane)


def load_workspace_data(params, reporter: ProgressReporter | None = None) -> dict:
    """Worker function: latents and decoder of ``params["ws"]``.

    Returns ``{"z": ndarray | None, "decoder": Decoder | None}``; a workspace without a trained
    model or without latents gives ``None`` entries (the explorer shows what it can).
    """
    reporter = reporter or ProgressReporter()
    ws = params["ws"]
    out: dict[str, Any] = {"z": None, "decoder": None, "latents_meta": None}
    reporter.update(0, 2, "loading z-points")
    if ws.has_latents:
        latents = ws.latents()
        out["z"] = np.asarray(latents.z, dtype=np.float32)
        out["latents_meta"] = latents.meta
    reporter.raise_if_cancelled()
    reporter.update(1, 2, "loading decoder")
    if getattr(ws, "has_model", True):
        try:
            out["decoder"] = make_decoder(ws)
        except Exception as exc:  # noqa: BLE001 -- a damaged model must not stop the scatter
            # The z-points still load; tell the user why no face will appear.
            out["decoder_error"] = f"the decoder could not be loaded, faces cannot be shown: {exc}"
            log.warning("decoder of %s: %s", getattr(ws, "path", ws), exc)
    reporter.update(2, 2, "workspace loaded")
    return out


def make_decoder(ws):
    """A :class:`~latentexplorer.render.decode.Decoder` for workspace ``ws``."""
    keras_decoder = ws.load_decoder()
    try:
        from ..render.decode import Decoder
    except ImportError:
        return _KerasDecoder(keras_decoder)
    return Decoder(keras_decoder)


class _KerasDecoder:
    """Minimal stand-in for render.decode.Decoder (until it exists): uint8 images."""

    def __init__(self, model) -> None:
        self.model = model

    def decode(self, z: np.ndarray, batch_size: int = 256) -> np.ndarray:
        z = np.asarray(z, dtype=np.float32)
        out = [np.asarray(self.model(z[s:s + batch_size], training=False))
               for s in range(0, len(z), batch_size)]
        x = np.concatenate(out) if out else np.zeros((0,))
        return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)

    def decode_one(self, z: np.ndarray) -> np.ndarray:
        return self.decode(np.asarray(z, dtype=np.float32).reshape(1, -1))[0]
