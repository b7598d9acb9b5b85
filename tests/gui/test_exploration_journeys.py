"""Journeys through the main window's Directions, Bookmarks and Selection docks, on the real tiny
workspace, driven as a user does: View / File menu actions, their shortcuts on the window (Ctrl+B,
R, Esc), clicks on dock tabs and buttons, key presses on sliders, clicks and drags on the scatter's
viewport, double-clicks on the bookmark list. The name and file dialogs answer through the
bookmark panel tests' monkeypatched static dialogs. Results are checked against numbers computed
here (parallel moves, dot products, the selection before it was cleared), not read back from the
code under test.

The window and dialog helpers are those of ``test_journeys.py``, ``test_bookmarks_panel.py``,
``test_directions_panel.py`` and ``test_selection_journey.py`` (tests/ has no packages: the folder
goes on ``sys.path``, as tests/explore/test_bookmarks.py does for its helpers).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTabBar

from latentexplorer.explore.bookmarks import read_bookmarks
from latentexplorer.explore.plane import Plane

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_bookmarks_panel
import test_journeys
from test_bookmarks_panel import _double_click
from test_directions_panel import _choose_method
from test_journeys import loaded, menu_action, new_window, press_keys
from test_selection_journey import _view_point

# their fixtures, used here by name: the name and file dialogs answered, error dialogs recorded
dialogs = test_bookmarks_panel.dialogs
errors = test_journeys.errors


# ------------------------------------------------------------------------------ helpers
@pytest.fixture
def open_window(qtbot, isolated_settings):
    """``open_window(path)`` → a 1366x768 main window with the workspace ``path`` loaded."""
    windows = []

    def make(path):
        win = new_window(qtbot)
        assert win.open_workspace(path)
        qtbot.waitUntil(lambda: loaded(win), timeout=120_000)
        assert win.wait_idle(30_000)
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.close()


def activate(qtbot, win) -> None:
    """Make ``win`` the active window: shortcuts go to the active one."""
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5_000)


def click_dock_tab(qtbot, win, title: str) -> None:
    """Bring a tabbed dock forward by clicking its tab under the dock area."""
    for bar in win.findChildren(QTabBar):
        hits = [k for k in range(bar.count()) if bar.tabText(k) == title]
        if hits and bar.isVisible():
            qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(hits[0]).center())
            return
    raise AssertionError(f"no dock tab {title!r}")


def in_front(dock) -> bool:
    """The dock is shown and not covered by another dock of its tab group."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def toggle(qtbot, lst, name: str):
    """Click the list item ``name`` (selects it), then Space toggles its check box; → its state."""
    item = lst.findItems(name, Qt.MatchExactly)[0]
    qtbot.mouseClick(lst.viewport(), Qt.LeftButton, pos=lst.visualItemRect(item).center())
    qtbot.keyClick(lst, Qt.Key_Space)
    return item.checkState()


def table_values(t, row: int, columns: list[str]) -> np.ndarray:
    cols = {t.horizontalHeaderItem(c).text(): c for c in range(t.columnCount())}
    return np.array([t.item(row, cols[c]).data(Qt.UserRole) for c in columns])


def bookmark_names(panel) -> list[str]:
    return [panel.list.item(k).text() for k in range(panel.list.count())]


# ------------------------------------------------------------------------------ directions
def test_view_directions_brings_the_tabbed_dock_forward(qtbot, open_window, tiny_workspace_copy, errors):
    win = open_window(tiny_workspace_copy)
    dock = win.directions_dock
    assert not in_front(dock)  # tabbed behind "Decoded face"
    act = menu_action(win, "View", "Directions")
    assert act.isChecked()  # it is open, only covered
    act.trigger()
    assert in_front(dock) and act.isChecked()
    assert not errors, errors


