"""Entanglement of latent directions: cosines, and how moving along one direction changes the
attributes of the nearest real data points (issue 13; the directions come from
:mod:`latentexplorer.analysis.directions`).

Seeded data points are moved along each direction by ``t`` standard deviations of the data along
it; for every moved vector the ``k`` nearest data points (exact, Euclidean in z) are looked up and
their attributes averaged (fraction positive, :func:`~latentexplorer.analysis.attributes.binarize_labels`).
The least-squares slope of that fraction over ``t`` is the change per σ: the diagonal is how well a
direction moves its own attribute, the rest is the leak into the others (InterFaceGAN's
"eyeglasses also changes gender").

The neighbour index is handed in by the caller: the explorer's
:class:`~latentexplorer.explore.neighbors.NearestIndex` (``query_k``; it lives a floor above this
one, so the command and the GUI pass it) or anything with scikit-learn's ``kneighbors``; without
one, an exact brute-force :class:`sklearn.neighbors.NearestNeighbors` is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from ._validation import DEFAULT_CHUNK_ROWS, check_matrix, iter_chunks
from .directions import Directions, default_steps

__all__ = ["ENTANGLEMENT_FORMAT", "projection_std", "EntanglementReport", "entanglement_report"]

ENTANGLEMENT_FORMAT = "latentexplorer-entanglement/1"


def _none_if_nan(x) -> float | None:
    return float(x) if math.isfinite(float(x)) else None


def projection_std(z, vectors, *, chunk_size: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """Standard deviation (ddof=0) of the z-points along each unit row of ``vectors`` (k, z_dim),
    streamed over row chunks; shape (k,)."""
    u = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
    n, s1, s2 = 0, np.zeros(u.shape[0]), np.zeros(u.shape[0])
    shift = np.asarray(z[0], dtype=np.float64) @ u.T   # shifted sums: no cancellation
    for _start, block in iter_chunks(z, chunk_size):
        p = np.asarray(block, dtype=np.float64) @ u.T - shift
        n += p.shape[0]
        s1 += p.sum(axis=0)
        s2 += (p * p).sum(axis=0)
    return np.sqrt(np.maximum(s2 / n - (s1 / n) ** 2, 0.0))


@dataclass
class EntanglementReport:
    """Cosines between directions and the attribute changes along each.

    Attributes
    ----------
    direction_names : list of str, length k
    attribute_names : list of str, length a
    steps : ndarray of shape (T,)
        Steps in σ of the data along the moved direction.
    sigma : ndarray of shape (k,)
        That σ per direction (latent units).
    cosines : ndarray of shape (k, k)
    curves : ndarray of shape (k, T, a)
        Fraction of the moved vectors' nearest real points that have the attribute.
    slopes : ndarray of shape (k, a)
        Least-squares slope of ``curves`` over ``steps``: change of that fraction per σ.
    n_neighbors, n_starts, random_state : int
    """

    direction_names: list
    attribute_names: list
    steps: np.ndarray
    sigma: np.ndarray
    cosines: np.ndarray
    curves: np.ndarray
    slopes: np.ndarray
    n_neighbors: int
    n_starts: int
    random_state: int

    def slope(self, direction: str, attribute: str) -> float:
        return float(self.slopes[self.direction_names.index(direction),
                                 self.attribute_names.index(attribute)])

    def to_dict(self) -> dict:
        def clean(a):
            return [clean(x) for x in a] if np.ndim(a) else _none_if_nan(a)

        return {"format": ENTANGLEMENT_FORMAT, "directions": list(self.direction_names),
                "attributes": list(self.attribute_names), "steps_sigma": clean(self.steps),
                "sigma": clean(self.sigma), "cosines": clean(self.cosines),
                "slopes_per_sigma": {d: {a: _none_if_nan(self.slopes[i, j])
                                         for j, a in enumerate(self.attribute_names)}
                                     for i, d in enumerate(self.direction_names)},
                "curves": clean(self.curves), "measure": "fraction of positive attribute among "
                "the n_neighbors nearest data points of each moved start point",
                "n_neighbors": self.n_neighbors, "n_starts": self.n_starts,
                "random_state": self.random_state}

    def format_table(self, max_attributes: int = 8, width: int = 10) -> str:
        """A plain-text table: a row per direction, its cosines with the others, then the slopes
        of the ``max_attributes`` attributes that change most (all are in :meth:`to_dict`)."""
        a = len(self.attribute_names)
        order = np.argsort(-np.nan_to_num(np.abs(self.slopes)).max(axis=0), kind="stable") \
            if a else np.zeros(0, int)
        shown = sorted(order[:max_attributes].tolist())
        head = [f"{'direction':<24}"] + [f"{'cos ' + str(i + 1):>7}"
                                         for i in range(len(self.direction_names))]
        head += [f"{self.attribute_names[j][:width]:>{width}}" for j in shown]
        lines = [" ".join(head)]
        for i, name in enumerate(self.direction_names):
            row = [f"{str(i + 1) + ' ' + name:<24.24}"]
            row += [f"{self.cosines[i, j]:>+7.2f}" for j in range(len(self.direction_names))]
            row += [f"{self.slopes[i, j]:>+{width}.3f}" for j in shown]
            lines.append(" ".join(row))
        more = f"; {a - len(shown)} more attributes in the JSON" if a > len(shown) else ""
        lines.append(f"(slopes: change per σ step in the fraction of the {self.n_neighbors} nearest "
                     f"data points having the attribute, over {self.n_starts} start points{more})")
        return "\n".join(lines)


def _kneighbors(index, x: np.ndarray, k: int) -> np.ndarray:
    """Indices (m, k) of the k nearest data points of each row of ``x``."""
    if hasattr(index, "query_k"):  # the explorer's NearestIndex: one exact query per vector
        return np.stack([np.asarray(index.query_k(v, k)[0]) for v in x])
    return np.asarray(index.kneighbors(x, n_neighbors=k, return_distance=False))


def entanglement_report(z, directions, attributes, *, direction_names=None, attribute_names=None,
                        steps=None, n_starts: int = 32, n_neighbors: int = 10,
                        random_state: int = 0, neighbors=None, progress=None) -> EntanglementReport:
    """How moving along each direction changes the attributes of the nearest real points.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
    directions : Directions or ndarray of shape (k, z_dim)
        Normalised here.
    attributes : ndarray of shape (n_points, n_attributes)
        Labels (binarised with :func:`binarize_labels`; NaN = unknown, left out of the means).
    steps : ndarray of shape (T,), optional
        In σ of the data along each direction (default :func:`default_steps`).
    n_starts : int
        Seeded data points that are moved (their mean effect is measured).
    n_neighbors : int
    neighbors : object, optional
        An exact index built on ``z``: the explorer's
        :class:`~latentexplorer.explore.neighbors.NearestIndex` (its ``query_k(v, k)``), or any
        object with scikit-learn's ``kneighbors(X, n_neighbors, return_distance=False)``;
        default a brute-force ``sklearn.neighbors.NearestNeighbors``.
    progress : ProgressReporter, optional
        One update per direction; may cancel between directions.

    Returns
    -------
    EntanglementReport
    """
    from .attributes import binarize_labels

    z = check_matrix(z, min_rows=2)
    if isinstance(directions, Directions):
        direction_names = direction_names or directions.labels()
        directions = directions.vectors
    u = np.atleast_2d(np.asarray(directions, dtype=np.float64))
    if u.ndim != 2 or u.shape[1] != z.shape[1] or not np.isfinite(u).all():
        raise InvalidInputError(f"directions: expected finite (k, {z.shape[1]}) vectors, got {u.shape}")
    norms = np.linalg.norm(u, axis=1)
    if (norms == 0).any():
        raise InvalidInputError("directions: contain a zero vector")
    u = u / norms[:, None]
    k = u.shape[0]
    direction_names = [str(s) for s in (direction_names or [f"d{i}" for i in range(k)])]
    lab = np.asarray(attributes, dtype=np.float64)
    lab = lab[:, None] if lab.ndim == 1 else lab
    if lab.ndim != 2 or lab.shape[0] != z.shape[0]:
        raise InvalidInputError(f"attributes: expected shape ({z.shape[0]}, n_attributes), got {lab.shape}")
    attribute_names = [str(s) for s in (attribute_names or [f"attr{j}" for j in range(lab.shape[1])])]
    known = ~np.isnan(lab)
    pos = (binarize_labels(lab) & known).astype(np.float64)
    steps = default_steps() if steps is None else np.asarray(steps, dtype=np.float64).reshape(-1)
    if steps.size < 2 or not np.isfinite(steps).all() or np.ptp(steps) == 0:
        raise InvalidInputError("steps: expected at least two different finite values")
    n = z.shape[0]
    n_neighbors = int(min(max(1, int(n_neighbors)), n))
    starts_idx = np.sort(np.random.default_rng(random_state).choice(
        n, size=min(max(1, int(n_starts)), n), replace=False))
    starts = np.asarray(z[starts_idx], dtype=np.float64)
    if neighbors is None:
        from sklearn.neighbors import NearestNeighbors

        neighbors = NearestNeighbors(algorithm="brute").fit(np.asarray(z))
    sigma = projection_std(z, u)
    curves = np.empty((k, steps.size, lab.shape[1]))
    for i in range(k):
        if progress is not None:
            progress.raise_if_cancelled()
            progress.update(i, k, f"entanglement: moving along {direction_names[i]}")
        moved = starts[None, :, :] + (steps * sigma[i])[:, None, None] * u[i][None, None, :]
        idx = _kneighbors(neighbors, moved.reshape(-1, z.shape[1]).astype(z.dtype, copy=False),
                          n_neighbors).reshape(steps.size, -1)   # (T, starts · neighbours)
        with np.errstate(invalid="ignore", divide="ignore"):
            curves[i] = pos[idx].sum(axis=1) / known[idx].sum(axis=1)
    if progress is not None:
        progress.update(k, k, "entanglement measured")
    tc = steps - steps.mean()
    slopes = np.einsum("t,ita->ia", tc, curves - curves.mean(axis=1, keepdims=True)) / float(tc @ tc)
    return EntanglementReport(direction_names, attribute_names, steps, sigma, u @ u.T, curves,
                              slopes, n_neighbors, int(starts_idx.size), int(random_state))
