"""Paths through the latent space (SPEC §5.6): planes, polylines, straight lines, attributes.

A *plane* is ``("latent", i, j)`` (two latent components) or ``("pca", i, j)`` (two PCA
components). Moving in a plane changes only the plane's two coordinates of the current vector;
every other coordinate keeps its value (exactly in a latent plane; in a PCA plane the vector is
transformed to PCA coordinates, the two coordinates are replaced and it is transformed back).

NumPy only (scikit-learn if a PCA has to be fitted here).
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np

from ..errors import InvalidInputError

__all__ = ["PCALike", "parse_plane", "plane_path", "plane_coordinates", "resample_polyline",
           "polyline_length", "line_path", "attribute_path"]


class PCALike(Protocol):
    """Anything with ``transform(z) -> (n, k)`` and ``inverse_transform(c) -> (n, z_dim)``
    (``latentexplorer.analysis.pca.LatentPCA``, ``sklearn.decomposition.PCA``)."""

    def transform(self, z: np.ndarray) -> np.ndarray: ...

    def inverse_transform(self, c: np.ndarray) -> np.ndarray: ...


def _float_array(x: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}: expected numbers, got {type(x).__name__}") from None


def parse_plane(plane: Sequence[Any], z_dim: int | None = None) -> tuple[str, int, int]:
    """Validate ``(kind, i, j)`` with kind ``"latent"`` or ``"pca"`` and ``i != j``."""
    try:
        kind, i, j = plane
    except (TypeError, ValueError):
        raise InvalidInputError(f"plane: expected (\"latent\"|\"pca\", i, j), got {plane!r}") from None
    kind = str(kind).lower()
    if kind not in ("latent", "pca"):
        raise InvalidInputError(f"plane: kind must be \"latent\" or \"pca\", got {kind!r}")
    for name, v in (("i", i), ("j", j)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise InvalidInputError(f"plane: index {name} must be a non-negative integer, got {v!r}")
        if z_dim is not None and v >= z_dim:
            raise InvalidInputError(f"plane: index {name}={v} out of range for {z_dim} dimensions")
    if i == j:
        raise InvalidInputError(f"plane: the two axes must differ, got {i} and {j}")
    return kind, int(i), int(j)


def _as_vector(base: Any, name: str = "base") -> np.ndarray:
    v = _float_array(base, name)
    if v.ndim == 2 and v.shape[0] == 1:
        v = v[0]
    if v.ndim != 1 or v.size < 2:
        raise InvalidInputError(f"{name}: expected one latent vector of shape (z_dim,), got {np.shape(base)}")
    if not np.all(np.isfinite(v)):
        raise InvalidInputError(f"{name}: contains NaN or infinite values")
    return v


def _as_points2d(points2d: Any) -> np.ndarray:
    p = _float_array(points2d, "points")
    if p.ndim == 1 and p.size == 2:
        p = p[None, :]
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 1:
        raise InvalidInputError(f"points: expected shape (n, 2), got {np.shape(points2d)}")
    if not np.all(np.isfinite(p)):
        raise InvalidInputError("points: contain NaN or infinite values")
    return p


def _resolve_pca(pca: Any, z_dim: int) -> PCALike:
    if pca is None:
        raise InvalidInputError("plane_path: a PCA plane needs a fitted PCA (or the z-points to fit one)")
    if hasattr(pca, "transform") and hasattr(pca, "inverse_transform"):
        return pca
    data = _float_array(pca, "pca")
    if data.ndim != 2 or data.shape[1] != z_dim or data.shape[0] < 2:
        raise InvalidInputError(
            f"plane_path: pca must be a PCA object or z-points of shape (n, {z_dim}), got {data.shape}")
    from sklearn.decomposition import PCA

    return PCA(n_components=min(data.shape)).fit(data)


def plane_coordinates(base: Any, plane: Sequence[Any], pca: Any = None) -> np.ndarray:
    """The two coordinates of ``base`` in ``plane`` (shape (2,))."""
    v = _as_vector(base)
    kind, i, j = parse_plane(plane, v.size)
    if kind == "latent":
        return v[[i, j]].copy()
    p = _resolve_pca(pca, v.size)
    c = np.asarray(p.transform(v[None, :]), dtype=np.float64)[0]
    if max(i, j) >= c.size:
        raise InvalidInputError(f"plane: PCA index {max(i, j)} out of range ({c.size} components)")
    return c[[i, j]]


def plane_path(base: Any, plane: Sequence[Any], points2d: Any, pca: Any = None) -> np.ndarray:
    """Latent vectors ``(n, z_dim)`` float32 along points of a plane, keeping ``base`` elsewhere.

    Parameters
    ----------
    base : ndarray of shape (z_dim,)
        The current z-vector.
    plane : ("latent", i, j) or ("pca", i, j)
    points2d : ndarray of shape (n, 2)
        Plane coordinates of the path (e.g. from :func:`resample_polyline`).
    pca : PCA-like object or ndarray of shape (n_points, z_dim), optional
        Needed for PCA planes: an object with ``transform`` / ``inverse_transform`` (e.g.
        ``LatentPCA``), or z-points from which a full PCA is fitted. If the PCA keeps fewer
        components than ``z_dim``, the part of ``base`` outside its span is added back, so
        ``base`` is reproduced exactly at its own plane coordinates.
    """
    v = _as_vector(base)
    kind, i, j = parse_plane(plane, v.size)
    pts = _as_points2d(points2d)
    if kind == "latent":
        out = np.repeat(v[None, :], len(pts), axis=0)
        out[:, i] = pts[:, 0]
        out[:, j] = pts[:, 1]
        return out.astype(np.float32)
    p = _resolve_pca(pca, v.size)
    c = np.asarray(p.transform(v[None, :]), dtype=np.float64)
    if c.ndim != 2 or max(i, j) >= c.shape[1]:
        raise InvalidInputError(f"plane: PCA index {max(i, j)} out of range ({c.shape[-1]} components)")
    residual = v - np.asarray(p.inverse_transform(c), dtype=np.float64)[0]
    coords = np.repeat(c, len(pts), axis=0)
    coords[:, i] = pts[:, 0]
    coords[:, j] = pts[:, 1]
    out = np.asarray(p.inverse_transform(coords), dtype=np.float64) + residual
    return out.astype(np.float32)


def polyline_length(points2d: Any) -> float:
    """Total arc length of a polyline."""
    pts = _as_points2d(points2d)
    return float(np.sum(np.linalg.norm(np.diff(pts, axis=0), axis=1)))


def resample_polyline(points2d: Any, n: int) -> np.ndarray:
    """``n`` points evenly spaced by arc length along a polyline (first and last included).

    Repeated vertices are allowed. A polyline of zero length gives ``n`` copies of its point;
    ``n = 1`` gives the start point. Works for any point dimension (shape (m, d)).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidInputError(f"n: number of path points must be an integer >= 1, got {n!r}")
    pts = _float_array(points2d, "points")
    if pts.ndim != 2 or pts.shape[0] < 1 or not np.all(np.isfinite(pts)):
        raise InvalidInputError(f"points: expected a finite array of shape (m, d), got {np.shape(points2d)}")
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    if total == 0.0 or n == 1:
        return np.repeat(pts[:1], n, axis=0)
    targets = np.linspace(0.0, total, int(n))
    # segment index k with cum[k] <= t < cum[k+1]; zero-length segments are skipped by 'right'
    k = np.clip(np.searchsorted(cum, targets, side="right") - 1, 0, len(seg) - 1)
    seg_k = seg[k]
    frac = np.divide(targets - cum[k], seg_k, out=np.zeros_like(targets), where=seg_k > 0)
    out = pts[k] + frac[:, None] * (pts[k + 1] - pts[k])
    out[-1] = pts[-1]
    return out


