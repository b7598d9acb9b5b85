"""Latent directions (PCA, SeFa, attributes), orthogonalisation and the entanglement report."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from latentexplorer.analysis.directions import (Directions, attribute_unit_directions, direction_grid,
                                                first_dense_kernel, grid_starts, make_directions,
                                                orthogonalize, orthogonalize_directions,
                                                pca_directions, sefa_directions)
from latentexplorer.analysis.entanglement import entanglement_report, projection_std
from latentexplorer.errors import InvalidInputError


def _kernel(seed=0, z_dim=5, units=12, singular=(5.0, 3.0, 2.0, 1.0, 0.5)):
    """A Keras-layout kernel (z_dim, units) = Q diag(s) Rᵀ with known Q and s."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((z_dim, z_dim)))
    r, _ = np.linalg.qr(rng.standard_normal((units, z_dim)))
    return q @ np.diag(singular) @ r.T, q, np.asarray(singular)


def test_sefa_recovers_the_known_eigenvectors_and_eigenvalues():
    w, q, s = _kernel()
    dirs = sefa_directions(w)
    np.testing.assert_allclose(dirs.scores, s ** 2, rtol=1e-10)
    # every direction equals ±the known left singular vector, unit length, largest entry positive
    np.testing.assert_allclose(np.abs(dirs.vectors @ q), np.eye(5), atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(dirs.vectors, axis=1), 1.0)
    assert (dirs.vectors[np.arange(5), np.abs(dirs.vectors).argmax(axis=1)] > 0).all()
    # the first direction moves the layer's output most: ‖n W‖ is the largest singular value
    assert np.linalg.norm(dirs.vectors[0] @ w) == pytest.approx(5.0)
    assert sefa_directions(w, 2).names == ["SeFa1", "SeFa2"]


def test_sefa_with_fewer_units_than_z_dim_has_zero_eigenvalues():
    w = np.random.default_rng(1).standard_normal((6, 3))
    dirs = sefa_directions(w)
    np.testing.assert_allclose(dirs.scores[3:], 0.0, atol=1e-10)
    assert dirs.scores[2] > 0.1


@pytest.mark.parametrize("bad", [np.zeros((0, 3)), np.ones(4), np.full((3, 2), np.nan)])
def test_sefa_refuses_bad_kernels(bad):
    with pytest.raises(InvalidInputError, match="kernel"):
        sefa_directions(bad)


def test_first_dense_kernel_of_a_real_keras_decoder(tiny_decoder):
    w = first_dense_kernel(tiny_decoder)
    dense = next(layer for layer in tiny_decoder.layers if type(layer).__name__ == "Dense")
    np.testing.assert_array_equal(w, dense.get_weights()[0])
    assert w.shape == (8, 4 * 4 * 8)


def test_first_dense_kernel_refuses_a_decoder_without_dense():
    import keras

    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Reshape((2, 2, 1))(inp))
    with pytest.raises(InvalidInputError, match="no Dense layer"):
        first_dense_kernel(model)


def test_pca_directions_reuse_latent_pca():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((500, 4)) * np.array([3.0, 2.0, 1.0, 0.5])
    dirs = pca_directions(z, 2)
    assert dirs.names == ["PC1", "PC2"]
    np.testing.assert_allclose(np.abs(dirs.vectors[:, :2]), np.eye(2), atol=0.1)
    assert dirs.scores[0] > dirs.scores[1] > 0