def test_directions_journey_sliders_report_and_orthogonalising(qtbot, open_window, tiny_workspace_copy,
                                                               errors):
    win = open_window(tiny_workspace_copy)
    m, panel = win.model, win.directions_panel
    click_dock_tab(qtbot, win, "Directions")
    assert in_front(win.directions_dock)
    # its controls fit beside the decoded face: the window stays 1366 px wide (it was 1379)
    assert win.width() == 1366 and win.directions_dock.width() < 400
    first, second = m.attribute_names[:2]  # the synthetic factors "male", "skin_tone"

    # -- Attributes, two checked, Compute: a slider per attribute direction
    _choose_method(qtbot, panel, "Attributes")
    assert toggle(qtbot, panel.attr_list, first) == Qt.Checked
    assert toggle(qtbot, panel.attr_list, second) == Qt.Checked
    qtbot.mouseClick(panel.compute_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(panel.sliders) == 2, timeout=10_000)
    assert panel.directions.names == [first, second]
    u = panel.directions.vectors.astype(np.float64).copy()
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, atol=1e-9)

    # -- keys on the first slider move the current vector along that direction only; the face follows
    before = m.current.vector.astype(np.float64)
    start = (before - m.z.astype(np.float64).mean(axis=0)) @ u[0]
    with qtbot.waitSignal(win.state.imageChanged, timeout=10_000):
        press_keys(qtbot, panel.sliders[0].slider, Qt.Key_Right, 5)
    moved = m.current.vector.astype(np.float64) - before
    assert moved @ u[0] > 0
    np.testing.assert_allclose(moved, (moved @ u[0]) * u[0], atol=1e-5)
    assert moved @ u[0] == pytest.approx(panel.sliders[0].value() - start, abs=1e-4)

    # -- the entanglement report: a cosine column per direction, a slope column per attribute
    with qtbot.waitSignal(panel.reportReady, timeout=60_000):
        qtbot.mouseClick(panel.report_button, Qt.LeftButton)
    t = panel.table
    assert t.isVisible()
    assert [t.verticalHeaderItem(r).text() for r in range(t.rowCount())] == [first, second]
    slope_cols = [f"{first} /σ", f"{second} /σ"]
    assert [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())] == ["cos 1", "cos 2"] + slope_cols
    cosines = np.stack([table_values(t, r, ["cos 1", "cos 2"]) for r in range(2)])
    np.testing.assert_allclose(cosines, u @ u.T, atol=1e-6)
    slopes = np.stack([table_values(t, r, slope_cols) for r in range(2)])
    assert np.isfinite(slopes).all()
    assert t.item(0, 2).text() == f"{slopes[0, 0]:+.3f}"

    # -- orthogonalise the first against the second: the new direction is orthogonal to it
    assert toggle(qtbot, panel.attr_list, second) == Qt.Unchecked
    assert toggle(qtbot, panel.ortho_list, second) == Qt.Checked
    qtbot.mouseClick(panel.compute_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.original is not None, timeout=10_000)
    assert panel.export_combo.currentText() == f"{first} ⊥ {second}" and len(panel.sliders) == 1
    w = panel.directions.vectors[0].astype(np.float64)
    assert abs(w @ u[1]) < 1e-6
    np.testing.assert_allclose(panel.original.vectors[0], u[0], atol=1e-9)  # "before": the plain one
    # moving along it leaves the coordinate along the second attribute's direction where it was
    before = m.current.vector.astype(np.float64)
    press_keys(qtbot, panel.sliders[0].slider, Qt.Key_Left, 4)
    moved = m.current.vector.astype(np.float64) - before
    assert np.linalg.norm(moved) > 0 and abs(moved @ u[1]) < 1e-5
    with qtbot.waitSignal(panel.reportReady, timeout=60_000):
        qtbot.mouseClick(panel.report_button, Qt.LeftButton)
    assert [t.verticalHeaderItem(r).text() for r in range(t.rowCount())] == [
        f"{first} (before)", f"{first} ⊥ {second}"]
    assert not errors, errors


