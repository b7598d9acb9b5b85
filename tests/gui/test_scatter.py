"""LatentScatterWidget: plotted data per plane, density mode, overlays, the legend and the mouse
(click, Ctrl+click, drag the current point, Shift+drag, path-mode clicks, pan, hover)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from latentexplorer.analysis._kernels import histogram_2d
from latentexplorer.explore import PlanePath
from latentexplorer.gui import scatter as scatter_mod
from latentexplorer.gui.plane_controls import PlaneControls
from latentexplorer.gui.scatter import LatentScatterWidget
from latentexplorer.gui.scatter_items import FastPointsItem, robust_range


def _z(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)) @ rng.normal(size=(d, d))).astype(np.float32)


def _show(qtbot, w, size=(500, 400)):
    """Show ``w`` inside a host window that pytest-qt closes afterwards (closing a scatter
    directly raises, see test_closing_the_scatter_does_not_raise)."""
    host = QWidget()
    lay = QVBoxLayout(host)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(w)
    qtbot.addWidget(host)
    host.resize(*size)
    host.show()
    qtbot.waitExposed(host)
    QApplication.processEvents()
    w.test_host = host  # keep the host (qtbot holds only a weak reference)
    return w


@pytest.fixture
def widget(qtbot, make_state):
    attrs = np.stack([np.sign(np.arange(300) % 2 - 0.5), np.linspace(0, 1, 300)], 1).astype(np.float32)
    st = make_state(_z(), attributes=attrs, attribute_names=["Smiling", "age"])
    return _show(qtbot, LatentScatterWidget(st))


def _sorted(a):
    a = np.asarray(a, dtype=np.float64)
    return a[np.lexsort(a.T[::-1])]


def _view_point(w, fx, fy):
    (x0, x1), (y0, y1) = w.getViewBox().viewRange()
    return x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)


def _empty_spot(w, min_px=40):
    """A view position with no data point within ``min_px`` pixels."""
    px, py = w._pixel_size()
    pts = w.model.plane_points()
    for fx in np.linspace(0.02, 0.98, 25):
        for fy in np.linspace(0.02, 0.98, 25):
            x, y = _view_point(w, fx, fy)
            if np.min(((pts[:, 0] - x) / px) ** 2 + ((pts[:, 1] - y) / py) ** 2) > min_px ** 2:
                return x, y
    pytest.skip("no empty spot in the view")


# ----------------------------------------------------------------------------------- drawing
def test_plotted_points_follow_the_plane(widget):
    m = widget.model
    np.testing.assert_allclose(_sorted(widget.plotted_points()), _sorted(m.z[:, [0, 1]]), atol=1e-6)
    m.set_plane(("latent", 3, 2))
    np.testing.assert_allclose(_sorted(widget.plotted_points()), _sorted(m.z[:, [3, 2]]), atol=1e-6)
    assert widget.getPlotItem().getAxis("bottom").labelText == "z[3]"
    m.set_plane(("pca", 0, 1))
    expect = m.analysis.pca.transform(m.z)[:, [0, 1]]
    np.testing.assert_allclose(_sorted(widget.plotted_points()), _sorted(expect), atol=1e-4)
    assert widget.getPlotItem().getAxis("bottom").labelText == "PC 1"
    assert widget.getPlotItem().getAxis("left").labelText == "PC 2"
    # the axes follow the view (they must not keep the previous plane's range)
    (x0, x1), (y0, y1) = widget.getViewBox().viewRange()
    assert widget.getPlotItem().getAxis("bottom").range == pytest.approx([x0, x1])
    assert widget.getPlotItem().getAxis("left").range == pytest.approx([y0, y1])


def test_colour_by_attribute_uses_few_shared_styles(widget):
    m = widget.model
    m.set_color_by("Smiling")
    visible = [it for it in widget._bin_items if it.isVisible() and len(it)]
    assert len(visible) == 2  # binary attribute: two bins, one style each
    assert sum(len(it) for it in visible) == 300
    m.set_color_by("age")
    visible = [it for it in widget._bin_items if it.isVisible() and len(it)]
    assert 2 < len(visible) <= scatter_mod.N_COLOR_BINS
    assert widget.colorbar.isVisible()
    assert "age" in widget.info_label.textItem.toPlainText()
    m.set_color_by(None)
    assert len([it for it in widget._bin_items if it.isVisible()]) == 1
    assert not widget.colorbar.isVisible()


def test_large_sets_use_a_density_image(qtbot, monkeypatch, make_state):
    monkeypatch.setattr(scatter_mod, "DENSITY_THRESHOLD", 1000)
    monkeypatch.setattr(scatter_mod, "SUBSET_SIZE", 200)
    st = make_state(_z(n=3000), analysis=False, attributes=np.ones((3000, 1), np.float32),
                    attribute_names=["a"])
    w = _show(qtbot, LatentScatterWidget(st), (400, 300))
    img = w.density_image()
    assert img is not None and img.sum() > 0.5 * np.log1p(1)  # counts drawn
    assert len(w.plotted_points()) == 0  # density mode: no point items
    st.model.set_plane(("latent", 2, 3))
    assert w.density_image() is not None
    st.model.set_color_by("a")
    assert len(w.plotted_points()) == 200  # the random subset on top of a grey density
    w.grab()


def test_zooming_in_redraws_the_density_image(qtbot, monkeypatch, make_state):
    monkeypatch.setattr(scatter_mod, "DENSITY_THRESHOLD", 1000)
    monkeypatch.setattr(scatter_mod, "SUBSET_SIZE", 200)
    st = make_state(_z(n=3000), analysis=False)
    w = _show(qtbot, LatentScatterWidget(st), (400, 300))
    before = w.density_image().sum()
    (x0, x1), (y0, y1) = w.getViewBox().viewRange()
    cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 8, (y1 - y0) / 8
    w.getViewBox().setRange(xRange=(cx - hx, cx + hx), yRange=(cy - hy, cy + hy), padding=0)
    qtbot.waitUntil(lambda: w.density_image().sum() < before, timeout=2000)  # fewer points in view


def test_fast_histogram_matches_numpy():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(2, 5000))
    h = histogram_2d(x, y, -2, 2, -1, 3, 16, 8)
    ref, _, _ = np.histogram2d(x, y, bins=(16, 8), range=((-2, 2), (-1, 3)))
    # numpy closes the last bin on the right; ours is half-open: equal up to edge points
    assert np.abs(h - ref).sum() <= 2


def test_robust_range_covers_the_bulk_with_a_margin():
    pts = np.random.default_rng(0).normal(size=(5000, 2))
    x0, x1, y0, y1 = robust_range(pts)
    for (lo, hi), col in (((x0, x1), 0), ((y0, y1), 1)):
        assert lo < np.percentile(pts[:, col], 0.2) and hi > np.percentile(pts[:, col], 99.8)
        assert hi - lo < 1.5 * (pts[:, col].max() - pts[:, col].min())
    assert robust_range(np.zeros((0, 2))) == (-1.0, 1.0, -1.0, 1.0)


def test_sliders_move_the_ellipses(widget):
    m = widget.model
    conf0, samp0 = widget.ellipse_curves()
    m.set_sigma_level(m.sigma_level * 2)
    conf1, samp1 = widget.ellipse_curves()
    c = m.plane_ellipse().center
    np.testing.assert_allclose(conf1 - c, 2 * (conf0 - c), atol=1e-6)
    np.testing.assert_allclose(samp1 - c, 2 * (samp0 - c), atol=1e-6)
    m.set_fact(m.fact / 2)
    conf2, samp2 = widget.ellipse_curves()
    np.testing.assert_allclose(conf2, conf1)
    np.testing.assert_allclose(samp2 - c, (samp1 - c) / 2, atol=1e-6)


def test_ellipses_of_a_pca_plane_are_axis_aligned(widget):
    """In a PCA plane the coordinates are uncorrelated: the drawn confidence ellipse and the
    sampling ellipse (centred on the mean) span ±level·σ along each axis."""
    m = widget.model
    m.set_plane(("pca", 1, 2))
    std = m.analysis.std[[1, 2]]
    conf, samp = widget.ellipse_curves()
    half = (conf.max(axis=0) - conf.min(axis=0)) / 2
    np.testing.assert_allclose(half, m.sigma_level * std, rtol=1e-2)
    np.testing.assert_allclose(samp.max(axis=0), m.sigma_level * m.fact * std, rtol=1e-2)
    np.testing.assert_allclose(samp.min(axis=0), -m.sigma_level * m.fact * std, rtol=1e-2)


def test_samples_origin_and_current_overlays(widget):
    m = widget.model
    m.set_samples(np.zeros((4, 5), np.float32))
    sx, sy = widget.samples_item.getData()
    assert len(sx) == 4 and np.allclose(sx, 0) and np.allclose(sy, 0)
    m.set_samples(None)
    assert len(widget.samples_item) == 0
    ox, oy = widget.origin_item.getData()
    assert (ox[0], oy[0]) == (0.0, 0.0)
    cx, cy = widget.current_item.getData()
    assert (cx[0], cy[0]) == pytest.approx(tuple(m.z[0, [0, 1]]))


def test_many_samples_are_drawn_as_small_dots(widget):
    m = widget.model
    rng = np.random.default_rng(0)
    m.set_samples(rng.normal(size=(20, 5)).astype(np.float32))
    few = widget.samples_item.pixelPadding()
    m.set_samples(rng.normal(size=(5000, 5)).astype(np.float32))
    assert len(widget.samples_item) == 5000
    assert widget.samples_item.pixelPadding() < few  # thousands: small dots leave the cloud visible


def test_legend_hides_on_small_plots_and_follows_the_users_choice(widget):
    assert not widget.legend.isVisible()  # 500 x 400 is below LEGEND_MIN_SIZE
    widget.set_legend_visible(True)
    assert widget.legend.isVisible()
    widget.window().resize(300, 260)  # the user's choice wins over the automatic hiding
    QApplication.processEvents()
    assert widget.legend.isVisible()
    widget.set_legend_visible(False)
    assert not widget.legend.isVisible()


# ----------------------------------------------------------------------------------- mouse
def test_click_moves_the_current_vector_in_the_plane(widget, qtbot, mouse):
    m = widget.model
    m.set_plane(("latent", 1, 3))
    before = m.current.vector.copy()
    x, y = _view_point(widget, 0.3, 0.6)
    with qtbot.waitSignal(widget.planeClicked, timeout=2000):
        mouse.click(widget, x, y)
    cur = m.current
    assert set(np.flatnonzero(cur.vector != before)) <= {1, 3} and cur.index is None
    px, py = widget._pixel_size()
    assert abs(cur.vector[1] - x) <= 2 * px and abs(cur.vector[3] - y) <= 2 * py
    cx, cy = widget.current_item.getData()
    assert (cx[0], cy[0]) == pytest.approx((cur.vector[1], cur.vector[3]))


def test_ctrl_click_selects_the_nearest_data_point(widget, qtbot, mouse):
    m = widget.model
    x, y = m.plane_points()[17]
    with qtbot.waitSignal(widget.state.currentChanged, timeout=2000) as blocker:
        mouse.click(widget, float(x), float(y), Qt.ControlModifier)
    cur = blocker.args[0]
    assert cur.index is not None
    # the chosen point lies under the click (another point may overlap it on screen)
    px, py = widget._pixel_size()
    sx, sy = m.plane_points()[cur.index]
    assert abs(sx - x) <= 3 * px and abs(sy - y) <= 3 * py
    np.testing.assert_array_equal(cur.vector, m.z[cur.index])


def test_snap_mode_clicks_select_data_points(widget, qtbot, mouse):
    controls = _show(qtbot, PlaneControls(widget.state, widget), (230, 600))
    mouse.click_checkbox(controls.snap)
    assert widget.model.snap
    x, y = widget.model.plane_points()[40]
    mouse.click(widget, float(x), float(y))  # no Ctrl needed
    assert widget.model.current.index is not None


def test_dragging_the_current_point_scrubs_through_the_plane(widget, qtbot, mouse):
    m = widget.model
    m.set_plane(("latent", 2, 0))
    x0, y0 = _view_point(widget, 0.4, 0.4)
    mouse.click(widget, x0, y0)  # put the red point where the drag starts
    start = m.current.vector.copy()
    cx, cy = m.plane_coords(start)
    seen = []
    widget.state.currentChanged.connect(lambda c: seen.append(c.vector.copy()))
    pts = [(cx, cy)] + [_view_point(widget, 0.4 + f, 0.4 + f / 2) for f in np.linspace(0.05, 0.4, 8)]
    mouse.drag(widget, pts, modifier=Qt.NoModifier)
    assert len(seen) >= 4  # continuously, not only at the release
    px, py = widget._pixel_size()
    end = m.current.vector
    assert abs(end[2] - pts[-1][0]) <= 2 * px and abs(end[0] - pts[-1][1]) <= 2 * py
    assert set(np.flatnonzero(end != start)) <= {0, 2}  # only the plane's coordinates move
    assert m.path is None


def test_a_plain_drag_away_from_the_current_point_pans(widget, mouse):
    m = widget.model
    before = m.current.vector.copy()
    x, y = _empty_spot(widget)
    range0 = widget.getViewBox().viewRange()
    px, _ = widget._pixel_size()
    mouse.drag(widget, [(x, y), (x + 20 * px, y), (x + 60 * px, y)], modifier=Qt.NoModifier)
    np.testing.assert_array_equal(m.current.vector, before)
    assert widget.getViewBox().viewRange()[0] != range0[0]


def test_shift_drag_draws_a_path(widget, qtbot, mouse):
    m = widget.model
    (x0, x1), _ = widget.getViewBox().viewRange()
    pts = [_view_point(widget, f, 0.5) for f in np.linspace(0.2, 0.8, 12)]
    with qtbot.waitSignal(widget.state.pathChanged, timeout=2000):
        mouse.drag(widget, pts)
    path = m.path
    assert isinstance(path, PlanePath) and path.plane == m.plane and len(path.points) >= 3
    assert path.points[0, 0] == pytest.approx(pts[0][0], abs=0.05 * (x1 - x0))
    assert path.points[-1, 0] == pytest.approx(pts[-1][0], abs=0.05 * (x1 - x0))
    px, _ = widget.path_curve.getData()
    assert len(px) == len(path.points)
    m.set_plane(("latent", 2, 3))  # another plane: the path is gone, also from the picture
    assert len(widget.path_curve.getData()[0]) == 0


def test_path_mode_clicks_add_waypoints(widget, qtbot, mouse):
    controls = _show(qtbot, PlaneControls(widget.state, widget), (230, 600))
    mouse.click_checkbox(controls.path_mode)
    m = widget.model
    assert m.path_mode
    before = m.current.vector.copy()
    for f in (0.2, 0.5, 0.8):
        mouse.click(widget, *_view_point(widget, f, f))
    assert m.path.points.shape == (3, 2)
    np.testing.assert_array_equal(m.current.vector, before)  # waypoints do not move the current point


def test_hover_reports_the_nearest_data_point(widget, qtbot, mouse):
    m = widget.model
    x, y = (float(v) for v in m.plane_points()[23])
    with qtbot.waitSignal(widget.hovered, timeout=2000) as blocker:
        mouse.move(widget, x, y)
    k, hx, hy = blocker.args
    px, py = widget._pixel_size()
    assert k >= 0 and abs(hx - x) <= 2 * px and abs(hy - y) <= 2 * py
    sx, sy = m.plane_points()[k]
    assert abs(sx - x) <= 3 * px and abs(sy - y) <= 3 * py
    ex, ey = widget.hover_item.getData()
    assert (ex[0], ey[0]) == pytest.approx((sx, sy))
    ex, ey = _empty_spot(widget)
    with qtbot.waitSignal(widget.hovered, timeout=2000,
                          check_params_cb=lambda k, *_: k == -1):
        mouse.move(widget, ex, ey)
    assert len(widget.hover_item.getData()[0]) == 0


def test_closing_the_scatter_does_not_raise(qtbot, make_state):
    w = LatentScatterWidget(make_state(_z()))
    w.show()
    qtbot.waitExposed(w)
    try:
        w.close()
    finally:
        w.deleteLater()


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
