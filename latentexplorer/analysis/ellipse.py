"""Confidence ellipses of 2-D planes of the latent space (SPEC §4, §5.4).

A plane is ``("latent", i, j)`` (two latent components) or ``("pca", i, j)`` (two PCA axes).
The ellipse at sigma level ``k`` is ``{x : (x − c)ᵀ C⁻¹ (x − c) ≤ k²}`` for the 2 x 2
covariance ``C`` of the points in the plane; its half-axes are ``k √λ`` for the eigenvalues
``λ`` of ``C``. For 2-D Gaussian data a fraction ``1 − exp(−k²/2)`` of the points lies
inside. PCA coordinates are uncorrelated, so ellipses in PCA planes are axis-aligned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InvalidInputError
from ._kernels import mean_cov_2d
from ._validation import as_float_array, check_matrix, check_nonnegative, check_positive

__all__ = ["Ellipse", "confidence_ellipse", "fraction_inside", "gaussian_fraction_inside",
           "check_plane", "plane_points"]


@dataclass(frozen=True)
class Ellipse:
    """An ellipse in a plane.

    Attributes
    ----------
    center : ndarray of shape (2,)
    half_axes : ndarray of shape (2,)
        First = major axis (``sigma_level · √λ_max``), second = minor.
    angle : float
        Angle of the first axis to the plane's x axis, radians in (−π/2, π/2].
    cov : ndarray of shape (2, 2)
        Covariance of the points the ellipse was made from.
    sigma_level : float
    """

    center: np.ndarray
    half_axes: np.ndarray
    angle: float
    cov: np.ndarray
    sigma_level: float = 1.0

    @property
    def rotation(self) -> np.ndarray:
        """2 x 2 matrix whose columns are the unit first and second axes."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.array([[c, -s], [s, c]])

    def polyline(self, n: int = 128) -> np.ndarray:
        """Closed outline for drawing: shape (n + 1, 2), last point == first point."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 3:
            raise InvalidInputError(f"n: expected an integer >= 3, got {n!r}")
        t = np.linspace(0.0, 2 * np.pi, int(n) + 1)
        t[-1] = 0.0
        unit = np.column_stack([self.half_axes[0] * np.cos(t), self.half_axes[1] * np.sin(t)])
        return self.center + unit @ self.rotation.T

    def local(self, points) -> np.ndarray:
        """Coordinates of points along the ellipse's own axes, shape (n, 2)."""
        p = _points2d(points, "points")
        return (p - self.center) @ self.rotation

    def contains(self, points) -> np.ndarray:
        """Boolean array (n,): is each point inside or on the ellipse?

        A zero half-axis (degenerate data) only admits points exactly on the other axis.
        """
        u = self.local(points)
        a = self.half_axes
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(a > 0, (u / np.where(a > 0, a, 1.0)) ** 2,
                         np.where(np.abs(u) <= 1e-12 * (1 + np.abs(self.center)), 0.0, np.inf))
        return q.sum(axis=1) <= 1.0 + 1e-12

    def scaled(self, factor: float) -> "Ellipse":
        """The same ellipse with half-axes (and sigma level) multiplied by ``factor``."""
        f = check_nonnegative(factor, "factor")
        return replace(self, half_axes=self.half_axes * f, sigma_level=self.sigma_level * f)

    def to_dict(self) -> dict:
        return {"center": self.center.tolist(), "half_axes": self.half_axes.tolist(),
                "angle": float(self.angle), "sigma_level": float(self.sigma_level),
                "cov": self.cov.tolist()}


def _points2d(points, name: str) -> np.ndarray:
    p = as_float_array(points, name)
    if p.ndim == 1 and p.shape == (2,):
        p = p[None, :]
    if p.ndim != 2 or p.shape[1] != 2:
        raise InvalidInputError(f"{name}: expected 2-D points of shape (n, 2), got {p.shape}")
    if not np.isfinite(p).all():
        raise InvalidInputError(f"{name}: contains NaN or infinite values")
    return p


