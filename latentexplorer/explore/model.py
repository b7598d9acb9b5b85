"""The exploration model: everything the explorer shows and the user changes, without Qt.

A notebook can drive it as the GUI does::

    m = ExplorationModel()
    m.set_data(ws.latents().z)
    m.set_analysis(compute_analysis(m.z))
    m.set_plane(Plane("pca", 0, 1))
    m.set_plane_point(1.5, -0.3)          # the current vector moves in the plane
    images = decoder.decode(m.path_vectors(12))

Every change emits a psygnal event carrying the new value (``planeChanged(Plane)``,
``currentChanged(vector, index)``, ...); the GUI's ``AppState`` re-emits them as Qt signals. The
model holds no widgets and starts no jobs; heavy work (the analysis, decoding) is done by the caller
and handed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from psygnal import Signal

from ..analysis._kernels import gather_pair_histogram, histogram_2d, nearest_2d
from ..analysis.ellipse import Ellipse, confidence_ellipse
from ..errors import InvalidInputError
from .analysis import ExplorerAnalysis, Thresholds
from .clusters import CLUSTER_COLORING, DEFAULT_N_CLUSTERS, ClusterColoring, Clusters
from .neighbors import NearestIndex
from .paths import DirectionPath, PlanePath
from .plane import Plane, Projector
from .selection import SELECT_TOOLS, PointFilter, combine, points_in_polygon


@dataclass(frozen=True)
class Current:
    """The current z-vector and, when it is a data point's own vector, that point's index."""

    vector: np.ndarray
    index: int | None = None


class ExplorationModel(ClusterColoring):
    """State of one exploration (see the module docstring; the KMeans cluster colouring is
    :class:`~.clusters.ClusterColoring`)."""

    dataChanged = Signal(object)          # the model: new z-points (or none)
    analysisChanged = Signal(object)      # ExplorerAnalysis or None
    planeChanged = Signal(object)         # Plane
    currentChanged = Signal(object)       # Current or None
    overlayChanged = Signal(float, float)  # sigma level, fact
    sharpenChanged = Signal(float)
    colorByChanged = Signal(object)       # attribute name, "density", "kmeans" or None (also:
                                          # the clusters coloured by arrived or were dropped)
    modesChanged = Signal(bool, bool)     # snap to data points, path mode
    thresholdsChanged = Signal(object)    # Thresholds
    samplesChanged = Signal(object)       # (m, z_dim) array or None
    pathChanged = Signal(object)          # PlanePath, DirectionPath or None
    imageChanged = Signal(object)         # the decoded image (H, W, 3) of the current vector
    layersChanged = Signal(object)        # {name: (m, z_dim) array} of the named latent sets shown
    selectionChanged = Signal(object)     # sorted selected indices (m,) int64 (also: isolate toggled)
    filterChanged = Signal(object)        # PointFilter (also: cross-filter toggled)
    toolChanged = Signal(object)          # the selection tool: "rect", "lasso" or None

    def __init__(self) -> None:
        self.z: np.ndarray | None = None
        self.attributes: np.ndarray | None = None
        self.attribute_names: list[str] = []
        self.filenames: list[str] = []
        self.latents_meta = None
        self.analysis: ExplorerAnalysis | None = None
        self.projector = Projector()
        self.plane = Plane()
        self._pending_plane: Plane | None = None
        self.current: Current | None = None
        self.sigma_level = 2.35  # the CLI's and the seeds' default (the FWHM of a Gaussian in σ)
        self.fact = 0.7
        self.sharpen = 0.0
        self.color_by: str | None = "density"
        self.n_clusters = DEFAULT_N_CLUSTERS  # k of the "kmeans" (cluster) colouring
        self.clusters: Clusters | None = None  # KMeans clusters of all z-points (fitted by a job)
        self.snap = False
        self.path_mode = False
        self.thresholds = Thresholds()
        self.samples: np.ndarray | None = None
        self.sample_info: dict = {}
        self.path: PlanePath | DirectionPath | None = None
        self.image: np.ndarray | None = None
        #: named latent sets (other images encoded by the same model) drawn as extra layers
        self.layers: dict[str, np.ndarray] = {}
        self.selection = np.zeros(0, np.int64)
        self.isolate = False  # grey out the points outside the selection
        self.select_tool: str | None = None  # a drag in the scatter selects (rect / lasso)
        self.point_filter = PointFilter()
        self.cross_filter = False  # the generator and the histograms use the matching points only
        self._filter_cache: tuple[Any, np.ndarray] | None = None
        self._plane_cache: tuple[Any, np.ndarray] | None = None
        self._ellipse_cache: tuple[Any, Ellipse | None] | None = None
        self._moments_cache: tuple[Any, tuple] | None = None

    # ------------------------------------------------------------------ data
    @property
    def z_dim(self) -> int:
        return 0 if self.z is None else int(self.z.shape[1])

    @property
    def n_points(self) -> int:
        return 0 if self.z is None else int(self.z.shape[0])

    @property
    def n_pca(self) -> int:
        return self.projector.n_pca

    def set_data(self, z: np.ndarray | None, *, attributes: np.ndarray | None = None,
                 attribute_names: list[str] | None = None, filenames: list[str] | None = None,
                 latents_meta=None) -> None:
        """New z-points (n, z_dim) (None clears); the analysis is dropped until it is handed in."""
        if z is not None:
            z = np.asarray(z)
            if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 2:
                raise InvalidInputError(f"z-points: expected (n >= 1, z_dim >= 2), got shape {z.shape}")
            z = z.astype(np.float32, copy=False)
        same_dim = z is not None and self.z_dim == z.shape[1]
        self.z = z
        ok = attributes is not None and z is not None and np.shape(attributes)[0] == z.shape[0]
        self.attributes = attributes if ok else None
        self.attribute_names = list(attribute_names or []) if ok else []
        self.filenames = list(filenames or []) if filenames and z is not None \
            and len(filenames) == z.shape[0] else []
        self.latents_meta = latents_meta
        self.analysis, self.projector = None, Projector()
        self._invalidate()
        self.clusters = None
        if self.color_by not in (None, "density", CLUSTER_COLORING) \
                and self.color_by not in self.attribute_names:
            self.color_by = "density"
        if self.plane.kind == "pca" or (z is not None and max(self.plane.i, self.plane.j) >= z.shape[1]):
            self._pending_plane = self._pending_plane or (self.plane if self.plane.kind == "pca" else None)
            self.plane = Plane()
        if not same_dim:
            self.samples, self.sample_info, self.path = None, {}, None
        if self.layers:
            self.layers = {}
            self.layersChanged.emit({})
        self.selection, self.point_filter, self._filter_cache = np.zeros(0, np.int64), PointFilter(), None
        self.dataChanged.emit(self)
        self.selectionChanged.emit(self.selection)
        self.filterChanged.emit(self.point_filter)
        self.planeChanged.emit(self.plane)
        if z is None:
            self._set_current(None)
        elif not (same_dim and self.current is not None):
            self._set_current(Current(z[0].astype(np.float32).copy(), 0))

    def set_analysis(self, analysis: ExplorerAnalysis | None) -> None:
        """Install the PCA / statistics / neighbour index of the current z-points."""
        self.analysis = analysis
        self.projector = Projector() if analysis is None else Projector(analysis.pca, analysis.leading)
        self._invalidate()
        if analysis is not None:
            analysis.thresholds = self.thresholds
        self.analysisChanged.emit(analysis)
        if self._pending_plane is not None and analysis is not None:
            plane, self._pending_plane = self._pending_plane, None
            try:
                self.set_plane(plane)
            except InvalidInputError:
                pass
        elif self.plane.kind == "pca":
            self.planeChanged.emit(self.plane)
        else:
            self.overlayChanged.emit(self.sigma_level, self.fact)  # the sampling ellipse needs it

    def _invalidate(self) -> None:
        self._plane_cache = None
        self._ellipse_cache = None
        self._moments_cache = None

    # ------------------------------------------------------------------ plane
    def check_plane(self, plane) -> Plane:
        plane = Plane.parse(plane)
        return plane.check(self.z_dim if plane.kind == "latent" else self.n_pca)

    def set_plane(self, plane) -> None:
        """Show ``plane`` (a Plane or ``(kind, i, j)``); a path drawn in another plane is cleared."""
        plane = self.check_plane(plane)
        if plane == self.plane:
            return
        self.plane = plane
        self._invalidate()
        if isinstance(self.path, PlanePath) and self.path.plane != plane:
            self.set_path(None)
        self.planeChanged.emit(plane)

    def _plane_key(self) -> tuple:
        return (self.plane, id(self.z), id(self.analysis))

    def _cached_plane_points(self) -> np.ndarray | None:
        c = self._plane_cache
        return c[1] if c is not None and c[0] == self._plane_key() else None

    def plane_points(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Plane coordinates (n, 2) float32 of all z-points (cached per plane); with ``rows``
        (m,) only those points' (m, 2), read from the cache or, before it is filled, from the
        z-points' rows alone (a view range from a subset needs no pass over all points)."""
        if self.z is None:
            return np.zeros((0, 2), np.float32)
        pts = self._cached_plane_points()
        if pts is None and rows is not None:
            return self.projector.points(self.z, self.plane, data=True, rows=np.asarray(rows))
        if pts is None:
            pts = self.projector.points(self.z, self.plane, data=True)
            self._plane_cache = (self._plane_key(), pts)
        return pts if rows is None else pts[rows]

    def plane_histogram(self, x_range: tuple[float, float], y_range: tuple[float, float],
                        nx: int, ny: int) -> np.ndarray:
        """Counts (nx, ny) float32 of all z-points' plane coordinates in [x0, x1) x [y0, y1).

        On a latent plane whose coordinates are not cached yet, gathering them and counting
        them is one pass over the z-points (the plane switch at millions of points)."""
        (x0, x1), (y0, y1) = x_range, y_range
        if self.z is not None and self.plane.kind == "latent" and self._cached_plane_points() is None:
            pts, counts, moments = gather_pair_histogram(self.z, self.plane.i, self.plane.j,
                                                         x0, x1, y0, y1, nx, ny)
            self._plane_cache = (self._plane_key(), pts)
            self._moments_cache = (self._plane_key(), moments)  # the ellipse needs no pass
            return counts
        pts = self.plane_points()
        return histogram_2d(pts[:, 0], pts[:, 1], x0, x1, y0, y1, nx, ny)

    def plane_coords(self, vectors: np.ndarray) -> np.ndarray:
        return self.projector.coords(vectors, self.plane)

    def vectors_at(self, points2d: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """``base`` (default: the current vector) moved to each plane point (m, 2) → (m, z_dim)."""
        if base is None:
            if self.current is None:
                raise InvalidInputError("no current z-vector (load z-points first)")
            base = self.current.vector
        return self.projector.move(base, self.plane, points2d)

    # ------------------------------------------------------------------ the current vector
    def _set_current(self, current: Current | None) -> None:
        self.current = current
        self.currentChanged.emit(current)

    def set_current(self, vector: np.ndarray, index: int | None = None) -> None:
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        if self.z_dim and v.shape[0] != self.z_dim:
            raise InvalidInputError(f"current vector: expected {self.z_dim} values, got {v.shape[0]}")
        if not np.isfinite(v).all():
            raise InvalidInputError("current vector: contains NaN or infinite values")
        self._set_current(Current(v.copy(), index))

    def set_plane_point(self, x: float, y: float) -> None:
        """The current vector takes plane coordinates (x, y); all its other coordinates are kept."""
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InvalidInputError(f"plane point: expected finite numbers, got ({x}, {y})")
        self._set_current(Current(self.vectors_at(np.array([[x, y]]))[0], None))

    def select_point(self, index: int) -> None:
        """The z-vector of data point ``index`` becomes current."""
        if self.z is None or not 0 <= int(index) < self.n_points:
            raise InvalidInputError(f"data point {index}: out of range 0..{self.n_points - 1}")
        self.set_current(self.z[int(index)], int(index))

    def reset_current_to_mean(self) -> None:
        if self.z is None:
            raise InvalidInputError("no z-points loaded")
        mean = self.analysis.pca.mean_ if self.analysis is not None else self.z.mean(axis=0)
        self.set_current(mean)

    def pca_coords(self, k: int) -> np.ndarray:
        """The current vector's first ``k`` PCA coordinates (for the component sliders)."""
        if self.current is None:
            raise InvalidInputError("no current z-vector")
        return self.projector.pca_coords(self.current.vector, k)

    def set_pca_coords(self, values: dict[int, float]) -> None:
        """Set PCA coordinates ``{axis: value}`` of the current vector; the rest is kept."""
        if self.current is None:
            raise InvalidInputError("no current z-vector")
        self._set_current(Current(self.projector.set_pca_coords(self.current.vector, values), None))

    def set_image(self, image: np.ndarray | None) -> None:
        """The decoder's image of the current vector (set by whoever decoded it)."""
        self.image = image
        self.imageChanged.emit(image)

    # ------------------------------------------------------------------ nearest points
    def nearest_point(self, v: np.ndarray | None = None) -> tuple[int, float] | None:
        """(index, distance) of the data point nearest to ``v`` (default: current) in z-space;
        None while the index of a large set is being built."""
        res = self.nearest_points(1, v)
        return None if res is None else (int(res[0][0]), float(res[1][0]))

    def nearest_points(self, k: int, v: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """Indices and distances (k,) of the ``k`` data points nearest to ``v`` (default: the
        current vector), nearest first; None as :meth:`nearest_point`."""
        v = self.current.vector if v is None and self.current is not None else v
        if v is None or self.z is None:
            return None
        if self.analysis is None:
            if self.n_points > NearestIndex.BRUTE_FORCE_MAX:
                return None
            return NearestIndex(self.z).query_k(v, k)
        return self.analysis.nearest.query_k(v, k)

    def nearest_plane_point(self, x: float, y: float, max_dist: float | None = None) -> int | None:
        """Index of the data point whose plane coordinates are nearest to (x, y), or None when
        none is within ``max_dist``."""
        pts = self.plane_points()
        if len(pts) == 0:
            return None
        t = pts.dtype.type if pts.dtype in (np.float32, np.float64) else np.float64
        k, d2 = nearest_2d(np.asarray(pts, dtype=t), t(x), t(y))  # one pass: 2,000,000 in ~3 ms
        if max_dist is not None and d2 > max_dist ** 2:
            return None
        return int(k)

    # ------------------------------------------------------------------ selection and filter
    def set_selection(self, indices, op: str = "replace") -> None:
        """Select data points ``indices`` (replacing, added to or removed from the selection)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(idx) and (idx.min() < 0 or idx.max() >= self.n_points):
            raise InvalidInputError(f"selection: indices must lie in 0..{self.n_points - 1}")
        self.selection = combine(self.selection, idx, op)
        self.selectionChanged.emit(self.selection)

    def select_polygon(self, polygon: np.ndarray, op: str = "replace") -> None:
        """Select the points whose plane coordinates lie inside ``polygon`` (k, 2)."""
        self.set_selection(np.flatnonzero(points_in_polygon(self.plane_points(), polygon)), op)

    def set_isolate(self, on: bool) -> None:
        if bool(on) != self.isolate:
            self.isolate = bool(on)
            self.selectionChanged.emit(self.selection)

    def set_select_tool(self, tool: str | None) -> None:
        if tool not in SELECT_TOOLS:
            raise InvalidInputError(f"selection tool: expected rect, lasso or none, got {tool!r}")
        if tool != self.select_tool:
            self.select_tool = tool
            self.toolChanged.emit(tool)

    def set_filter(self, point_filter: PointFilter) -> None:
        """Points that do not match ``point_filter`` are greyed out (checked here: bad names raise)."""
        point_filter.mask(self.n_points, self.filenames, self.attributes, self.attribute_names)
        self.point_filter, self._filter_cache = point_filter, None
        self.filterChanged.emit(point_filter)

    def set_cross_filter(self, on: bool) -> None:
        if bool(on) != self.cross_filter:
            self.cross_filter = bool(on)
            self.filterChanged.emit(self.point_filter)

    def filter_mask(self) -> np.ndarray | None:
        """Mask (n,) of the points matching the filter; None when no filter is set."""
        f = self.point_filter
        if not f.active or self.z is None:
            return None
        if self._filter_cache is None or self._filter_cache[0] != (f, id(self.z)):
            mask = f.mask(self.n_points, self.filenames, self.attributes, self.attribute_names)
            self._filter_cache = ((f, id(self.z)), mask)
        return self._filter_cache[1]

    def highlight_mask(self) -> np.ndarray | None:
        """Mask (n,) of the points drawn in colour (the rest grey): the filter's matches, within
        the selection when isolated; None when all points are."""
        mask = self.filter_mask()
        if self.isolate and len(self.selection):
            sel = np.zeros(self.n_points, bool)
            sel[self.selection] = True
            mask = sel if mask is None else mask & sel
        return mask

    def filtered_z(self) -> np.ndarray | None:
        """The z-points (m, z_dim) the generator and the histograms use: the filter's matches
        with cross-filtering on, else all."""
        mask = self.filter_mask() if self.cross_filter else None
        return self.z if mask is None else self.z[mask]

    # ------------------------------------------------------------------ view settings
    def set_sigma_level(self, value: float) -> None:
        value = _positive(value, "sigma level")
        if value != self.sigma_level:
            self.sigma_level = value
            self.overlayChanged.emit(self.sigma_level, self.fact)

    def set_fact(self, value: float) -> None:
        value = _positive(value, "fact")
        if value != self.fact:
            self.fact = value
            self.overlayChanged.emit(self.sigma_level, self.fact)

    def set_sharpen(self, value: float) -> None:
        value = float(value)
        if not (math.isfinite(value) and 0 <= value <= 100):
            raise InvalidInputError(f"sharpen: expected a number from 0 to 100, got {value}")
        if value != self.sharpen:
            self.sharpen = value
            self.sharpenChanged.emit(value)

    def set_color_by(self, name: str | None) -> None:
        if name not in (None, "density", CLUSTER_COLORING) and name not in self.attribute_names:
            raise InvalidInputError(f"colour by: unknown attribute {name!r} (known: density, "
                                    f"{CLUSTER_COLORING}, {', '.join(self.attribute_names) or 'none'})")
        if name != self.color_by:
            self.color_by = name
            self.colorByChanged.emit(name)

    def set_modes(self, *, snap: bool | None = None, path_mode: bool | None = None) -> None:
        """Clicks snap to data points; drags draw paths."""
        snap = self.snap if snap is None else bool(snap)
        path_mode = self.path_mode if path_mode is None else bool(path_mode)
        if (snap, path_mode) != (self.snap, self.path_mode):
            self.snap, self.path_mode = snap, path_mode
            self.modesChanged.emit(snap, path_mode)

    def set_thresholds(self, thresholds: Thresholds) -> None:
        if thresholds.mu < 0 or thresholds.half_width < 0 or thresholds.k < 0:
            raise InvalidInputError("dominant thresholds: expected numbers >= 0")
        if thresholds.criterion not in ("fwhm", "hwhm", "mad"):
            raise InvalidInputError(f"dominant criterion: expected fwhm, hwhm or mad, got {thresholds.criterion!r}")
        self.thresholds = thresholds
        if self.analysis is not None:
            self.analysis.thresholds = thresholds
        self.thresholdsChanged.emit(thresholds)

    def dominant(self) -> list[int]:
        return [] if self.analysis is None else self.analysis.dominant(self.thresholds)

    # ------------------------------------------------------------------ ellipses and measures
    def plane_ellipse(self) -> Ellipse | None:
        """Confidence ellipse of the z-points in the plane at sigma level 1 (cached per plane)."""
        if self.n_points < 2:
            return None
        key = self._plane_key()
        if self._ellipse_cache is None or self._ellipse_cache[0] != key:
            summed = self._moments_cache is not None and self._moments_cache[0] == key
            self._ellipse_cache = (key, confidence_ellipse(
                self.plane_points(), sigma_level=1.0,
                moments=self._moments_cache[1] if summed else None))
        return self._ellipse_cache[1]

    def confidence_ellipse(self, sigma_level: float | None = None) -> Ellipse | None:
        e = self.plane_ellipse()
        return None if e is None else e.scaled(self.sigma_level if sigma_level is None else sigma_level)

    def sampling_ellipse(self) -> Ellipse | None:
        """The region the ellipse sampler draws the plane's two coordinates from: in a PCA plane
        centred on the data mean, axis-aligned, half-axes sigma_level · σ_i · fact; in a latent
        plane the confidence ellipse scaled by fact."""
        if self.plane.kind == "pca" and self.analysis is not None:
            std = self.analysis.std[[self.plane.i, self.plane.j]]
            s = self.sigma_level * self.fact
            return Ellipse(center=np.zeros(2), half_axes=s * std, angle=0.0, cov=np.diag(std ** 2),
                           sigma_level=s)
        e = self.plane_ellipse()
        return None if e is None else e.scaled(self.sigma_level * self.fact)

    def origin_point(self) -> np.ndarray:
        return np.zeros(2) if self.z_dim == 0 else self.plane_coords(np.zeros(self.z_dim))

    def radius(self, v: np.ndarray | None = None) -> float | None:
        v = self.current.vector if v is None and self.current is not None else v
        return None if v is None else float(np.linalg.norm(np.asarray(v, dtype=np.float64)))

    def mahalanobis(self, v: np.ndarray | None = None) -> float | None:
        """Mahalanobis distance from the z-point mean over all kept PCA axes (every dimension)."""
        v = self.current.vector if v is None and self.current is not None else v
        if v is None or self.analysis is None:
            return None
        pca = self.analysis.pca
        y = pca.project(np.asarray(v, dtype=np.float64)[None, :], np.arange(self.n_pca))[0]
        return float(np.sqrt(np.sum(y * y / np.maximum(self.analysis.std, 1e-12) ** 2)))

    def mahalanobis_in_plane(self, v: np.ndarray | None = None) -> float | None:
        """Mahalanobis distance of the two plane coordinates from the plane's centre (2-D)."""
        v = self.current.vector if v is None and self.current is not None else v
        e = self.plane_ellipse()
        if v is None or e is None:
            return None
        d = self.plane_coords(np.asarray(v, dtype=np.float64)) - e.center
        cov = np.asarray(e.cov, dtype=np.float64) + 1e-12 * np.eye(2)
        return float(np.sqrt(d @ np.linalg.solve(cov, d)))

    # ------------------------------------------------------------------ samples and paths
    def set_samples(self, z: np.ndarray | None, info: dict | None = None) -> None:
        """Generated vectors (m, z_dim) shown in the scatter (None clears)."""
        if z is not None:
            z = np.asarray(z, dtype=np.float32)
            if z.ndim != 2 or (self.z_dim and z.shape[1] != self.z_dim):
                raise InvalidInputError(f"samples: expected shape (m, {self.z_dim}), got {z.shape}")
        self.samples, self.sample_info = z, dict(info or {})
        self.samplesChanged.emit(z)

    def set_path(self, path) -> None:
        """A path: plane points (k, 2) in the current plane, a PlanePath, a DirectionPath or None."""
        if path is not None and not isinstance(path, (PlanePath, DirectionPath)):
            path = PlanePath.of(self.plane, path)
            if path is None:
                return self.set_path(None)
        self.path = path
        self.pathChanged.emit(path)

    def set_layer(self, name: str, z: np.ndarray | None) -> None:
        """Show the named latent set ``z`` (m, z_dim) as an extra layer (None removes it)."""
        if z is None:
            if self.layers.pop(name, None) is not None:
                self.layersChanged.emit(dict(self.layers))
            return
        z = np.asarray(z)
        if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] != self.z_dim:
            raise InvalidInputError(f"layer {name!r}: expected shape (m, {self.z_dim}), got {z.shape}")
        if not np.isfinite(z).all():
            raise InvalidInputError(f"layer {name!r}: contains NaN or infinite values")
        self.layers[name] = z.astype(np.float32, copy=False)
        self.layersChanged.emit(dict(self.layers))

    def layer_points(self, name: str) -> np.ndarray:
        """Plane coordinates (m, 2) of layer ``name`` in the current plane."""
        return self.projector.points(self.layers[name], self.plane)

    def set_direction_path(self, name: str, direction: np.ndarray, lo: float, hi: float) -> None:
        """A path through the current vector along ``direction`` from ``lo`` to ``hi``."""
        self.set_path(DirectionPath.of(name, direction, lo, hi))

    def path_vectors(self, n: int) -> np.ndarray:
        """``n`` vectors along the path through the current vector (0, z_dim) without one."""
        if self.path is None or self.current is None or n < 1 or (
                isinstance(self.path, PlanePath) and self.path.plane.kind == "pca" and not self.n_pca):
            return np.zeros((0, self.z_dim), np.float32)
        return self.path.vectors(self.current.vector, self.projector, int(n))


def _positive(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}: expected a number, got {value!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise InvalidInputError(f"{name}: expected a number > 0, got {value}")
    return value
