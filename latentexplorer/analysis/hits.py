"""Hit tests: do generated vectors land in the region occupied by the data? (SPEC §4)

* Box test: every component ``i`` within ``mu_i ± k · hw_i`` (``hw`` = half-width, FWHM).
* Mahalanobis radius in PCA coordinates (or with a mean and covariance).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError
from ._validation import (DEFAULT_CHUNK_ROWS, as_float_array, check_chunk_size, check_matrix,
                          check_nonnegative, check_vector, iter_chunks)

__all__ = ["hit_mask_box", "hit_fraction_box", "mahalanobis_radius", "hit_mask_mahalanobis",
           "hit_fraction_mahalanobis"]


def hit_mask_box(vectors, mu, half_width, k: float, *,
                 chunk_size: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """Which vectors have every component inside ``mu ± k · half_width``?

    Parameters
    ----------
    vectors : ndarray of shape (n_vectors, z_dim)
    mu, half_width : ndarray of shape (z_dim,)
        Centre and half-width (FWHM) per component, e.g. from
        :func:`~latentexplorer.analysis.statistics.component_stats`.
    k : float
        Multiple of the half-width left and right of the centre (>= 0).

    Returns
    -------
    hit : ndarray of shape (n_vectors,), bool
    """
    chunk_size = check_chunk_size(chunk_size)
    v = check_matrix(vectors, "vectors", chunk_size=chunk_size)
    d = v.shape[1]
    mu = check_vector(mu, "mu", length=d)
    hw = check_vector(half_width, "half_width", length=d)
    if (hw < 0).any():
        raise InvalidInputError("half_width: must be >= 0")
    k = check_nonnegative(k, "k")
    lim = k * hw
    out = np.empty(v.shape[0], dtype=bool)
    for start, block in iter_chunks(v, chunk_size):
        dev = np.abs(np.asarray(block, dtype=np.float64) - mu)
        out[start:start + block.shape[0]] = (dev <= lim).all(axis=1)
    return out


def hit_fraction_box(vectors, mu, half_width, k: float, **kwargs) -> float:
    """Fraction of vectors inside the box ``mu ± k · half_width`` (see :func:`hit_mask_box`)."""
    return float(hit_mask_box(vectors, mu, half_width, k, **kwargs).mean())


def _model_arrays(model):
    """(mean (d,), W (d, m)) such that ``r² = |(v − mean) @ W|²``."""
    from .pca import LatentPCA

    if isinstance(model, LatentPCA):
        model._check_fitted()
        std = model.std_
        keep = std > 0
        w = model.components_[keep].T / std[keep]
        return model.mean_, w
    try:
        mean, cov = model
    except (TypeError, ValueError):
        raise InvalidInputError(
            "pca_or_mean_cov: expected a fitted LatentPCA or a (mean, cov) pair") from None
    mean = check_vector(mean, "mean")
    cov = as_float_array(cov, "cov")
    d = mean.size
    if cov.shape != (d, d) or not np.isfinite(cov).all():
        raise InvalidInputError(f"cov: expected a finite ({d}, {d}) matrix, got shape {cov.shape}")
    lam, vec = np.linalg.eigh(0.5 * (cov + cov.T))
    tol = lam.max(initial=0.0) * d * np.finfo(float).eps
    keep = lam > tol                      # pseudo-inverse: ignore null directions
    return mean, vec[:, keep] / np.sqrt(lam[keep])


def mahalanobis_radius(vectors, pca_or_mean_cov, *,
                       chunk_size: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """Mahalanobis radius of each vector relative to the data distribution.

    Parameters
    ----------
    vectors : ndarray of shape (n_vectors, z_dim)
    pca_or_mean_cov : LatentPCA or (mean, cov)
        With a fitted :class:`~latentexplorer.analysis.pca.LatentPCA` the radius is
        ``sqrt(Σ_a (p_a / σ_a)²)`` over its kept axes with ``σ_a > 0`` (``p`` = PCA
        coordinates). With ``(mean (z_dim,), cov (z_dim, z_dim))`` the pseudo-inverse of
        ``cov`` is used (null directions are ignored).

    Returns
    -------
    r : ndarray of shape (n_vectors,), float64
    """
    chunk_size = check_chunk_size(chunk_size)
    v = check_matrix(vectors, "vectors", chunk_size=chunk_size)
    mean, w = _model_arrays(pca_or_mean_cov)
    if mean.size != v.shape[1]:
        raise InvalidInputError(
            f"vectors: expected {mean.size} components per vector, got {v.shape[1]}")
    out = np.empty(v.shape[0])
    offset = mean @ w
    for start, block in iter_chunks(v, chunk_size):
        p = np.asarray(block, dtype=np.float64) @ w - offset
        out[start:start + block.shape[0]] = np.sqrt(np.einsum("ij,ij->i", p, p))
    return out


def hit_mask_mahalanobis(vectors, pca_or_mean_cov, radius: float, **kwargs) -> np.ndarray:
    """Boolean (n_vectors,): Mahalanobis radius ``<= radius``."""
    radius = check_nonnegative(radius, "radius")
    return mahalanobis_radius(vectors, pca_or_mean_cov, **kwargs) <= radius


def hit_fraction_mahalanobis(vectors, pca_or_mean_cov, radius: float, **kwargs) -> float:
    """Fraction of vectors with Mahalanobis radius ``<= radius``."""
    return float(hit_mask_mahalanobis(vectors, pca_or_mean_cov, radius, **kwargs).mean())
