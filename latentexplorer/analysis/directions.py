"""Directions in latent space and how entangled they are (issue 13 "Directions").

Three ways to get unit directions ``(k, z_dim)`` in z, one :class:`Directions` result:

* :func:`pca_directions` — principal axes of the z-points (GANSpace, Härkönen et al. 2020), through
  :class:`~latentexplorer.analysis.pca.LatentPCA`;
* :func:`sefa_directions` — closed-form directions of the decoder (SeFa, Shen & Zhou 2021): the
  first layer maps ``z`` to ``A z + b``; the directions ``n`` that change its output most,
  ``argmax ‖A n‖²``, are the eigenvectors of ``AᵀA``. A Keras ``Dense`` kernel ``W`` has shape
  ``(z_dim, units)`` and computes ``z W``, so ``A = Wᵀ`` and ``AᵀA = W Wᵀ`` (``z_dim × z_dim``);
  :func:`first_dense_kernel` takes ``W`` from the real decoder;
* :func:`attribute_unit_directions` — per attribute, the difference of the group means (positive −
  negative) of :mod:`~latentexplorer.analysis.attributes` (the SPEC's definition, the one the
  path strip already follows), fitted on a seeded training split and scored on the held-out rest
  by the AUC of the projections. Mean difference rather than a classifier's normal: closed form,
  no regularisation to tune, streams over 200,000 points, and its entanglement is what users
  meet in practice — a correlated attribute leaks into it, which :func:`orthogonalize` removes
  (InterFaceGAN's conditional manipulation, Shen et al. 2020).

:func:`entanglement_report` measures the leak: it moves seeded data points along each direction
by ``t`` standard deviations of the data along it and averages the attributes (fraction positive)
of the ``k`` nearest real points of every moved vector; the slope per σ says, e.g., "eyeglasses
also changes male by +0.3 per σ".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata

from ..errors import InvalidInputError
from ._validation import check_matrix, check_vector

__all__ = ["METHODS", "DIRECTIONS_FORMAT", "Directions", "pca_directions",
           "first_dense_kernel", "sefa_directions", "attribute_unit_directions", "orthogonalize",
           "orthogonalize_directions", "make_directions", "default_steps", "grid_starts",
           "direction_grid", "grid_settings"]

METHODS = ("pca", "sefa", "attribute")
DIRECTIONS_FORMAT = "latentexplorer-directions/1"


def _none_if_nan(x: float) -> float | None:
    return float(x) if math.isfinite(float(x)) else None


@dataclass
class Directions:
    """Unit directions in z with their names and one number each.

    Attributes
    ----------
    method : {"pca", "sefa", "attribute"}
    names : list of str, length k
    vectors : ndarray of shape (k, z_dim), float64, unit rows
    scores : ndarray of shape (k,)
        pca: explained variance ratio; sefa: eigenvalue of ``AᵀA``; attribute: held-out AUC.
    score_name : str
    details : list of dict, length k
        JSON-ready facts per direction (group sizes, train AUC, what it was orthogonalised to).
    """

    method: str
    names: list
    vectors: np.ndarray
    scores: np.ndarray
    score_name: str
    details: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.details:
            self.details = [{} for _ in self.names]

    def __len__(self) -> int:
        return len(self.names)

    def labels(self) -> list[str]:
        """Names with what they were orthogonalised to (``"eyeglasses ⊥ male"``)."""
        out = []
        for name, d in zip(self.names, self.details):
            perp = d.get("orthogonal_to") or []
            out.append(f"{name} ⊥ {', '.join(perp)}" if perp else name)
        return out

    def to_dict(self) -> dict:
        return {"format": DIRECTIONS_FORMAT, "method": self.method, "names": list(self.names),
                "labels": self.labels(), "score_name": self.score_name,
                "scores": [_none_if_nan(s) for s in self.scores],
                "z_dim": int(self.vectors.shape[1]), "details": list(self.details)}


# --------------------------------------------------------------------------- PCA (GANSpace)

def pca_directions(z=None, n_components: int = 6, *, pca=None) -> Directions:
    """The leading principal axes of the z-points.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim), optional
        Fitted with :class:`LatentPCA` unless ``pca`` is given.
    n_components : int
    pca : LatentPCA, optional, keyword-only
        An already fitted PCA (the explorer's); its first ``n_components`` axes are used.

    Returns
    -------
    Directions
        Scores: explained variance ratio.
    """
    from .pca import LatentPCA

    if pca is None:
        if z is None:
            raise InvalidInputError("pca_directions: give the z-points or a fitted PCA")
        z = check_matrix(z, min_rows=2)
        pca = LatentPCA(n_components=min(int(n_components), *z.shape)).fit(z)
    k = int(n_components)
    if not 1 <= k <= pca.n_components_:
        raise InvalidInputError(f"n_components: expected 1..{pca.n_components_} PCA axes, got {k}")
    return Directions("pca", [f"PC{i + 1}" for i in range(k)],
                      np.asarray(pca.components_[:k], dtype=np.float64),
                      np.asarray(pca.explained_variance_ratio_[:k], dtype=np.float64),
                      "explained_variance_ratio")


# --------------------------------------------------------------------------- SeFa

def first_dense_kernel(keras_model) -> np.ndarray:
    """Kernel ``W`` of shape (z_dim, units) of the first ``Dense`` layer of a Keras decoder.

    Duck-typed (no Keras import): the layers are scanned in order for the first whose class is
    ``Dense``; its kernel must read z directly (first dimension = the model's z_dim), otherwise SeFa
    has no meaning for this decoder and the call is refused.
    """
    try:
        z_dim = int(keras_model.inputs[0].shape[-1])
        layers = list(keras_model.layers)
    except (AttributeError, IndexError, TypeError, ValueError):
        raise InvalidInputError("decoder: expected a built Keras model with one vector input") from None
    for layer in layers:
        if type(layer).__name__ == "Dense":
            kernel = np.asarray(layer.get_weights()[0], dtype=np.float64)
            if kernel.ndim != 2 or kernel.shape[0] != z_dim:
                raise InvalidInputError(
                    f"decoder: its first Dense layer {layer.name!r} has a kernel of shape "
                    f"{kernel.shape}, expected ({z_dim}, units) reading z directly")
            return kernel
    raise InvalidInputError("decoder: has no Dense layer; SeFa needs a first Dense layer on z")


def sefa_directions(kernel, n_components: int | None = None) -> Directions:
    """SeFa directions of a first layer with Keras kernel ``W`` (``y = z W + b``).

    Parameters
    ----------
    kernel : ndarray of shape (z_dim, units)
    n_components : int, optional
        How many directions (default all ``z_dim``).

    Returns
    -------
    Directions
        Eigenvectors of ``W Wᵀ`` (= ``AᵀA`` with ``A = Wᵀ``) as unit rows, by decreasing
        eigenvalue (the scores: ``‖A n‖²``, the squared singular values of ``W``); the sign makes
        the largest entry of each positive (scikit-learn's PCA convention).
    """
    w = np.asarray(kernel, dtype=np.float64)
    if w.ndim != 2 or min(w.shape) < 1:
        raise InvalidInputError(f"kernel: expected shape (z_dim, units), got {w.shape}")
    if not np.isfinite(w).all():
        raise InvalidInputError("kernel: contains NaN or infinite values")
    d = w.shape[0]
    k = d if n_components is None else int(n_components)
    if not 1 <= k <= d:
        raise InvalidInputError(f"n_components: expected 1..{d} SeFa directions, got {k}")
    lam, vec = np.linalg.eigh(w @ w.T)
    order = np.argsort(lam)[::-1][:k]
    comps = vec[:, order].T.copy()
    big = np.argmax(np.abs(comps), axis=1)
    comps *= np.sign(comps[np.arange(k), big])[:, None]
    return Directions("sefa", [f"SeFa{i + 1}" for i in range(k)], comps,
                      np.clip(lam[order], 0.0, None), "eigenvalue")


# --------------------------------------------------------------------------- attributes

def _auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (NaN without both)."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _test_mask(n: int, test_fraction: float, random_state: int) -> np.ndarray:
    """The seeded held-out rows (the same for a direction and its orthogonalised version)."""
    if not 0.0 < float(test_fraction) < 1.0:
        raise InvalidInputError(f"test_fraction: expected a number in (0, 1), got {test_fraction}")
    test = np.zeros(n, bool)
    test[np.random.default_rng(random_state).permutation(n)[:max(1, round(test_fraction * n))]] = True
    return test


def _heldout_auc(z, pos, known, units, test) -> np.ndarray:
    """AUC per column of ``pos`` (n, k) of the held-out projections on ``units`` (k, z_dim)."""
    proj = np.asarray(z[test], dtype=np.float64) @ np.atleast_2d(units).T
    return np.array([_auc(proj[known[test, j], j], pos[test, j][known[test, j]])
                     for j in range(proj.shape[1])])


def attribute_unit_directions(z, labels, names, *, select=None, test_fraction: float = 0.2,
                              random_state: int = 0) -> Directions:
    """Mean-difference directions of attributes, scored on held-out points.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
    labels : ndarray of shape (n_points, n_attributes)
        ±1, 0/1, bool or continuous (split at the median, :func:`binarize_labels`); NaN unknown.
    names : sequence of str, length n_attributes
    select : sequence of str, optional, keyword-only
        The attributes wanted (default all); an unknown name is refused.
    test_fraction : float, keyword-only
        Share of the points held out (seeded by ``random_state``) for the score.

    Returns
    -------
    Directions
        Unit directions fitted on the training split; scores: AUC of the held-out projections
        (NaN when the held-out part lacks a group). ``details`` hold ``train_auc``,
        ``d_prime``, ``n_train`` and ``n_test``.
    """
    from .attributes import attribute_directions, binarize_labels

    z = check_matrix(z, min_rows=2)
    lab = np.asarray(labels, dtype=np.float64)
    lab = lab[:, None] if lab.ndim == 1 else lab
    names = [str(s) for s in names]
    if lab.ndim != 2 or lab.shape[0] != z.shape[0] or lab.shape[1] != len(names):
        raise InvalidInputError(f"labels: expected shape ({z.shape[0]}, {len(names)}), got {lab.shape}")
    select = list(names) if select is None else [str(s) for s in select]
    unknown = [s for s in select if s not in names]
    if unknown or not select:
        raise InvalidInputError(f"attribute {', '.join(map(repr, unknown)) or '(none)'}: unknown; "
                                f"known: {', '.join(names) or 'none'}")
    cols = [names.index(s) for s in select]
    sub = lab[:, cols]
    known = ~np.isnan(sub)
    pos = binarize_labels(sub)  # on all points: the same split rule for training and held-out
    test = _test_mask(z.shape[0], test_fraction, random_state)
    # held-out rows become "unknown" (NaN): the fit streams over z without copying the training rows
    train_lab = np.where(known & ~test[:, None], pos.astype(np.float64), np.nan)
    train_lab = np.where(np.isnan(train_lab).all(axis=0)[None, :], 0.0, train_lab)
    fit = attribute_directions(z, train_lab, names=select)
    bad = [s for s, ok in zip(select, fit.valid) if not ok]
    if bad:
        raise InvalidInputError(f"attribute {', '.join(map(repr, bad))}: needs labelled points on "
                                "both sides in the training split")
    units = fit.directions / fit.norms[:, None]
    scores = _heldout_auc(z, pos, known, units, test)
    details = []
    for j, name in enumerate(select):
        details.append({"attribute": name, "train_auc": float(fit.auc[j]),
                        "d_prime": float(fit.d_prime[j]), "n_train": int(fit.n_pos[j] + fit.n_neg[j]),
                        "n_test": int(known[test, j].sum()), "test_fraction": float(test_fraction),
                        "random_state": int(random_state)})
    return Directions("attribute", select, units, scores, "heldout_auc", details)


# --------------------------------------------------------------------------- orthogonalisation

def orthogonalize(direction, others, *, name: str = "direction", other_names=None,
                  tol: float = 1e-3) -> np.ndarray:
    """Project ``direction`` onto the orthogonal complement of the span of ``others``.

    Moving along the result leaves every projection on ``others`` unchanged (InterFaceGAN's
    conditional manipulation ``n₁ − (n₁ᵀn₂) n₂``, for any number of conditions).

    Parameters
    ----------
    direction : ndarray of shape (z_dim,)
    others : ndarray of shape (m, z_dim)
    tol : float
        Smallest kept length of the residual relative to ``direction`` (the sine of the angle to
        the span); less is refused.

    Returns
    -------
    unit : ndarray of shape (z_dim,), float64
    """
    v = check_vector(direction, name)
    o = np.atleast_2d(np.asarray(others, dtype=np.float64))
    labels = list(other_names) if other_names is not None else [f"#{i}" for i in range(len(o))]
    if o.size == 0 or o.shape[0] == 0:
        raise InvalidInputError(f"{name}: no directions to orthogonalise against")
    if o.ndim != 2 or o.shape[1] != v.size or not np.isfinite(o).all():
        raise InvalidInputError(f"{name}: the directions to orthogonalise against must be finite "
                                f"(m, {v.size}) vectors, got shape {o.shape}")
    norm_v = float(np.linalg.norm(v))
    if norm_v == 0.0:
        raise InvalidInputError(f"{name}: is the zero vector")
    zero = [labels[i] for i, r in enumerate(np.linalg.norm(o, axis=1)) if r == 0.0]
    if zero:
        raise InvalidInputError(f"{name}: cannot orthogonalise against the zero direction "
                                f"{', '.join(map(str, zero))}")
    _, s, vt = np.linalg.svd(o, full_matrices=False)
    basis = vt[s > s[0] * 1e-10]                       # an orthonormal basis of their span
    rest = v - (v @ basis.T) @ basis
    left = float(np.linalg.norm(rest)) / norm_v
    if left < tol:
        raise InvalidInputError(
            f"{name}: lies in the span of {', '.join(map(str, labels))} (only {left:.2g} of it is "
            "left after orthogonalising); choose other directions")
    return rest / float(np.linalg.norm(rest))


def orthogonalize_directions(dirs: Directions, others: np.ndarray, other_names) -> Directions:
    """Every direction of ``dirs`` orthogonalised against ``others`` (m, z_dim) — each against
    all of them but one of its own name (an attribute is not made orthogonal to itself; a
    direction that is the only condition stays unchanged)."""
    other_names = [str(s) for s in other_names]
    o = np.atleast_2d(np.asarray(others, dtype=np.float64))
    if o.shape[0] != len(other_names):
        raise InvalidInputError(f"others: {o.shape[0]} directions for {len(other_names)} names")
    vectors, details = [], []
    for name, v, det in zip(dirs.names, dirs.vectors, dirs.details):
        keep = [i for i, s in enumerate(other_names) if s != name]
        if not keep:  # a condition itself (male, with --orthogonal-to male) stays as it is
            vectors.append(np.asarray(v, dtype=np.float64))
            details.append({**det, "orthogonal_to": [], "cosine_to_original": 1.0})
            continue
        vectors.append(orthogonalize(v, o[keep], name=name,
                                     other_names=[other_names[i] for i in keep]))
        details.append({**det, "orthogonal_to": [other_names[i] for i in keep],
                        "cosine_to_original": float(vectors[-1] @ v / np.linalg.norm(v))})
    return Directions(dirs.method, list(dirs.names), np.asarray(vectors), dirs.scores.copy(),
                      dirs.score_name, details)


# --------------------------------------------------------------------------- one entry point

def make_directions(method: str, z, *, count: int = 6, select=None, orthogonal_to=(),
                    attributes=None, attribute_names=None, pca=None, kernel=None,
                    test_fraction: float = 0.2, random_state: int = 0
                    ) -> tuple[Directions, Directions | None]:
    """The directions of ``method`` and, with ``orthogonal_to``, the same orthogonalised.

    The one dispatch of the CLI command and the GUI panel.

    Parameters
    ----------
    method : {"pca", "sefa", "attribute"}
    z : ndarray of shape (n_points, z_dim)
    count : int, keyword-only
        pca / sefa: how many directions.
    select : sequence of str, keyword-only
        attribute: the attributes (required).
    orthogonal_to : sequence of str, keyword-only
        Attributes whose directions every direction is made orthogonal to.
    attributes : ndarray of shape (n_points, n_attributes), keyword-only
    attribute_names : sequence of str, keyword-only
    pca : LatentPCA, keyword-only
        pca: an already fitted PCA (else fitted here).
    kernel : ndarray of shape (z_dim, units), keyword-only
        sefa: the first Dense kernel of the decoder (:func:`first_dense_kernel`).

    Returns
    -------
    (original, orthogonalised or None)
    """
    if method not in METHODS:
        raise InvalidInputError(f"method: unknown {method!r}; choose one of {', '.join(METHODS)}")
    names = [str(s) for s in (attribute_names or [])]
    wanted = list(select or []) + list(orthogonal_to or [])
    if wanted and (attributes is None or not names):
        raise InvalidInputError("attributes: the workspace's store has none (attribute directions "
                                "and orthogonalisation need them)")
    if method == "pca":
        z_dim = z.shape[1] if z is not None else pca.n_features_in_
        dirs = pca_directions(z, min(int(count), z_dim), pca=pca)
    elif method == "sefa":
        if kernel is None:
            raise InvalidInputError("sefa: needs the decoder (its first Dense layer)")
        dirs = sefa_directions(kernel, min(int(count), np.shape(kernel)[0]))
    else:
        if not select:
            raise InvalidInputError("attribute: name at least one attribute (known: "
                                    f"{', '.join(names) or 'none'})")
        dirs = attribute_unit_directions(z, attributes, names, select=select,
                                         test_fraction=test_fraction, random_state=random_state)
    if not orthogonal_to:
        return dirs, None
    others = attribute_unit_directions(z, attributes, names, select=list(orthogonal_to),
                                       test_fraction=test_fraction, random_state=random_state)
    ortho = orthogonalize_directions(dirs, others.vectors, others.names)
    if method == "attribute":  # score what is delivered: the orthogonalised direction
        from .attributes import binarize_labels

        lab = np.asarray(attributes, dtype=np.float64)[:, [names.index(s) for s in dirs.names]]
        ortho.scores = _heldout_auc(z, binarize_labels(lab), ~np.isnan(lab), ortho.vectors,
                                    _test_mask(z.shape[0], test_fraction, random_state))
    return dirs, ortho


# --------------------------------------------------------------------------- grids

def default_steps(n_steps: int = 7, span: float = 2.0) -> np.ndarray:
    """``n_steps`` values from −span to +span (in σ of the data along a direction)."""
    if isinstance(n_steps, bool) or int(n_steps) < 2:
        raise InvalidInputError(f"steps: expected at least 2 steps, got {n_steps!r}")
    if not (math.isfinite(float(span)) and float(span) > 0):
        raise InvalidInputError(f"range: expected a finite number > 0, got {span!r}")
    return np.linspace(-float(span), float(span), int(n_steps))



def grid_starts(z, rows: int = 3, *, random_state: int = 0) -> np.ndarray:
    """Start vectors of a direction grid, shape (rows, z_dim): the mean of the z-points, then
    ``rows − 1`` seeded data points."""
    z = check_matrix(z)
    rows = int(rows)
    if rows < 1:
        raise InvalidInputError(f"rows: expected an integer >= 1, got {rows}")
    mean = np.asarray(z, dtype=np.float32).mean(axis=0, dtype=np.float64)
    picks = np.sort(np.random.default_rng(random_state).choice(
        z.shape[0], size=min(rows - 1, z.shape[0]), replace=False))
    return np.vstack([mean[None, :], np.asarray(z[picks], dtype=np.float64)])


def direction_grid(starts, direction, sigma: float, steps) -> np.ndarray:
    """Vectors ``start + t·σ·unit`` for every start (row) and step (column), row by row.

    Parameters
    ----------
    starts : ndarray of shape (rows, z_dim)
    direction : ndarray of shape (z_dim,)
        Normalised here.
    sigma : float
        Standard deviation of the data along the direction (steps are in σ).
    steps : ndarray of shape (T,)

    Returns
    -------
    vectors : ndarray of shape (rows · T, z_dim), float32
    """
    from ..sampling.paths import attribute_path

    t = np.asarray(steps, dtype=np.float64) * float(sigma)
    return np.vstack([attribute_path(s, direction, t, normalize=True)
                      for s in np.atleast_2d(np.asarray(starts, dtype=np.float64))])


def grid_settings(dirs: Directions, i: int, steps, sigma: float, rows: int, random_state: int,
                  row_starts: str = "row 1: mean of the z-points; others: seeded data points"
                  ) -> dict:
    """The sidecar ``settings`` of direction ``i``'s grid (the same from the CLI and the GUI)."""
    return {"method": dirs.method, "direction": dirs.names[i], "label": dirs.labels()[i],
            "index": int(i), "unit": [float(x) for x in dirs.vectors[i]],
            "orthogonal_to": list(dirs.details[i].get("orthogonal_to") or []),
            "steps_sigma": [float(t) for t in np.asarray(steps).reshape(-1)],
            "sigma": float(sigma), "rows": int(rows),
            "row_starts": row_starts,
            "random_state": int(random_state)}