def line_path(a: Any, b: Any, n: int) -> np.ndarray:
    """``n`` evenly spaced vectors from ``a`` to ``b`` inclusive, shape (n, dim), float32."""
    va = _as_vector(a, "a")
    vb = _as_vector(b, "b")
    if va.shape != vb.shape:
        raise InvalidInputError(f"line_path: a and b differ in shape ({va.shape} vs {vb.shape})")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidInputError(f"n: number of path points must be an integer >= 1, got {n!r}")
    t = np.linspace(0.0, 1.0, int(n))[:, None] if n > 1 else np.zeros((1, 1))
    return (va + t * (vb - va)).astype(np.float32)


def attribute_path(base: Any, direction: Any, t_values: Any, *, normalize: bool = False) -> np.ndarray:
    """``base + t * direction`` for each ``t`` (shape (len(t), z_dim), float32).

    ``direction`` is e.g. a mean-difference attribute direction ("Smiling" minus "not Smiling");
    with ``normalize=True`` it is scaled to unit length first so ``t`` is a latent distance.
    """
    v = _as_vector(base)
    d = _as_vector(direction, "direction")
    if d.shape != v.shape:
        raise InvalidInputError(f"attribute_path: direction has {d.size} components, base {v.size}")
    if normalize:
        norm = float(np.linalg.norm(d))
        if norm == 0.0:
            raise InvalidInputError("attribute_path: direction is the zero vector")
        d = d / norm
    t = np.atleast_1d(_float_array(t_values, "t_values"))
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise InvalidInputError("t_values: expected a finite 1-D sequence of numbers")
    return (v[None, :] + t[:, None] * d[None, :]).astype(np.float32)
