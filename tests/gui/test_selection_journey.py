"""Selecting, searching and hovering in the explorer, on the real tiny workspace, driven like a
user: Tools > Selection actions (and their keys), drags on the scatter's viewport, typing in the
search field, moving the mouse. Results are checked against computations independent of the
code under test (half-plane tests for the polygons, plain comparisons for rectangles)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from latentexplorer.gui.main_window import MainWindow


# ------------------------------------------------------------------ helpers and fixtures
def _loaded(win) -> bool:
    m = win.model
    return (not win.runner.busy and m.z is not None and m.analysis is not None
            and win.state.decoder is not None and m.image is not None)


@pytest.fixture
def window(qtbot, tiny_workspace_copy, isolated_settings, monkeypatch):
    errors: list = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *a, **k: errors.append((title, text)) or QMessageBox.Ok))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(
        lambda *a, **k: str(tiny_workspace_copy)))
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    win.act_open.trigger()  # File > Open workspace…
    qtbot.waitUntil(lambda: _loaded(win), timeout=60_000)
    assert win.wait_idle(30_000)
    win.errors = errors
    yield win
    assert not errors, errors
    win.runner.cancel_all(wait_ms=30_000)
    win.controller.close()


def _view_point(sc, fx, fy):
    (x0, x1), (y0, y1) = sc.getViewBox().viewRange()
    return x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)


def _as_dragged(sc, x, y) -> np.ndarray:
    """Plane coordinates the scatter receives for a mouse event at plane point (x, y): the
    viewport pixel it lands on, mapped back."""
    vb = sc.getViewBox()
    p = vb.mapSceneToView(sc.mapToScene(sc.map_plane_to_widget(x, y)))
    return np.array([p.x(), p.y()])


def _half_plane_inside(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Inside a counter-clockwise convex polygon: left of every edge."""
    inside = np.ones(len(points), bool)
    for a, b in zip(poly, np.roll(poly, -1, axis=0)):
        inside &= (b[0] - a[0]) * (points[:, 1] - a[1]) - (b[1] - a[1]) * (points[:, 0] - a[0]) > 0
    return inside


# ------------------------------------------------------------------ selection
def test_rectangle_selection_selects_exactly_the_points_inside(window, qtbot, mouse):
    m, sc, panel = window.model, window.scatter, window.selection_panel
    window.act_select_rect.trigger()  # Tools > Selection > Rectangle selection (R)
    assert m.select_tool == "rect" and panel.rect_button.isChecked()
    a, b = _view_point(sc, 0.15, 0.2), _view_point(sc, 0.6, 0.75)
    current = m.current.vector.copy()
    mouse.drag(sc, [a, _view_point(sc, 0.4, 0.5), b], modifier=Qt.NoModifier)
    (x0, y0), (x1, y1) = _as_dragged(sc, *a), _as_dragged(sc, *b)
    pts = m.plane_points().astype(np.float64)
    expect = np.flatnonzero((pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1))
    assert 3 <= len(expect) < m.n_points
    np.testing.assert_array_equal(m.selection, expect)
    np.testing.assert_array_equal(m.current.vector, current)  # the drag did not move the point
    assert panel.count_label.text().startswith(f"{len(expect):,} of {m.n_points:,} points selected")
    # Shift + drag adds a second rectangle
    c, d = _view_point(sc, 0.65, 0.1), _view_point(sc, 0.95, 0.5)
    mouse.drag(sc, [c, d], modifier=Qt.ShiftModifier)
    (u0, v0), (u1, v1) = _as_dragged(sc, *c), _as_dragged(sc, *d)
    more = (pts[:, 0] > u0) & (pts[:, 0] < u1) & (pts[:, 1] > v0) & (pts[:, 1] < v1)
    np.testing.assert_array_equal(m.selection, np.union1d(expect, np.flatnonzero(more)))


