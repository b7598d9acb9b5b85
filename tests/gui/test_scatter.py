"""LatentScatterWidget: plotted data per plane, density mode, overlays and mouse interaction."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from latentexplorer.gui import scatter as scatter_mod
from latentexplorer.gui.scatter import FastPointsItem, LatentScatterWidget, fast_histogram2d
from latentexplorer.gui.state import AppState


def _z(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)) @ rng.normal(size=(d, d))).astype(np.float32)


@pytest.fixture
def widget(qtbot):
    st = AppState()
    attrs = np.stack([np.sign(np.arange(300) % 2 - 0.5), np.linspace(0, 1, 300)], 1).astype(np.float32)
    st.set_latents(_z(), attributes=attrs, attribute_names=["Smiling", "age"])
    w = LatentScatterWidget(st)
    qtbot.addWidget(w)
    w.resize(500, 400)
    w.show()
    qtbot.waitExposed(w)
    QApplication.processEvents()
    return w


def _sorted(a):
    a = np.asarray(a, dtype=np.float64)
    return a[np.lexsort(a.T[::-1])]


# -----------------------------------------------------------------------------------------------
def test_plotted_points_follow_the_plane(widget):
    st = widget.state
    np.testing.assert_allclose(_sorted(widget.plotted_points()), _sorted(st.z[:, [0, 1]]), atol=1e-6)
    st.set_plane("latent", 3, 2)
    np.testing.assert_allclose(_sorted(widget.plotted_points()), _sorted(st.z[:, [3, 2]]), atol=1e-6)
    st.set_plane("pca", 0, 1)
    expect = st.pca.transform(st.z)[:, [0, 1]]
    np.testing.assert_allclose(_sorted(widget.plotted_points()), _sorted(expect), atol=1e-4)
    assert widget.getPlotItem().getAxis("bottom").labelText == "PC 1"
    # the axes follow the view (they must not keep the previous plane's range)
    (x0, x1), (y0, y1) = widget.getViewBox().viewRange()
    assert widget.getPlotItem().getAxis("bottom").range == pytest.approx([x0, x1])
    assert widget.getPlotItem().getAxis("left").range == pytest.approx([y0, y1])


def test_colour_by_attribute_uses_few_shared_styles(widget):
    st = widget.state
    st.set_color_by("Smiling")
    visible = [it for it in widget._bin_items if it.isVisible() and len(it)]
    assert len(visible) == 2  # binary attribute: two bins, one style each
    assert sum(len(it) for it in visible) == 300
    st.set_color_by("age")
    visible = [it for it in widget._bin_items if it.isVisible() and len(it)]
    assert 2 < len(visible) <= scatter_mod.N_COLOR_BINS
    assert widget.colorbar.isVisible()
    st.set_color_by(None)
    assert len([it for it in widget._bin_items if it.isVisible()]) == 1


def test_large_sets_use_a_density_image(qtbot, monkeypatch):
    monkeypatch.setattr(scatter_mod, "DENSITY_THRESHOLD", 1000)
    monkeypatch.setattr(scatter_mod, "SUBSET_SIZE", 200)
    st = AppState()
    z = _z(n=3000)
    st.set_latents(z, attributes=np.ones((3000, 1), np.float32), attribute_names=["a"])
    w = LatentScatterWidget(st)
    qtbot.addWidget(w)
    w.resize(400, 300)
    w.show()
    QApplication.processEvents()
    img = w.density_image()
    assert img is not None and img.sum() > 0.5 * np.log1p(1)  # counts drawn
    assert len(w.plotted_points()) == 0  # density mode: no point items
    before = img.copy()
    st.set_plane("latent", 2, 3)
    assert not np.array_equal(before.shape, ()) and w.density_image() is not None
    st.set_color_by("a")
    assert len(w.plotted_points()) == 200  # the random subset on top of a grey density
    w.grab()


def test_fast_histogram_matches_numpy():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(2, 5000))
    h = fast_histogram2d(x, y, -2, 2, -1, 3, 16, 8)
    ref, _, _ = np.histogram2d(x, y, bins=(16, 8), range=((-2, 2), (-1, 3)))
    # numpy closes the last bin on the right; ours is half-open: equal up to edge points
    assert np.abs(h - ref).sum() <= 2


def test_sliders_move_the_ellipses(widget):
    st = widget.state
    conf0, samp0 = widget.ellipse_curves()
    st.set_sigma_level(st.sigma_level * 2)
    conf1, samp1 = widget.ellipse_curves()
    c = st.plane_ellipse().center
    np.testing.assert_allclose(conf1 - c, 2 * (conf0 - c), atol=1e-6)
    np.testing.assert_allclose(samp1 - c, 2 * (samp0 - c), atol=1e-6)
    st.set_fact(st.fact / 2)
    conf2, samp2 = widget.ellipse_curves()
    np.testing.assert_allclose(conf2, conf1)
    np.testing.assert_allclose(samp2 - c, (samp1 - c) / 2, atol=1e-6)


def test_click_moves_the_current_vector_in_the_plane(widget, qtbot, mouse):
    st = widget.state
    st.set_plane("latent", 1, 3)
    before = st.current.copy()
    (x0, x1), (y0, y1) = widget.getViewBox().viewRange()
    x, y = x0 + 0.3 * (x1 - x0), y0 + 0.6 * (y1 - y0)
    with qtbot.waitSignal(widget.planeClicked, timeout=2000):
        mouse.click(widget, x, y)
    assert set(np.flatnonzero(st.current != before)) <= {1, 3}
    px, py = widget._pixel_size()
    assert abs(st.current[1] - x) <= 2 * px and abs(st.current[3] - y) <= 2 * py
    cx, cy = widget.current_item.getData()
    assert (cx[0], cy[0]) == pytest.approx((st.current[1], st.current[3]))


def test_ctrl_click_selects_the_nearest_data_point(widget, qtbot, mouse):
    st = widget.state
    target = 17
    x, y = st.plane_points()[target]
    with qtbot.waitSignal(st.currentChanged, timeout=2000):
        mouse.click(widget, float(x), float(y), Qt.ControlModifier)
    assert st.current_index is not None
    # the chosen point lies under the click (another point may overlap it on screen)
    px, py = widget._pixel_size()
    sx, sy = st.plane_points()[st.current_index]
    assert abs(sx - x) <= 3 * px and abs(sy - y) <= 3 * py
    np.testing.assert_array_equal(st.current, st.z[st.current_index])


def test_shift_drag_draws_a_path(widget, qtbot, mouse):
    st = widget.state
    (x0, x1), (y0, y1) = widget.getViewBox().viewRange()
    pts = [(x0 + f * (x1 - x0), y0 + 0.5 * (y1 - y0)) for f in np.linspace(0.2, 0.8, 12)]
    with qtbot.waitSignal(st.pathChanged, timeout=2000):
        mouse.drag(widget, pts)
    assert st.path_points is not None and len(st.path_points) >= 3
    assert st.path_points[0, 0] == pytest.approx(pts[0][0], rel=0.05, abs=0.05 * (x1 - x0))
    assert st.path_points[-1, 0] == pytest.approx(pts[-1][0], rel=0.05, abs=0.05 * (x1 - x0))
    px, py = widget.path_curve.getData()
    assert len(px) == len(st.path_points)


def test_path_mode_clicks_add_waypoints(widget, mouse):
    st = widget.state
    widget.set_path_mode(True)
    (x0, x1), (y0, y1) = widget.getViewBox().viewRange()
    before = st.current.copy()
    for f in (0.2, 0.5, 0.8):
        mouse.click(widget, x0 + f * (x1 - x0), y0 + f * (y1 - y0))
    assert st.path_points.shape == (3, 2)
    np.testing.assert_array_equal(st.current, before)  # waypoints do not move the current point


def test_samples_and_current_overlays(widget):
    st = widget.state
    st.set_samples(np.zeros((4, 5), np.float32))
    sx, sy = widget.samples_item.getData()
    assert len(sx) == 4 and np.allclose(sx, 0) and np.allclose(sy, 0)
    st.set_samples(None)
    assert len(widget.samples_item) == 0
    ox, oy = widget.origin_item.getData()
    assert (ox[0], oy[0]) == (0.0, 0.0)


def test_fast_points_item_renders(qtbot):
    import pyqtgraph as pg

    pw = pg.PlotWidget()
    qtbot.addWidget(pw)
    it = FastPointsItem(color=(255, 0, 0, 255), size=5, symbol="o")
    pw.addItem(it)
    it.setData(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    assert len(it) == 2 and it.dataBounds(0) == (0.0, 1.0)
    pw.resize(200, 200)
    pw.show()
    img = pw.grab().toImage()
    reds = sum(1 for x in range(0, 200, 2) for y in range(0, 200, 2)
               if img.pixelColor(x, y).red() > 200 and img.pixelColor(x, y).green() < 80)
    assert reds > 0
