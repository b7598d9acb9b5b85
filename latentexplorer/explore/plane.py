"""Planes of the latent space and the geometry of moving a z-vector inside one.

A :class:`Plane` is ``("latent", i, j)`` — components i and j of z — or ``("pca", i, j)`` — principal
axes i and j of the z-points (0-based). A :class:`Projector` turns z-vectors into plane coordinates
and back: moving a vector in a plane changes only its two plane coordinates; every other latent
component (latent plane) or every other PCA coordinate and the part outside the PCA subspace (PCA
plane) is kept exactly. It is built on :class:`~latentexplorer.analysis.pca.LatentPCA`
(``project``, ``plane_to_latent``), so there is one implementation of that geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis._kernels import gather_pair
from ..errors import InvalidInputError

PLANE_KINDS = ("latent", "pca")


@dataclass(frozen=True)
class Plane:
    """Two axes of a coordinate system of the latent space."""

    kind: str = "latent"
    i: int = 0
    j: int = 1

    @classmethod
    def parse(cls, value) -> "Plane":
        """A Plane from a Plane or a ``(kind, i, j)`` sequence (structure only, no ranges)."""
        if isinstance(value, Plane):
            return value
        try:
            kind, i, j = value
        except (TypeError, ValueError):
            raise InvalidInputError(f"plane: expected (kind, i, j), got {value!r}") from None
        if kind not in PLANE_KINDS:
            raise InvalidInputError(f"plane: coordinate system must be 'latent' or 'pca', got {kind!r}")
        if isinstance(i, bool) or isinstance(j, bool) or not all(
                isinstance(v, (int, np.integer)) or (isinstance(v, float) and v.is_integer())
                for v in (i, j)):
            raise InvalidInputError(f"plane: axes must be integers, got {i!r}, {j!r}")
        i, j = int(i), int(j)
        if i == j:
            raise InvalidInputError(f"plane: the two axes must differ (both are {i})")
        if i < 0 or j < 0:
            raise InvalidInputError(f"plane: axes must be >= 0, got {i}, {j}")
        return cls(str(kind), i, j)

    def check(self, n_axes: int) -> "Plane":
        """This plane if both axes exist among ``n_axes`` axes of its kind."""
        what = "latent components" if self.kind == "latent" else "PCA components"
        if n_axes == 0:
            raise InvalidInputError("plane: the PCA of the z-points is not available yet"
                                    if self.kind == "pca" else "plane: no z-points loaded")
        if not (self.i < n_axes and self.j < n_axes):
            raise InvalidInputError(f"plane: axes must be in 0..{n_axes - 1} ({n_axes} {what}), "
                                    f"got {self.i}, {self.j}")
        return self

    def label(self, axis: int) -> str:
        """``"z[3]"`` or ``"PC 4"`` (PCA axes are shown 1-based, as everywhere in the GUI)."""
        k = (self.i, self.j)[axis]
        return f"z[{k}]" if self.kind == "latent" else f"PC {k + 1}"

    def as_list(self) -> list:
        return [self.kind, self.i, self.j]


class Projector:
    """Plane coordinates of z-vectors and vectors moved in a plane.

    Parameters
    ----------
    pca : LatentPCA, optional
        The fitted PCA of the z-points (needed for PCA planes).
    leading : ndarray of shape (k, n_points), optional
        Precomputed coordinates of all z-points on the k leading PCA axes (a PCA plane switch is
        then a copy of two rows instead of a pass over the data).
    """

    def __init__(self, pca=None, leading: np.ndarray | None = None) -> None:
        self.pca = pca
        self.leading = leading

    @property
    def n_pca(self) -> int:
        return 0 if self.pca is None else int(self.pca.components_.shape[0])

    def _need_pca(self) -> None:
        if self.pca is None:
            raise InvalidInputError("plane: the PCA of the z-points is not available yet")

    def coords(self, vectors: np.ndarray, plane: Plane) -> np.ndarray:
        """Coordinates (n, 2) float64 of ``vectors`` (n, z_dim) — or (2,) for one vector."""
        v = np.asarray(vectors)
        one = v.ndim == 1
        v2 = np.atleast_2d(v)
        if plane.kind == "latent":
            out = v2[:, [plane.i, plane.j]].astype(np.float64)
        else:
            self._need_pca()
            out = self.pca.project(v2, (plane.i, plane.j))
        return out[0] if one else out

    def points(self, z: np.ndarray, plane: Plane, *, data: bool = False,
               rows: np.ndarray | None = None) -> np.ndarray:
        """Plane coordinates (n, 2) float32 of the points ``z`` (or of ``z[rows]``, (m, 2)).

        ``data=True`` says ``z`` are the z-points :attr:`leading` was computed from, whose PCA
        coordinates are then copied from it; any other set (a named layer, samples) is
        projected."""
        if plane.kind == "latent":
            if rows is not None:  # two strided reads of the rows: no full rows copied
                return np.column_stack([z[rows, plane.i], z[rows, plane.j]]).astype(np.float32)
            return gather_pair(z, plane.i, plane.j)
        if (data and self.leading is not None and max(plane.i, plane.j) < self.leading.shape[0]
                and self.leading.shape[1] == len(z)):
            a, b = self.leading[plane.i], self.leading[plane.j]
            return np.column_stack([a, b] if rows is None else [a[rows], b[rows]])
        return self.coords(z if rows is None else z[rows], plane).astype(np.float32)

    def move(self, base: np.ndarray, plane: Plane, points2d: np.ndarray) -> np.ndarray:
        """Vectors (m, z_dim) float32: ``base`` (z_dim,) with its plane coordinates set to each
        row of ``points2d`` (m, 2); all its other coordinates are kept."""
        base = np.asarray(base, dtype=np.float64).reshape(-1)
        pts = np.atleast_2d(np.asarray(points2d, dtype=np.float64))
        if pts.shape[1] != 2 or not np.isfinite(pts).all():
            raise InvalidInputError(f"plane point: expected finite (x, y) pairs, got {pts.shape}")
        if plane.kind == "latent":  # exact: no round-off in the other components
            out = np.repeat(base[None, :], len(pts), axis=0)
            out[:, plane.i] = pts[:, 0]
            out[:, plane.j] = pts[:, 1]
            return out.astype(np.float32)
        self._need_pca()
        return np.atleast_2d(self.pca.plane_to_latent(base, (plane.i, plane.j), pts)).astype(np.float32)

    def pca_coords(self, vector: np.ndarray, k: int) -> np.ndarray:
        """The first ``k`` PCA coordinates (k,) of one vector (for the component sliders)."""
        self._need_pca()
        k = min(int(k), self.n_pca)
        return self.pca.project(np.asarray(vector, dtype=np.float64)[None, :], np.arange(k))[0]

    def set_pca_coords(self, vector: np.ndarray, values: dict[int, float]) -> np.ndarray:
        """``vector`` with PCA coordinates ``{axis: value}`` replaced, the rest kept (float32)."""
        self._need_pca()
        v = np.asarray(vector, dtype=np.float64).reshape(-1)
        if not values:
            return v.astype(np.float32)
        axes = np.array(sorted(values), dtype=np.int64)
        if axes.min() < 0 or axes.max() >= self.n_pca:
            raise InvalidInputError(f"PCA axis out of range 0..{self.n_pca - 1}: {axes.tolist()}")
        target = np.array([float(values[a]) for a in axes])
        if not np.isfinite(target).all():
            raise InvalidInputError("PCA coordinates: expected finite numbers")
        comps = np.asarray(self.pca.components_, dtype=np.float64)[axes]
        now = (v - np.asarray(self.pca.mean_, dtype=np.float64)) @ comps.T
        return (v + (target - now) @ comps).astype(np.float32)
