"""The face-likeness map on a decoder whose answer is known: faces exactly where z[0] > 0."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import build_face_switch_decoder, detectable_face

from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.explore.analysis import compute_analysis
from latentexplorer.explore.facemap import face_map, plan_face_map, run_face_map
from latentexplorer.explore.model import ExplorationModel
from latentexplorer.models.codec import Decoder
from latentexplorer.progress import ProgressReporter

Z_DIM = 4


@pytest.fixture(scope="module")
def switch_decoder():
    return Decoder(build_face_switch_decoder(detectable_face(64), Z_DIM))


@pytest.fixture
def model():
    m = ExplorationModel()
    z = np.random.default_rng(0).normal(size=(300, Z_DIM)).astype(np.float32)
    m.set_data(z)
    m.set_analysis(compute_analysis(z))
    m.set_current(np.array([0.0, 0.0, 0.7, -0.3], np.float32))
    return m


def test_faces_are_found_exactly_where_the_decoder_makes_them(model, switch_decoder):
    fmap = face_map(model, switch_decoder, resolution=8, extent=(-1, 1, -1, 1))
    assert fmap.confidence.shape == (8, 8) and fmap.found.shape == (8, 8)
    right, left = fmap.xs > 0, fmap.xs < 0
    assert fmap.found[:, right].all()  # every cell with z[0] > 0 decodes to the face
    assert not fmap.found[:, left].any()  # grey elsewhere: no face, confidence 0 or low
    assert fmap.face_fraction == pytest.approx(0.5)
    np.testing.assert_allclose(fmap.xs, np.linspace(-1, 1, 8, endpoint=False) + 0.125)


def test_the_map_keeps_the_base_vectors_other_coordinates(model):
    plan = plan_face_map(model, resolution=4, extent=(-2, 2, -1, 1))
    assert plan.z.shape == (16, Z_DIM)
    np.testing.assert_allclose(plan.z[:, 2:], np.tile([0.7, -0.3], (16, 1)), atol=1e-6)
    np.testing.assert_allclose(plan.z[:4, 0], plan.xs, atol=1e-6)  # row 0: y = ys[0], x varies
    np.testing.assert_allclose(plan.z[::4, 1], plan.ys, atol=1e-6)


def test_a_pca_plane_moves_along_the_pca_axes(model, switch_decoder):
    model.set_plane(("pca", 0, 1))
    plan = plan_face_map(model, resolution=3)
    np.testing.assert_allclose(model.plane_coords(plan.z)[:3, 0], plan.xs, atol=1e-4)
    kept = model.projector.pca_coords(plan.z[0], Z_DIM)[2:]
    np.testing.assert_allclose(kept, model.projector.pca_coords(model.current.vector, Z_DIM)[2:], atol=1e-4)


@pytest.mark.parametrize("kwargs, message", [
    ({"resolution": 0}, "resolution"), ({"resolution": 129}, "resolution"),
    ({"resolution": True}, "resolution"), ({"extent": (1, 0, 0, 1)}, "extent"),
    ({"extent": (0, 1, 0, float("nan"))}, "extent"), ({"extent": (0, 1)}, "extent")])
def test_bad_requests_are_refused_with_one_line(model, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        plan_face_map(model, **kwargs)


def test_the_map_can_be_cancelled(model, switch_decoder):
    reporter = ProgressReporter()
    reporter.cancel()
    with pytest.raises(Cancelled):
        run_face_map(plan_face_map(model, resolution=4), switch_decoder, reporter)