# ------------------------------------------------------------------------------ bookmarks
def test_bookmark_by_ctrl_b_restores_plane_and_vector_and_travels_to_another_workspace(
        qtbot, open_window, tiny_workspace, tiny_workspace_copy, tmp_path, mouse, dialogs):
    win = open_window(tiny_workspace_copy)
    m, sc, panel = win.model, win.scatter, win.bookmarks_panel
    old = m.current.vector.copy()
    mouse.click(sc, *_view_point(sc, 0.35, 0.6))
    assert not np.array_equal(m.current.vector, old)
    menu_action(win, "View", "PCA plane").trigger()
    assert m.plane == Plane("pca", 0, 1)
    saved = m.current.vector.copy()

    # -- Ctrl+B asks for a name and stores the state in WS/bookmarks.json
    dialogs.names.append("pca spot")
    activate(qtbot, win)
    qtbot.keyClick(win, Qt.Key_B, Qt.ControlModifier)
    assert not dialogs.names, "Ctrl+B asked for the bookmark's name"
    assert bookmark_names(panel) == ["pca spot"]
    stored = read_bookmarks(tiny_workspace_copy / "bookmarks.json")
    assert tuple(stored[0].plane) == ("pca", 0, 1)
    np.testing.assert_array_equal(np.asarray(stored[0].current, np.float32), saved)

    # -- move away: another point, the latent plane; a double-click on the bookmark brings all back
    mouse.click(sc, *_view_point(sc, 0.75, 0.25))
    menu_action(win, "View", "Latent plane").trigger()
    assert m.plane == Plane("latent", 0, 1) and not np.array_equal(m.current.vector, saved)
    click_dock_tab(qtbot, win, "Bookmarks")
    with qtbot.waitSignal(win.state.planeChanged, timeout=5_000):
        _double_click(qtbot, panel, 0)
    assert m.plane == Plane("pca", 0, 1)
    assert np.array_equal(m.current.vector, saved)

    # -- File > Export > Bookmarks (JSON)…, then File > Import bookmarks… in another workspace
    out = tmp_path / "exported_bookmarks.json"
    dialogs.files.append(out)
    menu_action(win, "File", "Export", "Bookmarks").trigger()
    assert [bm.name for bm in read_bookmarks(out)] == ["pca spot"]
    other = tmp_path / "other_workspace"
    shutil.copytree(tiny_workspace, other)
    win2 = open_window(other)
    m2, panel2 = win2.model, win2.bookmarks_panel
    assert bookmark_names(panel2) == []
    dialogs.files.append(out)
    menu_action(win2, "File", "Import bookmarks").trigger()
    assert bookmark_names(panel2) == ["pca spot"]  # the same decoder: no ⚠ mark
    assert [bm.name for bm in read_bookmarks(other / "bookmarks.json")] == ["pca spot"]
    click_dock_tab(qtbot, win2, "Bookmarks")
    with qtbot.waitSignal(win2.state.currentChanged, timeout=5_000):
        _double_click(qtbot, panel2, 0)
    assert m2.plane == Plane("pca", 0, 1)
    assert np.array_equal(m2.current.vector, saved)
    assert not dialogs.shown, dialogs.shown


def test_a_bookmark_brings_back_a_cleared_selection(qtbot, open_window, tiny_workspace_copy, mouse,
                                                   dialogs):
    win = open_window(tiny_workspace_copy)
    m, sc, selection = win.model, win.scatter, win.selection_panel
    activate(qtbot, win)
    qtbot.keyClick(win, Qt.Key_R)  # Tools > Selection > Rectangle selection
    assert m.select_tool == "rect"
    mouse.drag(sc, [_view_point(sc, 0.15, 0.2), _view_point(sc, 0.4, 0.5), _view_point(sc, 0.65, 0.8)],
               modifier=Qt.NoModifier)
    picked = m.selection.copy()
    assert 0 < len(picked) < m.n_points
    count = selection.count_label.text()
    assert count.startswith(f"{len(picked):,} of {m.n_points:,} points selected")

    dialogs.names.append("picked")
    activate(qtbot, win)
    qtbot.keyClick(win, Qt.Key_B, Qt.ControlModifier)
    assert bookmark_names(win.bookmarks_panel) == ["picked"]

    assert win.wait_idle(30_000)  # Esc clears the selection when no background task runs
    qtbot.keyClick(win, Qt.Key_Escape)
    assert len(m.selection) == 0 and m.select_tool is None
    assert selection.count_label.text().startswith("No selection")

    click_dock_tab(qtbot, win, "Bookmarks")
    with qtbot.waitSignal(win.state.selectionChanged, timeout=5_000):
        _double_click(qtbot, win.bookmarks_panel, 0)
    np.testing.assert_array_equal(m.selection, picked)
    assert selection.count_label.text() == count
    assert not dialogs.shown, dialogs.shown
