"""PCA of latent vectors (scikit-learn) with plane projections and the way back (SPEC §4, §5.6).

:class:`LatentPCA` fits :class:`sklearn.decomposition.PCA` on all points. For ``n_points >=
z_dim`` it uses ``svd_solver="covariance_eigh"`` (one ``Xᵀ X`` product and a ``z_dim x z_dim``
eigen-decomposition: fast and lean for 200,000 x 256), otherwise ``"full"``.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from ..errors import InvalidInputError
from ._validation import DEFAULT_CHUNK_ROWS, check_chunk_size, check_matrix, iter_chunks

__all__ = ["LatentPCA"]


class LatentPCA:
    """Principal component analysis of latent vectors.

    Parameters
    ----------
    n_components : int or None, keyword-only
        Number of axes to keep; ``None`` keeps ``min(n_points, z_dim)``.
    svd_solver : {"auto", "covariance_eigh", "full", "randomized"}, keyword-only
        ``"auto"`` picks ``"covariance_eigh"`` when ``n_points >= z_dim`` else ``"full"``.
    random_state : int or None, keyword-only
        Only used by the randomized solver.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, z_dim)
        Unit principal axes, by decreasing variance.
    explained_variance_ : ndarray of shape (n_components,)
        Variance along each axis (ddof=1).
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Fraction of the total variance (all zeros for constant data, never NaN).
    std_ : ndarray of shape (n_components,)
        Standard deviation along each axis, ``sqrt(explained_variance_)``.
    mean_ : ndarray of shape (z_dim,)
    n_components_ : int
    n_features_in_ : int
    pca_ : sklearn.decomposition.PCA
    """

    def __init__(self, *, n_components: int | None = None, svd_solver: str = "auto",
                 random_state: int | None = 0) -> None:
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.random_state = random_state

    def fit(self, z, y=None) -> "LatentPCA":
        """Fit on all points.

        With ``"covariance_eigh"`` the mean and covariance are streamed over row chunks in
        float64 (:func:`~latentexplorer.analysis.correlation.mean_and_covariance`; no float64
        or centred copy of the data, and no float32 cancellation in ``XᵀX − n·μμᵀ``) and
        decomposed with :func:`numpy.linalg.eigh`; ``pca_`` is then a scikit-learn ``PCA``
        carrying the same fitted attributes. Other solvers call scikit-learn directly on a
        float64 copy (meant for small data, ``n_points < z_dim``).

        Parameters
        ----------
        z : ndarray of shape (n_points, z_dim), at least 2 points
        """
        z = check_matrix(z, min_rows=2)
        n, d = z.shape
        k_max = min(n, d)
        k = self.n_components
        if k is None:
            k = k_max
        elif isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= k_max:
            raise InvalidInputError(
                f"n_components: expected an integer in 1..{k_max} (min of n_points={n}, "
                f"z_dim={d}), got {k!r}")
        solver = self.svd_solver
        if solver == "auto":
            solver = "covariance_eigh" if n >= d else "full"
        if solver not in ("covariance_eigh", "full", "randomized", "arpack"):
            raise InvalidInputError(f"svd_solver: unknown solver {solver!r}")
        if solver == "arpack" and k >= k_max:
            solver = "full"
        if solver == "covariance_eigh":
            from .correlation import co_moments
            mean, var, components, total = _covariance_eigh(co_moments(z), int(k))
            pca = PCA(n_components=int(k), svd_solver="covariance_eigh")
            _fill_sklearn(pca, mean, var, components, total, n, d)
        else:
            pca = PCA(n_components=int(k), svd_solver=solver, random_state=self.random_state)
            with np.errstate(invalid="ignore", divide="ignore"):
                pca.fit(np.asarray(z, dtype=np.float64))
            mean = pca.mean_.astype(np.float64)
            components = pca.components_.astype(np.float64)
            var = np.clip(np.nan_to_num(pca.explained_variance_.astype(np.float64)), 0.0, None)
            total = float(np.sum(_total_variance(z)))
        self.pca_ = pca
        self.svd_solver_ = solver
        self.components_ = components
        self.mean_ = mean
        self.explained_variance_ = var
        self.explained_variance_ratio_ = var / total if total > 0 else np.zeros_like(var)
        self.std_ = np.sqrt(var)
        self.n_components_ = int(k)
        self.n_features_in_ = d
        self.n_samples_ = n
        return self

    def fit_moments(self, moments) -> "LatentPCA":
        """Fit from precomputed :class:`~latentexplorer.analysis.correlation.CoMoments`.

        Same result as ``fit(z)`` with the ``"covariance_eigh"`` solver, without reading the
        data again (``analyze_latents`` shares one pass between correlations and PCA).
        """
        n, d = moments.n, moments.mean.shape[0]
        if n < 2:
            raise InvalidInputError(f"moments: at least 2 points are needed, got {n}")
        k_max = min(n, d)
        k = self.n_components if self.n_components is not None else k_max
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= k_max:
            raise InvalidInputError(f"n_components: expected an integer in 1..{k_max}, got {k!r}")
        mean, var, components, total = _covariance_eigh(moments, int(k))
        pca = PCA(n_components=int(k), svd_solver="covariance_eigh")
        _fill_sklearn(pca, mean, var, components, total, n, d)
        self.pca_ = pca
        self.svd_solver_ = "covariance_eigh"
        self.components_, self.mean_, self.explained_variance_ = components, mean, var
        self.explained_variance_ratio_ = var / total if total > 0 else np.zeros_like(var)
        self.std_ = np.sqrt(var)
        self.n_components_, self.n_features_in_, self.n_samples_ = int(k), d, n
        return self

    # -- helpers ---------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise InvalidInputError("LatentPCA: not fitted yet; call fit(z) first")

    def _check_z(self, z, name="z") -> np.ndarray:
        self._check_fitted()
        z = check_matrix(z, name)
        if z.shape[1] != self.n_features_in_:
            raise InvalidInputError(
                f"{name}: expected {self.n_features_in_} components per vector, got {z.shape[1]}")
        return z

    def _check_axes(self, axes) -> np.ndarray:
        self._check_fitted()
        axes = np.atleast_1d(np.asarray(axes))
        if axes.ndim != 1 or axes.size == 0 or not np.issubdtype(axes.dtype, np.integer):
            raise InvalidInputError(f"axes: expected PCA axis indices, got {axes!r}")
        if (axes < 0).any() or (axes >= self.n_components_).any():
            raise InvalidInputError(
                f"axes: PCA axis out of range 0..{self.n_components_ - 1}: {axes.tolist()}")
        if np.unique(axes).size != axes.size:
            raise InvalidInputError(f"axes: must be different, got {axes.tolist()}")
        return axes.astype(np.int64)

    # -- transforms ------------------------------------------------------------------------
    def transform(self, z) -> np.ndarray:
        """PCA coordinates of ``z``, shape (n_points, n_components), float64."""
        return self.project(z, np.arange(self._n()))

    def _n(self) -> int:
        self._check_fitted()
        return self.n_components_

    def project(self, z, axes, *, chunk_size: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
        """Coordinates of ``z`` along the given PCA axes (no full transform, no centred copy).

        Parameters
        ----------
        z : ndarray of shape (n_points, z_dim)
        axes : sequence of int
            E.g. ``(i, j)`` for a PCA plane.

        Returns
        -------
        coords : ndarray of shape (n_points, len(axes)), float64
        """
        z = self._check_z(z)
        axes = self._check_axes(axes)
        chunk_size = check_chunk_size(chunk_size)
        w = self.components_[axes].T                       # (z_dim, k)
        offset = self.mean_ @ w
        out = np.empty((z.shape[0], axes.size))
        for start, block in iter_chunks(z, chunk_size):
            out[start:start + block.shape[0]] = np.asarray(block, dtype=np.float64) @ w - offset
        return out

    def inverse_transform(self, coords) -> np.ndarray:
        """Latent vectors from PCA coordinates.

        Parameters
        ----------
        coords : ndarray of shape (n_points, n_components) or (n_components,)

        Returns
        -------
        z : ndarray of shape (n_points, z_dim) (or (z_dim,)), float64
        """
        self._check_fitted()
        c = np.asarray(coords, dtype=np.float64)
        one = c.ndim == 1
        c = check_matrix(np.atleast_2d(c), "coords")
        if c.shape[1] != self.n_components_:
            raise InvalidInputError(
                f"coords: expected {self.n_components_} PCA coordinates, got {c.shape[1]}")
        z = c @ self.components_ + self.mean_
        return z[0] if one else z

    def plane_to_latent(self, base_vector, plane, coords) -> np.ndarray:
        """Latent vectors that equal ``base_vector`` except for two PCA coordinates.

        The result is ``base + Σ_a (c_a − p_a) · components_[a]`` for the two axes ``a`` of
        the plane, where ``p`` are the base vector's own PCA coordinates. Every other PCA
        coordinate — and any part of the base vector outside the kept PCA subspace — is kept
        exactly.

        Parameters
        ----------
        base_vector : ndarray of shape (z_dim,)
        plane : (int, int) or ("pca", int, int)
            The two PCA axes.
        coords : ndarray of shape (n_points, 2) or (2,)
            New coordinates along the two axes.

        Returns
        -------
        z : ndarray of shape (n_points, z_dim) (or (z_dim,) for one point), float64
        """
        self._check_fitted()
        if isinstance(plane, (tuple, list)) and len(plane) == 3:
            if plane[0] != "pca":
                raise InvalidInputError(f"plane: expected a PCA plane, got {plane!r}")
            plane = plane[1:]
        axes = self._check_axes(np.asarray(plane))
        if axes.size != 2:
            raise InvalidInputError(f"plane: expected two PCA axes, got {list(plane)!r}")
        base = np.asarray(base_vector, dtype=np.float64)
        if base.shape != (self.n_features_in_,) or not np.isfinite(base).all():
            raise InvalidInputError(
                f"base_vector: expected {self.n_features_in_} finite values, got shape "
                f"{base.shape}")
        c = np.asarray(coords, dtype=np.float64)
        one = c.ndim == 1
        c = np.atleast_2d(c)
        if c.ndim != 2 or c.shape[1] != 2 or not np.isfinite(c).all():
            raise InvalidInputError(f"coords: expected finite (n, 2) plane coordinates, "
                                    f"got shape {np.shape(coords)}")
        w = self.components_[axes]                           # (2, z_dim)
        p = (base - self.mean_) @ w.T                        # (2,)
        z = base + (c - p) @ w
        return z[0] if one else z


def _covariance_eigh(moments, k: int):
    """Mean, top-k variances, components (sklearn sign convention) and total variance."""
    mean, cov = moments.mean, moments.covariance(1)
    lam, vec = np.linalg.eigh(cov)
    order = np.argsort(lam)[::-1][:k]
    var = np.clip(lam[order], 0.0, None)
    comps = vec[:, order].T.copy()
    # sklearn's svd_flip(v-based): the largest |entry| of every component is positive
    big = np.argmax(np.abs(comps), axis=1)
    comps *= np.sign(comps[np.arange(k), big])[:, None]
    return mean, var, comps, float(np.trace(cov))


def _fill_sklearn(pca: PCA, mean, var, comps, total, n, d) -> None:
    """Give a scikit-learn PCA the fitted attributes (so ``pca_.transform`` etc. work)."""
    k = comps.shape[0]
    pca.mean_ = mean
    pca.components_ = comps
    pca.explained_variance_ = var
    pca.explained_variance_ratio_ = var / total if total > 0 else np.zeros_like(var)
    pca.singular_values_ = np.sqrt(var * (n - 1))
    pca.n_components_ = k
    pca.n_samples_ = n
    pca.n_features_in_ = d
    pca.noise_variance_ = float(max(total - var.sum(), 0.0) / (min(n, d) - k)) \
        if k < min(n, d) else 0.0
    pca._fit_svd_solver = "covariance_eigh"


def _total_variance(z, chunk_size: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """Per-component sample variance (ddof=1), streamed."""
    from .statistics import column_moments

    n, _, m2, _, _ = column_moments(z, chunk_size=chunk_size, validate=False)
    return m2 / (n - 1)