def test_orthogonalize_removes_the_span_and_keeps_the_rest():
    v = np.array([1.0, 1.0, 1.0, 0.0])
    others = np.array([[0.0, 2.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
    u = orthogonalize(v, others)
    np.testing.assert_allclose(u, [1.0, 0.0, 0.0, 0.0], atol=1e-12)
    # InterFaceGAN's formula for one condition: n1 − (n1ᵀn2) n2, normalised
    n1, n2 = np.array([0.6, 0.8, 0.0]), np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(orthogonalize(n1, n2[None]), [1.0, 0.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("v, others, match", [
    ([1.0, 2.0, 0.0], [[2.0, 4.0, 0.0]], "lies in the span"),
    ([1.0, 1.0, 0.0], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], "lies in the span"),
    ([0.0, 0.0, 0.0], [[1.0, 0.0, 0.0]], "zero vector"),
    ([1.0, 0.0, 0.0], [[0.0, 0.0, 0.0]], "zero direction"),
    ([1.0, 0.0, 0.0], np.zeros((0, 3)), "no directions"),
    ([1.0, 0.0, 0.0], [[1.0, 0.0]], "must be finite"),
])
def test_orthogonalize_refuses_degenerate_cases(v, others, match):
    with pytest.raises(InvalidInputError, match=match):
        orthogonalize(v, others, name="glasses")


# ---------------------------------------------------------------- synthetic entangled attributes
@pytest.fixture(scope="module")
def entangled():
    """Isotropic z (4000, 4); "male" = z1 > 0 and "glasses" = z0 + z1 > 0, so the glasses
    direction is (1, 1, 0, 0)/√2 and half of it is male by construction."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4000, 4)).astype(np.float32)
    attrs = np.stack([(z[:, 0] + z[:, 1] > 0), (z[:, 1] > 0)], axis=1).astype(np.float32)
    return z, attrs, ["glasses", "male"]


def _expected_slope(t, scale):
    """Least-squares slope over t of P(N(0,1) > −scale·t) = Φ(scale·t) (the moved start's
    attribute, for neighbours close enough to share it)."""
    y = norm.cdf(scale * t)
    tc = t - t.mean()
    return float(tc @ (y - y.mean()) / (tc @ tc))


def test_attribute_directions_are_scored_on_held_out_points(entangled):
    z, attrs, names = entangled
    dirs = attribute_unit_directions(z, attrs, names, select=["glasses"])
    np.testing.assert_allclose(dirs.vectors[0, :2], [2 ** -0.5, 2 ** -0.5], atol=0.05)
    assert dirs.score_name == "heldout_auc" and dirs.scores[0] > 0.95
    assert dirs.details[0]["n_test"] == 800 and dirs.details[0]["n_train"] == 3200
    noise = np.random.default_rng(1).integers(0, 2, (len(z), 1)).astype(np.float32)
    assert 0.4 < attribute_unit_directions(z, noise, ["coin"]).scores[0] < 0.6
    with pytest.raises(InvalidInputError, match="'beard': unknown"):
        attribute_unit_directions(z, attrs, names, select=["beard"])


def test_entanglement_slope_is_the_constructed_one_and_orthogonalising_removes_it(entangled):
    z, attrs, names = entangled
    steps = np.linspace(-1.0, 1.0, 5)
    options = dict(attribute_names=names, steps=steps, n_starts=400, n_neighbors=5)
    original, ortho = make_directions("attribute", z, select=["glasses"], orthogonal_to=["male"],
                                      attributes=attrs, attribute_names=names)
    before = entanglement_report(z, original, attrs, **options)
    # σ along (1,1)/√2 is 1; moving t σ shifts z1 by t/√2: male fraction Φ(t/√2)
    assert before.sigma[0] == pytest.approx(1.0, abs=0.05)
    assert before.slope("glasses", "male") == pytest.approx(_expected_slope(steps, 2 ** -0.5), abs=0.04)
    assert before.slope("glasses", "glasses") == pytest.approx(_expected_slope(steps, 1.0), abs=0.05)

    after = entanglement_report(z, ortho, attrs, **options)
    assert after.direction_names == ["glasses ⊥ male"]
    assert abs(after.slope("glasses ⊥ male", "male")) < 0.04
    # glasses still moves glasses: the part along z0 is left, Φ(t/√2)
    assert after.slope("glasses ⊥ male", "glasses") == pytest.approx(_expected_slope(steps, 2 ** -0.5),
                                                                     abs=0.05)
    assert ortho.scores[0] > 0.6 and ortho.details[0]["cosine_to_original"] == pytest.approx(2 ** -0.5,
                                                                                             abs=0.05)

    both = entanglement_report(z, np.vstack([original.vectors, ortho.vectors]), attrs, **options)
    assert both.cosines[0, 1] == pytest.approx(2 ** -0.5, abs=0.05)
    data = before.to_dict()
    assert data["slopes_per_sigma"]["glasses"]["male"] == pytest.approx(before.slope("glasses", "male"))
    assert np.asarray(data["curves"]).shape == (1, 5, 2)
    assert "glasses" in before.format_table() and "+0.2" in before.format_table()


def test_a_condition_stays_and_others_are_made_orthogonal(entangled):
    z, attrs, names = entangled
    original, ortho = make_directions("attribute", z, select=["glasses", "male"],
                                      orthogonal_to=["male"], attributes=attrs, attribute_names=names)
    np.testing.assert_array_equal(ortho.vectors[1], original.vectors[1])
    assert abs(ortho.vectors[0] @ ortho.vectors[1]) < 1e-12
    assert ortho.labels() == ["glasses ⊥ male", "male"]


def test_make_directions_errors(entangled):
    z, attrs, names = entangled
    with pytest.raises(InvalidInputError, match="unknown 'ica'"):
        make_directions("ica", z)
    with pytest.raises(InvalidInputError, match="name at least one"):
        make_directions("attribute", z, attributes=attrs, attribute_names=names)
    with pytest.raises(InvalidInputError, match="has none"):
        make_directions("pca", z, orthogonal_to=["male"])
    with pytest.raises(InvalidInputError, match="needs the decoder"):
        make_directions("sefa", z)


def test_projection_std_and_grids():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((2000, 3)) * np.array([2.0, 1.0, 0.5]) + 10.0
    np.testing.assert_allclose(projection_std(z, np.eye(3)), z.std(axis=0), rtol=1e-9)
    starts = grid_starts(z, 3, random_state=0)
    np.testing.assert_allclose(starts[0], z.mean(axis=0))
    assert starts.shape == (3, 3) and any(np.allclose(starts[1], p) for p in z)
    grid = direction_grid(starts, [0.0, 2.0, 0.0], 0.5, [-1.0, 0.0, 1.0])
    assert grid.shape == (9, 3) and grid.dtype == np.float32
    np.testing.assert_allclose(grid[3:6] - starts[1], [[0, -0.5, 0], [0, 0, 0], [0, 0.5, 0]], atol=1e-5)


def test_directions_to_dict_is_json_ready():
    import json

    d = Directions("attribute", ["a"], np.eye(2)[:1], np.array([np.nan]), "heldout_auc")
    data = json.loads(json.dumps(d.to_dict()))
    assert data["scores"] == [None] and data["labels"] == ["a"]
    o = orthogonalize_directions(Directions("pca", ["PC1"], np.array([[1.0, 1.0]]) / 2 ** 0.5,
                                            np.array([0.5]), "x"), np.array([[1.0, 0.0]]), ["male"])
    np.testing.assert_allclose(o.vectors, [[0.0, 1.0]], atol=1e-12)


def test_the_explorers_nearest_index_gives_the_same_report(entangled):
    """The command and the GUI hand in explore.neighbors.NearestIndex (query_k): the report is
    the same as with the brute-force default, with and without the index's PCA bound."""
    from latentexplorer.analysis.pca import LatentPCA
    from latentexplorer.explore.neighbors import NearestIndex

    z, attrs, names = entangled
    dirs = attribute_unit_directions(z, attrs, names)
    options = dict(attribute_names=names, steps=np.linspace(-1, 1, 3), n_starts=20, n_neighbors=4)
    default = entanglement_report(z, dirs, attrs, **options)
    class PcaBound(NearestIndex):
        BRUTE_FORCE_MAX = 0  # the PCA-bound search of large sets, on this small one

    bounded = PcaBound(z, LatentPCA(n_components=2).fit(z))
    assert bounded.coords is not None
    for index in (NearestIndex(z), bounded):
        np.testing.assert_allclose(entanglement_report(z, dirs, attrs, neighbors=index, **options).curves,
                                   default.curves)
