"""A 2-D picture of successive encodings of the same images that moves smoothly between epochs.

The first encoding is projected on its two leading principal axes. Every later encoding's own k
leading PCA coordinates are rotated / reflected onto the previous picture's (orthogonal Procrustes,
:func:`scipy.linalg.orthogonal_procrustes`), so an encoding that is only rotated or reflected gives
the same picture, and a gradually changing one moves gradually instead of jumping when PCA axes flip
sign or swap order. No scaling: a growing latent scale stays visible.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import orthogonal_procrustes

from ..errors import InvalidInputError

#: dimension of the PCA subspace in which successive encodings are aligned
ALIGN_DIM = 16


def pca_coords(z: np.ndarray, k: int) -> np.ndarray:
    """Coordinates (n, k) of the centred ``z`` on its k leading principal axes (variance order,
    deterministic signs: the largest |coordinate| of each axis is positive; zero-padded to k)."""
    zc = z - z.mean(axis=0, keepdims=True)
    u, s, _ = np.linalg.svd(zc, full_matrices=False)  # n is small (a few hundred)
    coords = u[:, :k] * s[:k]
    idx = np.argmax(np.abs(coords), axis=0)
    signs = np.sign(coords[idx, np.arange(coords.shape[1])])
    signs[signs == 0] = 1.0
    coords = coords * signs
    if coords.shape[1] < k:
        coords = np.pad(coords, ((0, 0), (0, k - coords.shape[1])))
    return coords


class StableProjector:
    """See the module docstring.

    Parameters
    ----------
    align_dim : int
        Dimension of the PCA subspace used for the alignment (capped by z_dim and n - 1).

    Attributes
    ----------
    reference_ : ndarray of shape (n, k) or None
        The aligned coordinates of the last encoding (the next one is aligned to them).
    n_updates_ : int
    """

    def __init__(self, align_dim: int = ALIGN_DIM) -> None:
        self.align_dim = int(align_dim)
        self.reference_: np.ndarray | None = None
        self.n_updates_ = 0

    def reset(self) -> None:
        self.reference_ = None
        self.n_updates_ = 0

    def project(self, z: np.ndarray) -> np.ndarray:
        """Projection (n, 2) float32 of the encoding ``z`` (n, z_dim) of the fixed images."""
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[0] < 2:
            raise InvalidInputError(f"encoding: expected shape (n >= 2, z_dim), got {z.shape}")
        k = max(2, min(self.align_dim, z.shape[1], z.shape[0] - 1))
        coords = pca_coords(z, k)
        ref = self.reference_
        if ref is not None and ref.shape == coords.shape:
            rotation, _ = orthogonal_procrustes(coords, ref)
            coords = coords @ rotation
        self.reference_ = coords
        self.n_updates_ += 1
        return coords[:, :2].astype(np.float32)
