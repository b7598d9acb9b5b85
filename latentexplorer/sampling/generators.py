"""Statistical z-vector generators (SPEC §5) with one interface.

Every generator is a small scikit-learn-style object: ``__init__`` stores parameters only,
:meth:`Generator.fit` learns what it needs from the encoded training points ``z`` (shape
``(n_points, z_dim)``) and returns ``self``; :meth:`Generator.sample` draws
``(n, z_dim)`` float32 vectors from a :class:`numpy.random.Generator` (or an int seed).
``name`` and :meth:`Generator.params` go into grid sidecars so a grid can be regenerated.

Only NumPy and scikit-learn are used here (no TensorFlow, no Qt).

The ellipse method (:class:`EllipseSampler`) is the seeds' main method: in PCA coordinates each
kept component ``i`` has a half-axis ``a_i = sigma_level * sigma_i``; components are drawn in a
random order per vector, the first uniformly in ``±fact*a_i`` and every later one uniformly inside
the interval allowed by the fact-scaled confidence ellipse of its pair with *every* component
already drawn::

    v_i**2 / (fact*a_i)**2 + v_j**2 / (fact*a_j)**2 <= 1   for all earlier i

With ``u_i = v_i / (fact*a_i)`` all these conditions for a new component ``j`` reduce to
``u_j**2 <= 1 - max_i u_i**2``, so a running maximum of ``u**2`` per vector replaces the seeds'
pairwise loop (``k*(k-1)/2`` checks per vector) and the whole draw is ``O(n*k)`` NumPy work,
vectorised over the vectors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..schemas import MAX_LATENT_ABS

#: upper bound on the number of vectors one call to ``sample`` may produce
MAX_SAMPLES = 10_000_000
#: a grid with more points than this is refused (see :class:`GridSampler`)
MAX_GRID_POINTS = 10_000_000
# vectors drawn per block by the ellipse sampler
_ELLIPSE_CHUNK = 16384

__all__ = [
    "Generator", "GridSampler", "UniformBoxSampler", "NormalSampler", "MultivariateNormalSampler",
    "EllipseSampler", "ellipse_draw_unit", "ellipse_pair_max", "ellipse_condition_violations",
    "ellipse_sample_pairwise_loop", "make_sampler", "METHODS", "as_rng",
]


# --------------------------------------------------------------------------- helpers

def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a generator, an int seed or ``None``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise InvalidInputError(f"rng: expected a numpy Generator or an int seed, got {type(rng).__name__}")


def _check_z(z: Any, *, min_points: int = 1) -> np.ndarray:
    z = np.asarray(z)
    if z.ndim != 2 or z.shape[1] < 1:
        raise InvalidInputError(f"z-points: expected an array of shape (n_points, z_dim), got {z.shape}")
    if z.shape[0] < min_points:
        raise InvalidInputError(f"z-points: need at least {min_points} points, got {z.shape[0]}")
    try:
        z = z.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        raise InvalidInputError(f"z-points: expected numbers, got dtype {z.dtype}") from None
    if not np.all(np.isfinite(z)):
        raise InvalidInputError("z-points: contain NaN or infinite values")
    top = float(np.abs(z).max()) if z.size else 0.0
    if top > MAX_LATENT_ABS:
        raise InvalidInputError(f"z-points: values up to {top:.3g} in magnitude; expected latent "
                                f"values within ±{MAX_LATENT_ABS:g} (a diverged model?)")
    return z


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InvalidInputError(f"n: expected an integer number of vectors, got {n!r}")
    n = int(n)
    if not 1 <= n <= MAX_SAMPLES:
        raise InvalidInputError(f"n: number of vectors must be in [1, {MAX_SAMPLES:,}], got {n}")
    return n


def _positive(name: str, value: Any) -> float:
    """A positive scale setting, at most :data:`MAX_LATENT_ABS`: beyond it the vectors would leave
    every latent space (and overflow float32 or a decoder's arithmetic)."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInputError(f"{name}: expected a number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise InvalidInputError(f"{name}: must be a positive finite number, got {value!r}")
    if v > MAX_LATENT_ABS:
        raise InvalidInputError(f"{name}={v:g}: expected at most {MAX_LATENT_ABS:g} (the generated "
                                f"vectors must stay within ±{MAX_LATENT_ABS:g}, where latent values are)")
    return v


def _check_reach(fact: float, sigma_level: float, sigma: np.ndarray) -> None:
    """The ellipse method's vectors lie within ``fact * sigma_level * |sigma|`` of the data mean
    (the components are orthonormal): refuse settings that would take them beyond
    :data:`MAX_LATENT_ABS`, naming both settings and the limit of their product."""
    spread = float(np.sqrt(np.sum(np.square(sigma, dtype=np.float64))))
    reach = fact * sigma_level * spread
    if reach > MAX_LATENT_ABS:
        raise InvalidInputError(
            f"fact={fact:g}, sigma_level={sigma_level:g}: the sampling ellipse would reach "
            f"±{reach:.3g} around the data mean (fact × sigma_level × {spread:.3g}, the spread of the "
            f"kept PCA components); expected fact × sigma_level at most {MAX_LATENT_ABS / spread:.3g}")


class Generator:
    """Base class: ``fit(z) -> self``, ``sample(n, rng) -> (n, z_dim) float32``."""

    name = "generator"

    def fit(self, z: np.ndarray) -> "Generator":  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def params(self) -> dict:
        """The constructor parameters (JSON-serialisable) for sidecars."""
        raise NotImplementedError  # pragma: no cover - abstract

    @property
    def z_dim(self) -> int:
        self._check_fitted()
        return int(self.z_dim_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "z_dim_"):
            raise InvalidInputError(f"{self.name} generator: call fit(z) before sample()")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


# --------------------------------------------------------------------------- grid / box / normal

class GridSampler(Generator):
    """Regular grid with ``points_per_axis`` values in ``[-b, b]`` per component (demonstration).

    A grid needs ``points_per_axis ** z_dim`` points: 3 values per axis in 256 dimensions are
    ~1.4e122 points, more than atoms in the universe. :meth:`fit` therefore refuses grids with
    more than :data:`MAX_GRID_POINTS` points with a message that says so; it only works for
    tiny latent spaces. :meth:`sample` returns ``n`` distinct grid points chosen at random
    (all of them, in random order, if ``n`` equals the grid size; with repeats if larger).
    """

    name = "grid"

    def __init__(self, b: float = 1.5, points_per_axis: int = 3) -> None:
        self.b = b
        self.points_per_axis = points_per_axis

    def params(self) -> dict:
        return {"b": self.b, "points_per_axis": self.points_per_axis}

    @staticmethod
    def grid_size(points_per_axis: int, z_dim: int) -> int:
        return int(points_per_axis) ** int(z_dim)

    def fit(self, z: np.ndarray) -> "GridSampler":
        _positive("b", self.b)
        ppa = self.points_per_axis
        if isinstance(ppa, bool) or not isinstance(ppa, (int, np.integer)) or ppa < 1:
            raise InvalidInputError(f"points_per_axis: expected an integer >= 1, got {ppa!r}")
        z_dim = _check_z(z).shape[1]
        size = self.grid_size(ppa, z_dim)
        if size > MAX_GRID_POINTS:
            digits = len(str(size)) - 1
            raise InvalidInputError(
                f"grid: {ppa} points per axis in {z_dim} dimensions would need {ppa}^{z_dim} "
                f"~ 1e{digits} vectors (limit {MAX_GRID_POINTS:,}). A grid grows exponentially with "
                f"the number of latent dimensions (3 values per axis in 256 dimensions are ~1e122 "
                f"points), so it cannot cover a {z_dim}-dimensional latent space; use a statistical "
                "generator (uniform, normal, mvn, ellipse) instead")
        self.z_dim_ = z_dim
        self.n_grid_ = size
        self.axis_values_ = np.linspace(-float(self.b), float(self.b), int(ppa))
        return self

    def grid_points(self, indices: np.ndarray) -> np.ndarray:
        """Grid points for flat indices (mixed radix, last component fastest)."""
        self._check_fitted()
        idx = np.asarray(indices, dtype=np.int64)
        ppa = int(self.points_per_axis)
        digits = np.empty((idx.size, self.z_dim_), dtype=np.int64)
        rest = idx.copy()
        for d in range(self.z_dim_ - 1, -1, -1):
            digits[:, d] = rest % ppa
            rest //= ppa
        return self.axis_values_[digits].astype(np.float32)

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        self._check_fitted()
        n = _check_n(n)
        rng = as_rng(rng)
        if n <= self.n_grid_:
            idx = rng.choice(self.n_grid_, size=n, replace=False)
        else:
            idx = rng.integers(0, self.n_grid_, size=n)
        return self.grid_points(idx)


class UniformBoxSampler(Generator):
    """Independent ``U(-b, b)`` per component (the seeds' naive generator; centred at 0)."""

    name = "uniform"

    def __init__(self, b: float = 1.5) -> None:
        self.b = b

    def params(self) -> dict:
        return {"b": self.b}

    def fit(self, z: np.ndarray) -> "UniformBoxSampler":
        _positive("b", self.b)
        self.z_dim_ = _check_z(z).shape[1]
        return self

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        self._check_fitted()
        n = _check_n(n)
        b = float(self.b)
        return as_rng(rng).uniform(-b, b, size=(n, self.z_dim_)).astype(np.float32)


class NormalSampler(Generator):
    """Independent ``N(0, sigma^2)`` per component; with ``center=True`` around the data mean."""

    name = "normal"

    def __init__(self, sigma: float = 1.0, center: bool = False) -> None:
        self.sigma = sigma
        self.center = center

    def params(self) -> dict:
        return {"sigma": self.sigma, "center": bool(self.center)}

    def fit(self, z: np.ndarray) -> "NormalSampler":
        _positive("sigma", self.sigma)
        z = _check_z(z)
        self.z_dim_ = z.shape[1]
        self.mean_ = z.mean(axis=0) if self.center else np.zeros(self.z_dim_)
        return self

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        self._check_fitted()
        n = _check_n(n)
        out = as_rng(rng).standard_normal((n, self.z_dim_))
        out *= float(self.sigma)
        out += self.mean_
        return out.astype(np.float32)


# --------------------------------------------------------------------------- multivariate normal

def _cholesky_with_jitter(cov: np.ndarray) -> tuple[np.ndarray, float]:
    """Cholesky factor of ``cov``; adds a growing multiple of the identity if it is singular."""
    d = cov.shape[0]
    scale = float(np.trace(cov)) / d if d else 1.0
    scale = scale if scale > 0 else 1.0
    jitter = 0.0
    for attempt in range(12):
        try:
            return np.linalg.cholesky(cov + jitter * np.eye(d)), jitter
        except np.linalg.LinAlgError:
            jitter = scale * (1e-10 * 10.0 ** attempt)
    raise InvalidInputError("mvn: the covariance of the z-points is not usable (Cholesky failed)")


class MultivariateNormalSampler(Generator):
    """Full-covariance multivariate normal fitted to the z-points (SPEC §5.5).

    ``z = mean + L @ e`` with ``L`` the Cholesky factor of the data covariance (a tiny jitter
    ``~1e-10 * mean variance`` is added if the covariance is singular, e.g. fewer points than
    dimensions) and ``e ~ N(0, I)``. The Mahalanobis radius of ``z`` is ``|e|``; with
    ``truncate=r`` vectors with ``|e| > r`` are rejected and redrawn (vectorised). In ``d``
    dimensions ``|e|`` concentrates around ``sqrt(d - 1/2)`` (16 for 256), so ``r`` must not be
    far below that: a truncation that would reject nearly everything raises an error.
    """

    name = "mvn"

    def __init__(self, truncate: float | None = None) -> None:
        self.truncate = truncate

    def params(self) -> dict:
        return {"truncate": self.truncate}

    def fit(self, z: np.ndarray) -> "MultivariateNormalSampler":
        if self.truncate is not None:
            _positive("truncate", self.truncate)
        z = _check_z(z, min_points=2)
        self.z_dim_ = z.shape[1]
        self.mean_ = z.mean(axis=0)
        cov = np.atleast_2d(np.cov(z, rowvar=False))
        self.cholesky_, self.jitter_ = _cholesky_with_jitter(cov)
        return self

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        self._check_fitted()
        n = _check_n(n)
        rng = as_rng(rng)
        e = rng.standard_normal((n, self.z_dim_))
        if self.truncate is not None:
            r2 = float(self.truncate) ** 2
            bad = np.flatnonzero(np.einsum("ij,ij->i", e, e) > r2)
            drawn, accepted = n, n - bad.size
            while bad.size:
                if drawn >= 10_000 and accepted < 1e-3 * drawn:
                    raise InvalidInputError(
                        f"mvn: truncate={self.truncate} rejects almost every vector (acceptance "
                        f"{accepted / drawn:.1e}); in {self.z_dim_} dimensions the Mahalanobis radius "
                        f"of normal vectors is about {math.sqrt(self.z_dim_ - 0.5):.1f}")
                new = rng.standard_normal((bad.size, self.z_dim_))
                ok = np.einsum("ij,ij->i", new, new) <= r2
                e[bad[ok]] = new[ok]
                drawn += bad.size
                accepted += int(ok.sum())
                bad = bad[~ok]
        out = e @ self.cholesky_.T
        out += self.mean_
        return out.astype(np.float32)

    def mahalanobis(self, z: np.ndarray) -> np.ndarray:
        """Mahalanobis radius of vectors ``z`` under the fitted distribution."""
        self._check_fitted()
        diff = np.atleast_2d(np.asarray(z, dtype=np.float64)) - self.mean_
        e = np.linalg.solve(self.cholesky_, diff.T).T
        return np.sqrt(np.einsum("ij,ij->i", e, e))


# --------------------------------------------------------------------------- ellipse method

def ellipse_draw_unit(n: int, k: int, rng: np.random.Generator, *,
                      return_order: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Ellipse-method draw in unit coordinates ``u_i = v_i / (fact * a_i)``, shape ``(n, k)``.

    Per vector the k components are visited in a random order (an independent permutation per
    vector); the first is ``U(-1, 1)``, each later one is ``U(-c, c)`` with
    ``c = sqrt(1 - max(u_earlier**2))``, which is exactly the intersection of the intervals
    allowed by the unit circles ``u_i**2 + u_j**2 <= 1`` with every earlier component ``i``.
    Cost: ``O(n*k)``, a Python loop over the k draw positions, vectorised over the n vectors.
    With ``return_order`` also the ``(n, k)`` draw order (``order[m, p]`` = component drawn
    p-th by vector m).
    """
    # draw-order values: row p holds the p-th drawn value of every vector (contiguous rows)
    w = rng.uniform(-1.0, 1.0, size=(k, n))
    running_max = np.zeros(n)
    limit = np.empty(n)
    for p in range(1, k):
        prev = w[p - 1]
        np.maximum(running_max, prev * prev, out=running_max)
        np.subtract(1.0, running_max, out=limit)
        np.sqrt(limit, out=limit)
        w[p] *= limit
    # random component order per vector (argsort of random keys):
    # order[m, p] = the component that vector m draws at position p
    order = np.argsort(rng.random((n, k), dtype=np.float32), axis=1)
    u = np.empty((n, k))
    np.put_along_axis(u, order, w.T, axis=1)
    return (u, order) if return_order else u


def ellipse_pair_max(v_pca: np.ndarray, half_axes_scaled: np.ndarray) -> np.ndarray:
    """Per vector, the largest ``v_i²/A_i² + v_j²/A_j²`` over all pairs ``i != j``.

    ``A = fact * a`` are the fact-scaled half-axes. The maximum over pairs is the sum of the two
    largest ``u²`` values, so this checks every pair in ``O(k)`` per vector. A vector satisfies
    all pairwise ellipse conditions iff the returned value is ``<= 1``.
    """
    u2 = _unit_squares(v_pca, half_axes_scaled)
    if u2.shape[1] < 2:
        return u2[:, 0] if u2.shape[1] else np.zeros(u2.shape[0])
    top2 = np.partition(u2, u2.shape[1] - 2, axis=1)[:, -2:]
    return top2.sum(axis=1)


def _unit_squares(v_pca: np.ndarray, half_axes_scaled: np.ndarray) -> np.ndarray:
    v = np.atleast_2d(np.asarray(v_pca, dtype=np.float64))
    a = np.asarray(half_axes_scaled, dtype=np.float64).reshape(-1)
    if v.shape[1] != a.size:
        raise InvalidInputError(f"ellipse check: {v.shape[1]} components but {a.size} half-axes")
    if np.any(a <= 0):
        raise InvalidInputError("ellipse check: half-axes must be positive")
    return (v / a) ** 2


def ellipse_condition_violations(v_pca: np.ndarray, half_axes_scaled: np.ndarray,
                                 *, tol: float = 1e-9) -> np.ndarray:
    """Number of component pairs per vector that violate their fact-scaled ellipse condition.

    Parameters
    ----------
    v_pca : ndarray of shape (n, k)
        Vectors in (kept) PCA coordinates, centred on the data mean.
    half_axes_scaled : ndarray of shape (k,)
        ``fact * a_i`` (``a_i = sigma_level * sigma_i``).
    tol : float
        A pair violates when ``u_i² + u_j² > 1 + tol``.

    Returns
    -------
    ndarray of shape (n,), int64 — 0 for a vector whose every pair lies inside its ellipse.
    Vectors that pass the two-largest test are not examined further; the others are counted
    exactly (sorted ``u²`` + binary search, per failing vector).
    """
    u2 = _unit_squares(v_pca, half_axes_scaled)
    n, k = u2.shape
    counts = np.zeros(n, dtype=np.int64)
    if k < 2:
        return counts
    worst = ellipse_pair_max(v_pca, half_axes_scaled)
    for m in np.flatnonzero(worst > 1.0 + tol):
        s = np.sort(u2[m])
        # for each i, count j > i with s_j > 1 + tol - s_i
        first = np.searchsorted(s, 1.0 + tol - s, side="right")
        first = np.maximum(first, np.arange(1, k + 1))
        counts[m] = int(np.sum(k - first))
    return counts


def ellipse_sample_pairwise_loop(half_axes_scaled: np.ndarray, n: int,
                                 rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Reference implementation: the seeds' straightforward per-vector loop (slow; benchmarks).

    For every vector, components in random order; the first ``U(-A, A)``; for each later
    component the allowed interval is narrowed by an explicit check against *each* earlier
    component (``k(k-1)/2`` pair checks per vector), then drawn uniformly. Returns PCA
    coordinates of shape ``(n, k)`` (float64), like :meth:`EllipseSampler.sample_pca`.
    """
    rng = as_rng(rng)
    n = _check_n(n)
    a = np.asarray(half_axes_scaled, dtype=np.float64).reshape(-1)
    k = a.size
    out = np.zeros((n, k))
    for m in range(n):
        order = rng.permutation(k)
        v = out[m]
        drawn: list[int] = []
        for j in order:
            c = a[j]
            for i in drawn:
                ratio = v[i] / a[i]
                c = min(c, a[j] * math.sqrt(max(0.0, 1.0 - ratio * ratio)))
            v[j] = rng.uniform(-c, c)
            drawn.append(j)
    return out


class EllipseSampler(Generator):
    """The ellipse method in PCA coordinates (SPEC §5.4; the seeds' main generator).

    ``fit`` runs a PCA of the z-points and keeps ``n_components`` leading axes with standard
    deviations ``sigma_i``; half-axes are ``a_i = sigma_level * sigma_i``. ``sample`` draws
    PCA coordinates with :func:`ellipse_draw_unit` scaled by ``fact * a_i`` (every pair of
    components of every vector inside its fact-scaled ellipse), sets the dropped components to
    zero and transforms back with the inverse PCA (``z = mean + v @ components``).

    Parameters
    ----------
    n_components : int
        Kept PCA components, ``1 <= n_components <= z_dim`` (seed: 50 … 120 of 256).
    sigma_level : float
        Confidence level of the half-axes in standard deviations (seed: 2.2 … 2.35).
    fact : float
        Scale of the sampling ellipses relative to the half-axes (seed: 0.6 … 0.8).
    """

    name = "ellipse"

    def __init__(self, n_components: int = 100, sigma_level: float = 2.35, fact: float = 0.7) -> None:
        self.n_components = n_components
        self.sigma_level = sigma_level
        self.fact = fact

    def params(self) -> dict:
        return {"n_components": self.n_components, "sigma_level": self.sigma_level, "fact": self.fact}

    def fit(self, z: np.ndarray) -> "EllipseSampler":
        _positive("sigma_level", self.sigma_level)
        _positive("fact", self.fact)
        z = _check_z(z, min_points=2)
        n_points, z_dim = z.shape
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= z_dim:
            raise InvalidInputError(f"n_components: must be an integer in [1, z_dim={z_dim}], got {k!r}")
        if k > n_points:
            raise InvalidInputError(
                f"n_components: {k} PCA components need at least {k} z-points, got {n_points}")
        from sklearn.decomposition import PCA

        solver = "covariance_eigh" if n_points >= 4 * z_dim else "full"
        pca = PCA(n_components=int(k), svd_solver=solver).fit(z)
        sigma = np.sqrt(np.maximum(pca.explained_variance_, 0.0))
        if np.any(sigma <= 0):
            zero = int(np.flatnonzero(sigma <= 0)[0])
            raise InvalidInputError(
                f"n_components: PCA component {zero} of the z-points has zero variance; "
                f"use fewer than {zero + 1} components")
        _check_reach(float(self.fact), float(self.sigma_level), sigma)
        self.z_dim_ = z_dim
        self.mean_ = pca.mean_.astype(np.float64)
        self.components_ = pca.components_.astype(np.float64)  # (k, z_dim), orthonormal rows
        self.sigma_ = sigma
        self.explained_variance_ratio_ = pca.explained_variance_ratio_
        return self

    def fit_from_pca(self, pca: Any) -> "EllipseSampler":
        """Use an already fitted PCA (``mean_``, ``components_``, ``explained_variance_``, e.g.
        ``analysis.pca.LatentPCA`` or scikit-learn's PCA) instead of fitting one on z-points;
        keeps its first ``n_components`` axes (the GUI has the PCA of 200k points already)."""
        _positive("sigma_level", self.sigma_level)
        _positive("fact", self.fact)
        try:
            mean = np.asarray(pca.mean_, dtype=np.float64).reshape(-1)
            comps = np.asarray(pca.components_, dtype=np.float64)
            var = np.asarray(pca.explained_variance_, dtype=np.float64).reshape(-1)
        except AttributeError:
            raise InvalidInputError("pca: expected a fitted PCA with mean_, components_, "
                                    "explained_variance_") from None
        k = self.n_components
        if comps.ndim != 2 or comps.shape[1] != mean.size or var.size != comps.shape[0]:
            raise InvalidInputError(f"pca: inconsistent shapes {mean.shape}, {comps.shape}, {var.shape}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= comps.shape[0]:
            raise InvalidInputError(
                f"n_components: must be an integer in [1, {comps.shape[0]}] (components of the PCA), got {k!r}")
        sigma = np.sqrt(np.maximum(var[:k], 0.0))
        if np.any(sigma <= 0):
            raise InvalidInputError("n_components: the PCA has zero-variance components among the kept ones")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(comps)) and np.all(np.isfinite(sigma))):
            raise InvalidInputError("pca: mean, components or variances are not finite")
        _check_reach(float(self.fact), float(self.sigma_level), sigma)
        self.z_dim_ = int(mean.size)
        self.mean_ = mean
        self.components_ = comps[:k]
        self.sigma_ = sigma
        ratio = getattr(pca, "explained_variance_ratio_", None)
        self.explained_variance_ratio_ = None if ratio is None else np.asarray(ratio)[:k]
        return self

    @property
    def half_axes_(self) -> np.ndarray:
        """``a_i = sigma_level * sigma_i`` per kept component."""
        return float(self.sigma_level) * self.sigma_

    @property
    def half_axes_scaled_(self) -> np.ndarray:
        """``fact * a_i``: the half-axes of the sampling ellipses."""
        return float(self.fact) * self.half_axes_

    def _pca_chunks(self, n: int, rng: np.random.Generator | int | None):
        """Yield ``(start, v)`` blocks of kept PCA coordinates (bounded memory, cache friendly)."""
        self._check_fitted()
        n = _check_n(n)
        rng = as_rng(rng)
        scale = self.half_axes_scaled_
        for start in range(0, n, _ELLIPSE_CHUNK):
            v = ellipse_draw_unit(min(_ELLIPSE_CHUNK, n - start), scale.size, rng)
            v *= scale
            yield start, v

    def sample_pca(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Kept PCA coordinates ``(n, n_components)`` float64 (centred on the data mean).

        Uses the random stream exactly like :meth:`sample`, so for the same seed
        ``from_pca(sample_pca(n, seed))`` equals ``sample(n, seed)`` up to float32 rounding.
        """
        self._check_fitted()
        n = _check_n(n)
        out = np.empty((n, self.sigma_.size))
        for start, v in self._pca_chunks(n, rng):
            out[start:start + len(v)] = v
        return out

    def to_pca(self, z: np.ndarray) -> np.ndarray:
        """Kept PCA coordinates of latent vectors ``z``."""
        self._check_fitted()
        return (np.atleast_2d(np.asarray(z, dtype=np.float64)) - self.mean_) @ self.components_.T

    def from_pca(self, v: np.ndarray) -> np.ndarray:
        """Latent vectors (float32) from kept PCA coordinates; dropped components are zero."""
        self._check_fitted()
        out = np.asarray(v, dtype=np.float64) @ self.components_
        out += self.mean_
        return out.astype(np.float32)

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        n = _check_n(n)
        self._check_fitted()
        comps = self.components_.astype(np.float32)
        mean = self.mean_.astype(np.float32)
        out = np.empty((n, self.z_dim_), dtype=np.float32)
        for start, v in self._pca_chunks(n, rng):
            block = out[start:start + len(v)]
            np.matmul(v.astype(np.float32), comps, out=block)
            block += mean
        return out


# --------------------------------------------------------------------------- factory

METHODS = {
    "grid": GridSampler,
    "uniform": UniformBoxSampler,
    "normal": NormalSampler,
    "mvn": MultivariateNormalSampler,
    "ellipse": EllipseSampler,
}

# CLI-style spellings accepted by make_sampler
_ALIASES = {"n_comp": "n_components", "sigma-level": "sigma_level", "n-comp": "n_components",
            "points-per-axis": "points_per_axis"}


def make_sampler(method: str, **params: Any) -> Generator:
    """Generator by name: ``"grid"``, ``"uniform"``, ``"normal"``, ``"mvn"``, ``"ellipse"``.

    Parameters are the constructor's (``n_comp`` is accepted for ``n_components``); ``None``
    values are ignored (defaults apply). Unknown methods or parameters raise
    :class:`InvalidInputError`. Values are validated when the generator is fitted.
    """
    cls = METHODS.get(str(method).lower())
    if cls is None:
        raise InvalidInputError(f"method: unknown generator {method!r}; choose one of {', '.join(METHODS)}")
    import inspect

    allowed = set(inspect.signature(cls.__init__).parameters) - {"self"}
    kwargs = {}
    for key, value in params.items():
        key = _ALIASES.get(key, key)
        if value is None:
            continue
        if key not in allowed:
            raise InvalidInputError(
                f"{method}: unknown parameter {key!r} (accepted: {', '.join(sorted(allowed))})")
        kwargs[key] = value
    return cls(**kwargs)
