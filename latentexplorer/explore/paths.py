"""Paths through the current z-vector: a polyline in a plane, or a straight line along a direction
(an attribute direction such as "Smiling", a principal axis, a SeFa direction)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.attributes import binarize_labels
from ..errors import InvalidInputError
from ..sampling.paths import attribute_path, resample_polyline
from .plane import Plane, Projector


@dataclass(frozen=True)
class PlanePath:
    """A polyline (k, 2) in ``plane``; the current vector keeps all its other coordinates."""

    plane: Plane
    points: np.ndarray

    @classmethod
    def of(cls, plane: Plane, points) -> "PlanePath | None":
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(pts).all():
            raise InvalidInputError("path: contains NaN or infinite values")
        return cls(plane, pts) if len(pts) else None

    def vectors(self, base: np.ndarray, projector: Projector, n: int) -> np.ndarray:
        return projector.move(base, self.plane, resample_polyline(self.points, n))

    def to_dict(self) -> dict:
        return {"kind": "plane", "plane": self.plane.as_list(), "points": self.points.tolist()}


@dataclass(frozen=True)
class DirectionPath:
    """``base + t · unit`` for t from ``lo`` to ``hi`` (latent distances along a unit direction)."""

    name: str
    unit: np.ndarray
    lo: float
    hi: float

    @classmethod
    def of(cls, name: str, direction, lo: float, hi: float) -> "DirectionPath":
        d = np.asarray(direction, dtype=np.float64).reshape(-1)
        norm = float(np.linalg.norm(d))
        if not np.isfinite(d).all() or norm == 0.0:
            raise InvalidInputError(f"direction {name!r}: expected a finite, non-zero vector")
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise InvalidInputError(f"direction {name!r}: range [{lo}, {hi}] must be finite, lo < hi")
        return cls(str(name), d / norm, float(lo), float(hi))

    def vectors(self, base: np.ndarray, projector: Projector, n: int) -> np.ndarray:
        return attribute_path(base, self.unit, np.linspace(self.lo, self.hi, n))

    def to_dict(self) -> dict:
        return {"kind": "direction", "name": self.name, "unit": self.unit.tolist(),
                "lo": self.lo, "hi": self.hi}


def path_from_dict(d: dict) -> PlanePath | DirectionPath | None:
    """Inverse of ``to_dict`` (for a saved GUI state; raises InvalidInputError on bad data)."""
    if not isinstance(d, dict):
        raise InvalidInputError("path: expected an object")
    if d.get("kind") == "plane":
        return PlanePath.of(Plane.parse(d.get("plane")), d.get("points", []))
    if d.get("kind") == "direction":
        return DirectionPath.of(d.get("name", "direction"), d.get("unit"), d.get("lo"), d.get("hi"))
    raise InvalidInputError(f"path: unknown kind {d.get('kind')!r}")


def attribute_direction_span(z: np.ndarray, labels: np.ndarray, *, span: float = 2.0,
                             max_points: int = 50_000, seed: int = 0) -> tuple[np.ndarray, float]:
    """Unit mean-difference direction of an attribute and ``span`` standard deviations of the
    points along it (at most ``max_points`` labelled points, a seeded subset; NaN = unknown).

    Returns
    -------
    unit : ndarray of shape (z_dim,)
    half_range : float
        ``span`` · std of the projections: a path from −half_range to +half_range covers the data.
    """
    lab = np.asarray(labels, dtype=np.float64)
    idx = np.flatnonzero(np.isfinite(lab))
    if idx.size > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_points, replace=False))
    pos = binarize_labels(lab[idx])
    if pos.all() or not pos.any():
        raise InvalidInputError("attribute: needs labelled points on both sides")
    zz = np.asarray(z[idx], dtype=np.float64)
    d = zz[pos].mean(axis=0) - zz[~pos].mean(axis=0)
    norm = float(np.linalg.norm(d))
    if norm == 0.0:
        raise InvalidInputError("attribute: both groups have the same mean")
    unit = d / norm
    return unit, span * float(np.std(zz @ unit))