def confidence_ellipse(points2d, *, sigma_level: float = 1.0, moments: tuple | None = None
                       ) -> Ellipse:
    """Confidence ellipse of 2-D points from their 2 x 2 covariance (ddof=1).

    Parameters
    ----------
    points2d : ndarray of shape (n_points, 2), n_points >= 2
    sigma_level : float, keyword-only
        ``k``: half-axes are ``k √λ``; for Gaussian data ``1 − exp(−k²/2)`` of the points lie
        inside.
    moments : tuple of 5 floats, optional, keyword-only
        ``(mean_x, mean_y, Σdx², Σdx dy, Σdy²)`` of exactly these points, when already summed
        (a latent plane switch sums them while gathering); skips the pass over the points.

    Returns
    -------
    Ellipse
    """
    p = points2d if isinstance(points2d, np.ndarray) and points2d.dtype in (np.float32, np.float64) \
        else as_float_array(points2d, "points2d")
    if p.ndim == 1 and p.shape == (2,):
        p = p[None, :]
    if p.ndim != 2 or p.shape[1] != 2:
        raise InvalidInputError(f"points2d: expected 2-D points of shape (n, 2), got {p.shape}")
    if p.shape[0] < 2:
        raise InvalidInputError(f"points2d: at least 2 points are needed, got {p.shape[0]}")
    k = check_positive(sigma_level, "sigma_level")
    # one compiled two-pass loop instead of float64 copies of all points (2,000,000 points of a
    # plane: 5 ms instead of 80); any NaN or inf makes the sums non-finite
    mx, my, cxx, cxy, cyy = mean_cov_2d(p) if moments is None else moments
    if not math.isfinite(cxx + cxy + cyy + mx + my):
        raise InvalidInputError("points2d: contains NaN or infinite values")
    center = np.array([mx, my])
    cov = np.array([[cxx, cxy], [cxy, cyy]]) / (p.shape[0] - 1)
    lam, vec = np.linalg.eigh(cov)                          # ascending
    lam = np.clip(lam[::-1], 0.0, None)
    v = vec[:, 1]                                           # eigenvector of the largest
    if cov[0, 1] == 0.0:                                    # exactly axis-aligned data
        v = np.array([1.0, 0.0]) if cov[0, 0] >= cov[1, 1] else np.array([0.0, 1.0])
    angle = math.atan2(v[1], v[0])
    if angle <= -math.pi / 2:
        angle += math.pi
    elif angle > math.pi / 2:
        angle -= math.pi
    return Ellipse(center=center, half_axes=k * np.sqrt(lam), angle=float(angle), cov=cov,
                   sigma_level=k)


def fraction_inside(points, ellipse: Ellipse) -> float:
    """Fraction of ``points`` (shape (n, 2)) inside ``ellipse``."""
    if not isinstance(ellipse, Ellipse):
        raise InvalidInputError(f"ellipse: expected an Ellipse, got {type(ellipse).__name__}")
    inside = ellipse.contains(points)
    if inside.size == 0:
        raise InvalidInputError("points: is empty")
    return float(inside.mean())


def gaussian_fraction_inside(k) -> np.ndarray | float:
    """Fraction of a 2-D Gaussian inside its ``k``-sigma ellipse: ``1 − exp(−k²/2)``."""
    k = np.asarray(k, dtype=np.float64)
    out = -np.expm1(-0.5 * k ** 2)
    return float(out) if out.ndim == 0 else out


def check_plane(plane, z_dim: int, n_pca: int | None = None) -> tuple[str, int, int]:
    """Validate ``plane = (kind, i, j)`` and return it normalised.

    ``kind`` is "latent" (indices < z_dim) or "pca" (indices < n_pca, default z_dim).
    """
    try:
        kind, i, j = plane
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"plane: expected (\"latent\"|\"pca\", i, j), got {plane!r}") from None
    if kind not in ("latent", "pca"):
        raise InvalidInputError(f"plane: kind must be \"latent\" or \"pca\", got {kind!r}")
    limit = z_dim if kind == "latent" or n_pca is None else n_pca
    for name, v in (("i", i), ("j", j)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise InvalidInputError(f"plane: axis {name} must be an integer, got {v!r}")
        if not 0 <= v < limit:
            raise InvalidInputError(
                f"plane: {kind} axis {name}={v} out of range 0..{limit - 1}")
    if i == j:
        raise InvalidInputError(f"plane: the two axes must differ, got {i} and {j}")
    return kind, int(i), int(j)


def plane_points(z, plane, pca=None) -> np.ndarray:
    """Coordinates of the points in a plane.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
    plane : ("latent" | "pca", i, j)
    pca : LatentPCA, optional
        Fitted PCA for "pca" planes; if omitted one is fitted on ``z``.

    Returns
    -------
    points : ndarray of shape (n_points, 2), float64
    """
    z = check_matrix(z)
    if isinstance(plane, (tuple, list)) and plane and plane[0] == "pca":
        if pca is None:
            from .pca import LatentPCA
            pca = LatentPCA().fit(z)
        kind, i, j = check_plane(plane, z.shape[1], pca.n_components_)
        return pca.project(z, (i, j))
    kind, i, j = check_plane(plane, z.shape[1])
    return np.asarray(z[:, [i, j]], dtype=np.float64)