def test_lasso_selection_and_the_selection_panel(window, qtbot, mouse):
    m, sc, panel = window.model, window.scatter, window.selection_panel
    qtbot.keyClick(window, Qt.Key_L)  # the lasso's key
    assert m.select_tool == "lasso" and window.act_select_lasso.isChecked()
    corners = [(0.2, 0.2), (0.7, 0.15), (0.85, 0.55), (0.5, 0.85), (0.15, 0.6)]  # counter-clockwise
    plane = [_view_point(sc, fx, fy) for fx, fy in corners]
    mouse.drag(sc, plane, modifier=Qt.NoModifier)
    poly = np.array([_as_dragged(sc, x, y) for x, y in plane])
    expect = np.flatnonzero(_half_plane_inside(m.plane_points().astype(np.float64), poly))
    assert 3 <= len(expect) < m.n_points
    np.testing.assert_array_equal(m.selection, expect)
    assert panel.count_label.text().startswith(f"{len(expect):,} of")
    # the decoded mean and medoid arrive from the background decoder
    assert window.wait_idle(20_000)
    qtbot.waitUntil(lambda: panel.mean_image is not None, timeout=10_000)
    assert panel.mean_image.std() > 0 and not panel.mean_face.pixmap().isNull()
    assert not panel.medoid_face.pixmap().isNull()
    z = m.z[expect].astype(np.float64)
    total = [np.linalg.norm(z - z[i], axis=1).sum() for i in range(len(z))]
    assert panel.medoid == expect[int(np.argmin(total))]
    # attribute means of the selection against the rest (the tiny store has the synth factors)
    table = panel.attr_table
    assert table.rowCount() > 0
    rows = {table.item(r, 0).text(): float(table.item(r, 1).text()) for r in range(table.rowCount())}
    name = next(iter(rows))
    col = m.attributes[expect, m.attribute_names.index(name)]
    assert rows[name] == pytest.approx(float(np.nanmean(col)), rel=1e-2, abs=1e-3)


def test_isolate_greys_the_rest_and_esc_clears(window, qtbot, mouse):
    m, sc = window.model, window.scatter
    window.act_select_rect.trigger()
    mouse.drag(sc, [_view_point(sc, 0.1, 0.1), _view_point(sc, 0.5, 0.9)], modifier=Qt.NoModifier)
    sel = m.selection.copy()
    assert len(sel) and len(sc.grey_item) == 0
    window.act_isolate.trigger()  # Tools > Selection > Isolate selection
    assert m.isolate and window.selection_panel.isolate_box.isChecked()
    pts = m.plane_points()
    drawn = sc.plotted_points()
    assert len(drawn) == len(sel) and len(sc.grey_item) == m.n_points - len(sel)
    np.testing.assert_allclose(np.sort(drawn[:, 0]), np.sort(pts[sel, 0]))
    sc.setFocus()
    qtbot.keyClick(sc.viewport(), Qt.Key_Escape)
    assert len(m.selection) == 0 and m.select_tool is None
    assert len(sc.plotted_points()) == m.n_points and len(sc.grey_item) == 0
    assert not window.act_select_rect.isChecked()


def test_plain_drags_keep_their_meaning_without_a_tool(window, qtbot, mouse):
    m, sc = window.model, window.scatter
    before = sc.getViewBox().viewRange()
    mouse.drag(sc, [_view_point(sc, 0.3, 0.3), _view_point(sc, 0.6, 0.6)], modifier=Qt.NoModifier)
    assert len(m.selection) == 0
    assert sc.getViewBox().viewRange() != before  # panned


def test_export_selection_writes_the_indices(window, qtbot, mouse, tmp_path, monkeypatch):
    m, sc = window.model, window.scatter
    window.act_select_rect.trigger()
    mouse.drag(sc, [_view_point(sc, 0.1, 0.1), _view_point(sc, 0.7, 0.8)], modifier=Qt.NoModifier)
    target = tmp_path / "out" / "picked.npz"
    target.parent.mkdir()
    starts = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda parent, title, start="", filt="", *a, **k: (starts.append(start) or str(target), filt)))
    window.act_export_selection.trigger()  # Tools > Selection > Export selection…
    assert starts and starts[0].startswith(str(window.state.workspace.results_dir))
    with np.load(target) as f:
        np.testing.assert_array_equal(f["indices"], m.selection)
        np.testing.assert_array_equal(f["z"], m.z[m.selection])
        assert list(f["filenames"]) == [f"synth_{i:03d}.png" for i in m.selection]


