"""StableProjector (no Qt): successive encodings of the same images drawn in a 2-D picture that
ignores rotations / reflections of the latent space and moves smoothly between epochs."""

from __future__ import annotations

import numpy as np
import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.explore.projection import StableProjector, pca_coords


def _random_orthogonal(k: int, rng: np.random.Generator, flip: bool) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((k, k)))
    q = q * np.sign(np.diag(r))
    if flip and np.linalg.det(q) > 0:
        q[:, 0] = -q[:, 0]
    return q


def _encoding(rng: np.random.Generator, n: int = 300, d: int = 24) -> np.ndarray:
    scales = np.linspace(3.0, 0.2, d)  # distinct variances: a well-defined PCA
    return (rng.standard_normal((n, d)) * scales + rng.standard_normal(d)).astype(np.float32)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("flip", [False, True])
def test_stable_projection_ignores_rotation_and_flip(seed, flip):
    rng = np.random.default_rng(seed)
    z1 = _encoding(rng)
    proj = StableProjector()
    p1 = proj.project(z1)
    q = _random_orthogonal(z1.shape[1], rng, flip)
    z2 = (z1 - z1.mean(0)) @ q + 5.0  # the latent space rotated/reflected and shifted
    p2 = proj.project(z2)
    spread = np.sqrt(np.mean(np.sum(p1 ** 2, axis=1)))
    assert np.max(np.abs(p2 - p1)) < 1e-3 * spread


@pytest.mark.parametrize("seed", range(3))
def test_stable_projection_moves_smoothly(seed):
    """A slightly perturbed, rotated re-encoding stays close; plain PCA of the new encoding may
    flip sign, the aligned one does not."""
    rng = np.random.default_rng(seed)
    z1 = _encoding(rng)
    proj = StableProjector()
    p1 = proj.project(z1)
    q = _random_orthogonal(z1.shape[1], rng, flip=True)
    z2 = (z1 + 0.05 * rng.standard_normal(z1.shape)) @ q
    p2 = proj.project(z2)
    spread = np.sqrt(np.mean(np.sum(p1 ** 2, axis=1)))
    assert np.sqrt(np.mean(np.sum((p2 - p1) ** 2, axis=1))) < 0.1 * spread
    assert proj.n_updates_ == 2


def test_no_scaling_a_growing_latent_scale_stays_visible():
    rng = np.random.default_rng(0)
    z = _encoding(rng)
    proj = StableProjector()
    p1 = proj.project(z)
    p2 = proj.project(3.0 * z)
    np.testing.assert_allclose(p2, 3.0 * p1, rtol=1e-4, atol=1e-4)


def test_a_continued_reference_keeps_the_basis():
    """Training continues the basis the view shows: a projector given the last reference draws
    a rotated encoding where the first projector drew the original."""
    rng = np.random.default_rng(1)
    z = _encoding(rng)
    first = StableProjector()
    p1 = first.project(z)
    second = StableProjector()
    second.reference_ = first.reference_.copy()
    p2 = second.project(z @ _random_orthogonal(z.shape[1], rng, flip=True))
    np.testing.assert_allclose(p2, p1, atol=1e-3 * np.abs(p1).max())


def test_projector_resets_on_dimension_change():
    rng = np.random.default_rng(0)
    proj = StableProjector()
    proj.project(_encoding(rng, d=8))
    out = proj.project(_encoding(rng, d=12))  # another model: new basis, no error
    assert out.shape == (300, 2) and out.dtype == np.float32
    proj.reset()
    assert proj.reference_ is None and proj.n_updates_ == 0


def test_projection_of_too_few_points_is_refused():
    with pytest.raises(InvalidInputError, match="n >= 2"):
        StableProjector().project(np.zeros((1, 4)))
    with pytest.raises(InvalidInputError):
        StableProjector().project(np.zeros(4))


def test_pca_coords_are_deterministic_and_padded():
    rng = np.random.default_rng(2)
    z = _encoding(rng, n=50, d=3)
    c = pca_coords(z, 5)
    assert c.shape == (50, 5)
    np.testing.assert_array_equal(c[:, 3:], 0.0)  # only 3 axes exist
    assert np.all(c[np.argmax(np.abs(c[:, :3]), axis=0), range(3)] > 0)  # largest |coord| positive
    var = c[:, :3].var(axis=0)
    assert np.all(np.diff(var) <= 1e-9)  # variance order
    np.testing.assert_allclose(pca_coords(-z, 5), c, atol=1e-9)  # a reflection: the same picture
