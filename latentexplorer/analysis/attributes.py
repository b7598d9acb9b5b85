"""Attribute directions in latent space (SPEC §4 "Attributes").

For each attribute the points are split into a positive and a negative group; the direction is
the difference of the group means (positive − negative) and the separation of the two groups
is measured along it by ``d'`` (mean difference over the pooled standard deviation) and the
AUC (probability that a random positive projects further along the direction than a random
negative; 0.5 = no separation). All attributes are handled at once with matrix products.

Label conventions (per attribute column): two distinct values (±1, 0/1, False/True, …) →
the larger value is "positive"; more values (continuous, e.g. synthetic factors) → split at
the median (``> median`` positive; ``>= median`` if ties leave no positives).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from ..errors import InvalidInputError
from ._validation import DEFAULT_CHUNK_ROWS, check_chunk_size, check_matrix, iter_chunks

__all__ = ["binarize_labels", "attribute_direction", "AttributeDirections",
           "attribute_directions"]


def binarize_labels(labels) -> np.ndarray:
    """Positive-group mask per attribute.

    Parameters
    ----------
    labels : ndarray of shape (n_points,) or (n_points, n_attributes)

    Returns
    -------
    positive : ndarray of bool, same shape as ``labels``
        NaN labels (unknown) are never positive.
    """
    lab = np.asarray(labels)
    if lab.dtype == np.bool_:
        return lab.copy()
    lab = lab.astype(np.float64)
    if lab.ndim not in (1, 2) or lab.shape[0] == 0:
        raise InvalidInputError(
            f"labels: expected shape (n_points,) or (n_points, n_attributes), got {lab.shape}")
    if np.isinf(lab).any():
        raise InvalidInputError("labels: contain infinite values (NaN is allowed: unknown)")
    one = lab.ndim == 1
    lab2 = lab[:, None] if one else lab
    known = ~np.isnan(lab2)
    if not known.any(axis=0).all():
        raise InvalidInputError("labels: an attribute has no known (non-NaN) value")
    # NaN = unknown (e.g. a merged store where one source has no attributes): never positive.
    lo, hi = np.nanmin(lab2, axis=0), np.nanmax(lab2, axis=0)
    filled = np.where(known, lab2, lo[None, :])
    two_valued = ((filled == lo) | (filled == hi)).all(axis=0)
    med = np.nanmedian(lab2, axis=0)
    pos = np.where(two_valued, filled == hi, filled > med)
    pos &= (hi > lo)[None, :] | ~two_valued    # a constant column has no positives
    fix = ~two_valued & ~(pos & known).any(axis=0)
    if fix.any():
        pos[:, fix] = filled[:, fix] >= med[fix]
    pos &= known
    return pos[:, 0] if one else pos


def attribute_direction(z, labels) -> np.ndarray:
    """Mean of the positive points minus mean of the negative points.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
    labels : ndarray of shape (n_points,)
        ±1, 0/1, bool, or continuous (split at the median).

    Returns
    -------
    direction : ndarray of shape (z_dim,), float64
    """
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise InvalidInputError(f"labels: expected shape (n_points,), got {lab.shape}")
    return attribute_directions(z, lab[:, None]).directions[0]


@dataclass(frozen=True)
class AttributeDirections:
    """Directions and separations of all attributes.

    Attributes
    ----------
    names : list of str, length n_attributes
    directions : ndarray of shape (n_attributes, z_dim)
        Mean difference positive − negative (zero when a group is empty).
    norms : ndarray of shape (n_attributes,)
        Length of each direction.
    d_prime : ndarray of shape (n_attributes,)
        ``(m_pos − m_neg) / sqrt((v_pos + v_neg) / 2)`` of the projections on the unit direction.
    auc : ndarray of shape (n_attributes,)
    n_pos, n_neg : ndarray of shape (n_attributes,), int
    valid : ndarray of shape (n_attributes,), bool
        Both groups non-empty.
    """

    names: list
    directions: np.ndarray
    norms: np.ndarray
    d_prime: np.ndarray
    auc: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray
    valid: np.ndarray

    def table(self) -> list[dict]:
        """One dict per attribute, best separated (largest d') first."""
        order = np.lexsort((np.arange(len(self.names)), -self.d_prime))
        return [{"index": int(a), "name": self.names[a], "d_prime": float(self.d_prime[a]),
                 "auc": float(self.auc[a]), "norm": float(self.norms[a]),
                 "n_pos": int(self.n_pos[a]), "n_neg": int(self.n_neg[a])} for a in order]

    def unit(self, name_or_index) -> np.ndarray:
        """Unit direction of one attribute (zero vector if invalid)."""
        a = self.names.index(name_or_index) if isinstance(name_or_index, str) \
            else int(name_or_index)
        n = self.norms[a]
        return self.directions[a] / n if n > 0 else np.zeros_like(self.directions[a])


def attribute_directions(z, labels, *, names=None,
                         chunk_size: int = DEFAULT_CHUNK_ROWS) -> AttributeDirections:
    """Mean-difference directions and group separations for all attributes.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
    labels : ndarray of shape (n_points, n_attributes)
    names : sequence of str, optional, keyword-only
        Attribute names (default ``attr0``, ``attr1``, …).
    chunk_size : int, keyword-only

    Returns
    -------
    AttributeDirections
    """
    chunk_size = check_chunk_size(chunk_size)
    z = check_matrix(z, chunk_size=chunk_size)
    lab = np.asarray(labels)
    if lab.ndim == 1:
        lab = lab[:, None]
    if lab.ndim != 2 or lab.shape[0] != z.shape[0]:
        raise InvalidInputError(
            f"labels: expected shape ({z.shape[0]}, n_attributes), got {np.shape(labels)}")
    n, d = z.shape
    a = lab.shape[1]
    if names is None:
        names = [f"attr{i}" for i in range(a)]
    names = [str(s) for s in names]
    if len(names) != a:
        raise InvalidInputError(f"names: expected {a} attribute names, got {len(names)}")
    pos = binarize_labels(lab)
    known = ~np.isnan(np.asarray(lab, dtype=np.float64))   # NaN = unknown: in neither group
    pf = pos.astype(np.float64)
    nf = (known & ~pos).astype(np.float64)
    n_pos = pos.sum(axis=0).astype(np.int64)
    n_neg = nf.sum(axis=0).astype(np.int64)
    valid = (n_pos > 0) & (n_neg > 0)
    sum_pos = np.zeros((a, d))
    sum_neg = np.zeros((a, d))
    for start, block in iter_chunks(z, chunk_size):
        b = np.asarray(block, dtype=np.float64)
        sum_pos += pf[start:start + b.shape[0]].T @ b
        sum_neg += nf[start:start + b.shape[0]].T @ b
    mean_pos = sum_pos / np.maximum(n_pos, 1)[:, None]
    mean_neg = sum_neg / np.maximum(n_neg, 1)[:, None]
    directions = np.where(valid[:, None], mean_pos - mean_neg, 0.0)
    norms = np.linalg.norm(directions, axis=1)
    units = directions / np.where(norms > 0, norms, 1.0)[:, None]
    proj = np.empty((n, a))
    for start, block in iter_chunks(z, chunk_size):
        proj[start:start + block.shape[0]] = np.asarray(block, dtype=np.float64) @ units.T
    npos_s, nneg_s = np.maximum(n_pos, 1), np.maximum(n_neg, 1)
    m_pos = (proj * pf).sum(axis=0) / npos_s
    m_neg = (proj * nf).sum(axis=0) / nneg_s
    v_pos = (((proj - m_pos) ** 2) * pf).sum(axis=0) / npos_s
    v_neg = (((proj - m_neg) ** 2) * nf).sum(axis=0) / nneg_s
    pooled = np.sqrt(0.5 * (v_pos + v_neg))
    diff = m_pos - m_neg
    d_prime = np.where(pooled > 0, diff / np.where(pooled > 0, pooled, 1.0),
                       np.where(diff > 0, np.inf, 0.0))
    d_prime = np.where(valid, np.nan_to_num(d_prime, posinf=1e6), 0.0)
    if known.all():
        ranks = rankdata(proj, axis=0)                 # average ranks on ties
    else:                                              # rank among the known points only
        ranks = np.zeros_like(proj)
        for j in range(a):
            ranks[known[:, j], j] = rankdata(proj[known[:, j], j])
    u = (ranks * pf).sum(axis=0) - n_pos * (n_pos + 1) / 2.0
    auc = np.where(valid, u / (npos_s * nneg_s), 0.5)
    return AttributeDirections(names=names, directions=directions, norms=norms,
                               d_prime=d_prime, auc=auc, n_pos=n_pos, n_neg=n_neg, valid=valid)