def test_save_as_named_set_shows_it_in_view_layers(window, qtbot, mouse, monkeypatch):
    m, sc, ws = window.model, window.scatter, window.state.workspace
    window.act_select_lasso.trigger()
    corners = [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)]
    mouse.drag(sc, [_view_point(sc, fx, fy) for fx, fy in corners], modifier=Qt.NoModifier)
    sel = m.selection.copy()
    assert len(sel)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("picked", True)))
    window.act_selection_set.trigger()  # Tools > Selection > Save selection as named set…
    assert "picked" in ws.latent_set_names()
    saved = ws.latents("picked")
    np.testing.assert_array_equal(saved.z, m.z[sel])
    assert not ws.staleness(saved).stale  # encoded by the committed weights
    entries = {a.text(): a for a in window.layers_menu.actions()}
    assert "picked" in entries and entries["picked"].isChecked()
    np.testing.assert_allclose(window.layers.plotted("picked"), m.plane_points()[sel], rtol=1e-5)


# ------------------------------------------------------------------ search and hover
def test_search_greys_out_the_other_points(window, qtbot):
    m, sc, bar = window.model, window.scatter, window.filter_bar
    with qtbot.waitSignal(window.state.filterChanged, timeout=3000):
        qtbot.keyClicks(bar.search, "SYNTH_01")  # synth_010 … synth_019, case-insensitive
    match = [i for i, f in enumerate(m.filenames) if "synth_01" in f]
    assert len(match) == 10
    np.testing.assert_allclose(np.sort(sc.plotted_points()[:, 0]), np.sort(m.plane_points()[match, 0]))
    assert len(sc.grey_item) == m.n_points - 10
    assert bar.status.text() == f"10 of {m.n_points} match"
    # an attribute range narrows it further
    bar.attribute.setCurrentIndex(1)
    name = m.attribute_names[0]
    col = m.attributes[:, 0]
    cut = float(np.median(col[match]))
    with qtbot.waitSignal(window.state.filterChanged, timeout=3000):
        qtbot.keyClicks(bar.low, f"{cut:.6f}")
    both = [i for i in match if col[i] >= float(f"{cut:.6f}")]
    assert m.point_filter.ranges == ((name, float(f"{cut:.6f}"), None),)
    assert len(sc.plotted_points()) == len(both)
    qtbot.mouseClick(bar.clear_button, Qt.LeftButton)
    assert len(sc.plotted_points()) == m.n_points and len(sc.grey_item) == 0


def test_hover_shows_the_nearest_file_name_and_its_image(window, qtbot, mouse):
    m, sc = window.model, window.scatter
    x, y = (float(v) for v in m.plane_points()[23])
    with qtbot.waitSignal(sc.hovered, timeout=2000) as blocker:
        mouse.move(sc, x, y)
    k = blocker.args[0]
    pts = m.plane_points().astype(np.float64)
    px, py = sc._pixel_size()
    hit = _as_dragged(sc, x, y)
    assert k == int(np.argmin(((pts[:, 0] - hit[0]) / px) ** 2 + ((pts[:, 1] - hit[1]) / py) ** 2))
    card = sc.hover_card
    assert card.isVisible() and f"#{k} synth_{k:03d}.png" in card.text.text()
    assert not card.thumb.pixmap().isNull()
    assert card.geometry().intersects(sc.rect())


def test_nearest_neighbour_list_follows_the_current_vector(window, qtbot, mouse):
    m, panel = window.model, window.selection_panel
    panel.k_spin.setFocus()
    qtbot.keyClick(panel.k_spin, Qt.Key_Up)
    qtbot.keyClick(panel.k_spin, Qt.Key_Up)
    assert panel.k_spin.value() == 8
    x, y = _view_point(window.scatter, 0.4, 0.6)
    mouse.click(window.scatter, x, y)
    d = np.linalg.norm(m.z.astype(np.float64) - m.current.vector, axis=1)
    assert panel.neighbour_indices() == list(np.argsort(d)[:8])
    first = panel.knn_buttons[0]
    qtbot.mouseClick(first, Qt.LeftButton)  # its z-vector becomes current
    assert m.current.index == int(np.argsort(d)[0])
    assert panel.neighbour_indices()[0] == m.current.index  # the list now follows that point
