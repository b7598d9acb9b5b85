"""Selections and filters of the exploration model (no Qt): polygon membership against an
independent computation, combining selections, isolate / filter masks, medoid, export, k-NN."""

from __future__ import annotations

import numpy as np
import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.explore import ExplorationModel, NearestIndex, compute_analysis
from latentexplorer.explore.selection import (
    PointFilter,
    attribute_contrast,
    medoid_index,
    points_in_polygon,
    rectangle,
    save_selection,
)


def _convex_inside(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Inside a counter-clockwise convex polygon: left of every edge (half-planes, no ray casting)."""
    inside = np.ones(len(points), bool)
    for a, b in zip(poly, np.roll(poly, -1, axis=0)):
        cross = (b[0] - a[0]) * (points[:, 1] - a[1]) - (b[1] - a[1]) * (points[:, 0] - a[0])
        inside &= cross > 0
    return inside


@pytest.mark.parametrize("n", [50, 20_000, 300_000])
def test_convex_polygon_matches_half_plane_tests(n):
    pts = np.random.default_rng(n).normal(size=(n, 2)).astype(np.float32)
    t = np.linspace(0, 2 * np.pi, 37)[:-1] + 0.1
    poly = np.c_[1.3 * np.cos(t) + 0.2, 0.9 * np.sin(t) - 0.1]
    got = points_in_polygon(pts, poly)
    np.testing.assert_array_equal(got, _convex_inside(pts.astype(np.float64), poly))
    assert 0 < got.sum() < n


def test_non_convex_lasso_keeps_the_notch_out():
    # a "C" shape: the notch on the right is outside although inside the bounding box
    poly = np.array([[0, 0], [3, 0], [3, 1], [1, 1], [1, 2], [3, 2], [3, 3], [0, 3]], float)
    g = np.stack(np.meshgrid(np.arange(0.05, 3, 0.1), np.arange(0.05, 3, 0.1)), -1).reshape(-1, 2)
    got = points_in_polygon(g, poly)
    in_notch = (g[:, 0] > 1) & (g[:, 1] > 1) & (g[:, 1] < 2)
    np.testing.assert_array_equal(got, ~in_notch)


def test_rectangle_selects_exactly_the_box():
    pts = np.random.default_rng(3).uniform(-2, 2, size=(100_000, 2))
    got = points_in_polygon(pts, rectangle(0.5, -1.0, -0.3, 0.7))  # corners in any order
    expect = (pts[:, 0] > -0.3) & (pts[:, 0] < 0.5) & (pts[:, 1] > -1.0) & (pts[:, 1] < 0.7)
    np.testing.assert_array_equal(got, expect)


def test_bad_polygons_are_refused():
    with pytest.raises(InvalidInputError, match="polygon"):
        points_in_polygon(np.zeros((3, 2)), np.zeros((2, 2)))
    assert not points_in_polygon(np.zeros((3, 2)), np.zeros((3, 2))).any()  # degenerate: empty


@pytest.fixture
def model():
    rng = np.random.default_rng(0)
    m = ExplorationModel()
    m.set_data(rng.normal(size=(200, 4)).astype(np.float32),
               attributes=np.c_[np.arange(200) % 2, np.linspace(0, 1, 200)].astype(np.float32),
               attribute_names=["male", "smile"], filenames=[f"img_{i:03d}.png" for i in range(200)])
    return m


def test_selection_ops_and_events(model):
    seen = []
    model.selectionChanged.connect(seen.append)
    model.select_polygon(rectangle(-10, -10, 0, 10))  # latent plane: z0 < 0
    expect = np.flatnonzero(model.z[:, 0] < 0)
    np.testing.assert_array_equal(model.selection, expect)
    model.set_selection([1, 2, 3], op="add")
    np.testing.assert_array_equal(model.selection, np.union1d(expect, [1, 2, 3]))
    model.set_selection(expect, op="remove")
    np.testing.assert_array_equal(model.selection, np.setdiff1d([1, 2, 3], expect))
    assert len(seen) == 3 and seen[-1] is model.selection
    with pytest.raises(InvalidInputError, match="0..199"):
        model.set_selection([200])
    with pytest.raises(InvalidInputError, match="selection tool"):
        model.set_select_tool("circle")


def test_isolate_and_filter_make_the_highlight_mask(model):
    assert model.highlight_mask() is None
    model.set_selection(np.arange(0, 100))
    assert model.highlight_mask() is None  # not isolated: nothing greyed
    model.set_isolate(True)
    assert model.highlight_mask().sum() == 100
    model.set_filter(PointFilter(text="IMG_01"))  # case-insensitive substring: img_010..img_019
    np.testing.assert_array_equal(np.flatnonzero(model.highlight_mask()), np.arange(10, 20))
    model.set_filter(PointFilter().with_range("male", 1, None).with_range("smile", None, 0.2))
    mask = model.filter_mask()
    np.testing.assert_array_equal(mask, (np.arange(200) % 2 == 1) & (np.linspace(0, 1, 200) <= 0.2))
    assert model.filtered_z() is model.z  # cross-filter off
    model.set_cross_filter(True)
    np.testing.assert_array_equal(model.filtered_z(), model.z[mask])
    with pytest.raises(InvalidInputError, match="unknown attribute 'age'"):
        model.set_filter(PointFilter().with_range("age", 0, 1))


def test_new_data_clears_selection_and_filter(model):
    model.set_selection([4, 5])
    model.set_filter(PointFilter(text="img"))
    model.set_data(np.ones((3, 4), np.float32))
    assert len(model.selection) == 0 and not model.point_filter.active


def test_medoid_is_the_member_with_least_total_distance():
    z = np.random.default_rng(1).normal(size=(60, 5))
    idx = np.arange(10, 50)
    total = [np.linalg.norm(z[idx] - z[i], axis=1).sum() for i in idx]
    assert medoid_index(z, idx) == idx[int(np.argmin(total))]
    big = medoid_index(z, idx, max_points=8)
    assert big in idx


def test_attribute_contrast_puts_the_separating_attribute_first(model):
    rows = attribute_contrast(model.attributes, model.attribute_names, np.arange(1, 200, 2))
    assert rows[0][0] == "male" and rows[0][1:] == (1.0, 0.0)


def test_save_selection_round_trips(tmp_path, model):
    path = save_selection(tmp_path / "sel.npz", np.array([3, 7]), model.z, model.filenames)
    with np.load(path) as f:
        np.testing.assert_array_equal(f["indices"], [3, 7])
        np.testing.assert_array_equal(f["z"], model.z[[3, 7]])
        assert list(f["filenames"]) == ["img_003.png", "img_007.png"]
    with pytest.raises(InvalidInputError, match=".npz"):
        save_selection(tmp_path / "sel.csv", np.array([3]), model.z)


@pytest.mark.parametrize("n", [500, 25_000])
def test_k_nearest_points_are_exact(n):
    rng = np.random.default_rng(n)
    z = (rng.normal(size=(n, 12)) * np.linspace(3, 0.2, 12)).astype(np.float32)
    index = compute_analysis(z).nearest if n > NearestIndex.BRUTE_FORCE_MAX else NearestIndex(z)
    for q in rng.normal(size=(4, 12)):
        idx, dist = index.query_k(q, 6)
        d = np.linalg.norm(z.astype(np.float64) - q, axis=1)
        np.testing.assert_array_equal(idx, np.argsort(d)[:6])
        np.testing.assert_allclose(dist, np.sort(d)[:6], rtol=1e-6)
