"""The README's promises as journeys a user takes, driven only through the real UI.

Every step goes through what a user touches: menu ``QAction``s (``trigger()``), buttons
(``qtbot.mouseClick``), mouse clicks and drags on the scatter's viewport, key presses on sliders,
clicks on the correlation heat map, the modal dialogs (answered by a timer that clicks their
buttons, as a user would). No slot method is called directly.

Journey: empty start → welcome page → New from synthetic faces (tiny settings) → live training →
explore (click, drag the point, PC sliders, path, plane from a correlation pair) → generate →
export into ``results/`` → quit → reopen from the recent list restores plane, sliders, point, path
and samples.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from latentexplorer.gui import main_window as main_window_module
from latentexplorer.gui.main_window import MainWindow

#: File > New from synthetic faces, shrunk so the journey trains in seconds on a CPU
TINY_SYNTH = {"n": 64, "size": 16, "epochs": 2, "z_dim": 4, "kind": "ae", "seed": 0}


# ------------------------------------------------------------------------------ dialogs
def answer_next_dialog(qtbot, answer, timeout_ms: int = 20_000) -> list:
    """When the next modal dialog opens, call ``answer(dialog)`` (it clicks a button or fills in a
    file name). Returns a list that receives the dialog (to assert that one was shown)."""
    seen: list = []  # (dialog class name, its starting folder or None)
    timer = QTimer()
    timer.setInterval(20)

    def poll():
        dialog = QApplication.activeModalWidget()
        if dialog is not None and not seen:
            start = dialog.directory().absolutePath() if isinstance(dialog, QFileDialog) else None
            seen.append((type(dialog).__name__, start))
            timer.stop()
            try:
                answer(dialog)
            finally:
                if dialog.isVisible():  # never leave a modal dialog open: the test would hang
                    dialog.reject()

    timer.timeout.connect(poll)
    timer.start()
    QTimer.singleShot(timeout_ms, timer.stop)
    _TIMERS.append(timer)  # alive until the test ends
    return seen


_TIMERS: list[QTimer] = []


def click_yes(dialog) -> None:
    assert isinstance(dialog, QMessageBox), dialog
    dialog.button(QMessageBox.Yes).click()


def save_as(path: Path):
    """Answer a save-file dialog: ``path`` into its file name field, then its Save button."""
    def answer(dialog) -> None:
        from PySide6.QtWidgets import QDialogButtonBox, QLineEdit

        assert isinstance(dialog, QFileDialog), dialog
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        assert edit.text(), "the dialog proposes a file name"
        edit.setText(str(path))  # (typed keys would open the completer's popup over the field)
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Save).click()
    return answer


def menu_action(win: MainWindow, *titles: str):
    """The QAction reached by following menu titles (``"File", "Export", "Path strip…"``)."""
    actions = win.menuBar().actions()
    for depth, title in enumerate(titles):
        clean = [(a.text().replace("&", ""), a) for a in actions]
        found = [a for text, a in clean if text.startswith(title)]
        assert found, f"no menu entry {title!r} in {[t for t, _ in clean]}"
        if depth == len(titles) - 1:
            return found[0]
        actions = found[0].menu().actions()
    raise AssertionError(titles)


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture
def home(tmp_path, monkeypatch, isolated_settings):
    """A private home folder (File > New writes under ~/LatentExplorer) and tiny synthetic settings."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(main_window_module, "SYNTH_DEFAULTS", dict(TINY_SYNTH))
    return home


@pytest.fixture
def errors(monkeypatch):
    """Error dialogs are recorded (a journey must not show any)."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *a, **k: seen.append((title, text)) or QMessageBox.Ok))
    return seen


def new_window(qtbot, size=(1366, 768)) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    return win


def loaded(win: MainWindow) -> bool:
    m = win.model
    return (not win.runner.busy and m.z is not None and m.analysis is not None
            and win.state.decoder is not None and m.image is not None)


def press_keys(qtbot, widget, key, times: int) -> None:
    widget.setFocus()
    for _ in range(times):
        qtbot.keyClick(widget, key)


def click_cell(plot_widget, x: float, y: float) -> None:
    """Left-click the point (x, y) in data coordinates of a pyqtgraph PlotWidget."""
    from PySide6.QtTest import QTest

    vb = plot_widget.getPlotItem().getViewBox()
    scene = vb.mapViewToScene(QPointF(x, y))
    QTest.mouseClick(plot_widget.viewport(), Qt.LeftButton, Qt.NoModifier,
                     plot_widget.mapFromScene(scene))


# ------------------------------------------------------------------------------ the journey
def test_readme_journey_from_empty_start_to_restored_session(qtbot, home, errors, mouse):
    win = new_window(qtbot)

    # -- empty start: the welcome page, not an empty plot
    assert win.explorer_stack.currentWidget() is win.welcome
    assert win.welcome.new_button.isVisible() and win.welcome.open_button.isVisible()
    assert "Quick start" not in win.training_view.status.text()

    # -- New from synthetic faces, from the welcome page's button (it triggers File > New)
    confirm = answer_next_dialog(qtbot, click_yes)
    epochs_seen: list[int] = []
    qtbot.mouseClick(win.welcome.new_button, Qt.LeftButton)
    assert confirm, "File > New from synthetic faces asks before generating"
    qtbot.waitUntil(lambda: win.training_view.running, timeout=60_000)
    win.training_view.worker.metrics.connect(
        lambda m: epochs_seen.append(m["row"]["epoch"]) if m.get("event") == "epoch" else None)
    ws_path = Path(win.state.workspace.path)
    assert ws_path.is_relative_to(home / "LatentExplorer")

    # -- live training: the curves grow epoch by epoch, then the explorer opens on the result
    qtbot.waitUntil(lambda: not win.training_view.running, timeout=240_000)
    assert epochs_seen == [1, 2]
    assert len(win.training_view.curves.rows) == 2
    qtbot.waitUntil(lambda: loaded(win), timeout=120_000)
    assert win.tabs.currentIndex() == 0
    assert win.explorer_stack.currentWidget() is not win.welcome
    assert win.model.z.shape == (64, 4)
    assert not win.stale_banner.isVisible()

    # -- click: the face of the clicked point
    sc, m = win.scatter, win.model
    x0, y0 = np.median(m.plane_points(), axis=0)
    mouse.click(sc, float(x0), float(y0))
    qtbot.waitUntil(lambda: m.current is not None, timeout=5_000)
    np.testing.assert_allclose(m.plane_coords(m.current.vector[None, :])[0], (x0, y0), atol=0.05 * (
        1 + np.ptp(m.plane_points())))
    qtbot.waitUntil(lambda: win.controller.decoding.idle and m.image is not None, timeout=10_000)

    # -- drag the current point: it follows the mouse and the face changes
    cx, cy = m.plane_coords(m.current.vector[None, :])[0]
    span = np.ptp(m.plane_points(), axis=0)
    target = (float(cx + 0.3 * span[0]), float(cy - 0.2 * span[1]))
    steps = [(cx + (target[0] - cx) * t, cy + (target[1] - cy) * t) for t in np.linspace(0, 1, 6)]
    with qtbot.waitSignal(win.state.imageChanged, timeout=10_000):  # decoded again
        mouse.drag(sc, steps, modifier=Qt.NoModifier)
    np.testing.assert_allclose(m.plane_coords(m.current.vector[None, :])[0], target,
                               atol=0.05 * float(span.max()))

    # -- PC sliders: keys on PC 1 and PC 2 move two PCA coordinates, the others stay
    sliders = win.sliders.sliders
    assert len(sliders) == 4  # z_dim 4: every component has a slider
    before = m.pca_coords(4).copy()
    press_keys(qtbot, sliders[0].slider, Qt.Key_Right, 5)
    press_keys(qtbot, sliders[1].slider, Qt.Key_Left, 3)
    after = m.pca_coords(4)
    assert after[0] > before[0] and after[1] < before[1]
    np.testing.assert_allclose(after[2:], before[2:], atol=1e-4)

    # -- plane from a correlation pair: Analysis → Correlation → click a cell → Explorer tab
    menu_action(win, "View", "Analysis tab").trigger()
    views = win.analysis_views
    bar = views.tabBar()
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(views.indexOf(views.correlation)).center())
    assert views.currentWidget() is views.correlation
    qtbot.waitUntil(lambda: views.correlation.result is not None, timeout=30_000)
    click_cell(views.correlation.plot, 3.5, 1.5)  # column j = 3, row i = 1
    assert win.tabs.currentIndex() == 0
    assert (m.plane.kind, m.plane.i, m.plane.j) == ("latent", 1, 3)

    # -- path: Shift+drag draws a path; the strip shows its faces; a face click moves the point
    lo, hi = np.percentile(m.plane_points(), [20, 80], axis=0)
    mouse.drag(sc, [(lo[0], lo[1]), ((lo[0] + hi[0]) / 2, hi[1]), (hi[0], lo[1])])
    assert m.path is not None and len(m.path.points) >= 2
    strip = win.path_strip
    qtbot.waitUntil(lambda: strip.images is not None and len(strip.images) == strip.n_spin.value(),
                    timeout=10_000)
    third = strip.buttons[2]
    qtbot.mouseClick(third, Qt.LeftButton)
    np.testing.assert_allclose(m.current.vector, strip.vectors[2], atol=1e-6)

    # -- export the strip into results/ (the dialog starts there)
    results = ws_path / "results"
    dialog = answer_next_dialog(qtbot, save_as(results / "my_strip.png"))
    menu_action(win, "File", "Export", "Path strip").trigger()
    assert dialog and Path(dialog[0][1]) == results
    sidecar = json.loads((results / "my_strip.json").read_text())
    assert sidecar["path"]["kind"] == "plane" and len(sidecar["z"]) == strip.n_spin.value()
    assert "my_strip.png" in win.status_label.text()
    path_points = np.array(m.path.points)
    current = m.current.vector.copy()

    # -- generate: Generator tab, ellipse method, Generate → the samples in the scatter and a grid
    menu_action(win, "View", "Generator tab").trigger()
    gen = win.generator_panel
    gen.method.setCurrentText("ellipse")
    qtbot.waitUntil(lambda: gen.generate_button.isEnabled(), timeout=30_000)
    with qtbot.waitSignal(gen.generated, timeout=60_000):
        qtbot.mouseClick(gen.generate_button, Qt.LeftButton)
    assert m.samples is not None and m.samples.shape[1] == 4
    assert len(sc.samples_item) == len(m.samples)
    samples = m.samples.copy()
    grid_dialog = answer_next_dialog(qtbot, save_as(results / "my_grid.png"))
    qtbot.mouseClick(gen.export_grid_button, Qt.LeftButton)
    assert grid_dialog and (results / "my_grid.png").is_file() and (results / "my_grid.json").is_file()
    menu_action(win, "View", "Explorer tab").trigger()
    plane = m.plane
    assert not errors, errors

    # -- quit (File > Quit), then reopen from the welcome page's recent list
    menu_action(win, "File", "Quit").trigger()
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=30_000)
    assert (ws_path / "gui_state.json").is_file()

    win2 = new_window(qtbot)
    recent = win2.welcome.recent
    assert recent.count() >= 1 and recent.item(0).text() == str(ws_path)
    rect = recent.visualItemRect(recent.item(0))
    # a double click is press, release, then a second press that Qt reports as a double click
    qtbot.mouseClick(recent.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(recent.viewport(), Qt.LeftButton, pos=rect.center())
    m2 = win2.model
    qtbot.waitUntil(lambda: loaded(win2), timeout=120_000)
    assert m2.plane == plane
    np.testing.assert_allclose(m2.current.vector, current, atol=1e-5)
    np.testing.assert_allclose(np.array(m2.path.points), path_points, atol=1e-5)
    assert m2.samples is not None and m2.samples.shape == samples.shape
    np.testing.assert_allclose(m2.samples, samples, atol=1e-5)  # same spec and seed: same vectors
    # the sliders show the restored point's PCA coordinates (to one slider step)
    # the sliders show the restored point's PCA coordinates (to half a step; the handles stay
    # within ±3σ of each axis, beyond it they are pinned at the end)
    for k, s in enumerate(win2.sliders.sliders):
        lim = 3 * float(m2.analysis.std[k])
        assert abs(s.value() - np.clip(m2.pca_coords(4)[k], -lim, lim)) <= s._step / 2 + 1e-9
    assert not errors, errors
    win2.close()


def test_new_from_synthetic_faces_by_shortcut_does_not_crash(qtbot, home, errors):
    """Ctrl+N passes ``checked`` to nobody: the synthetic job starts (it crashed with a TypeError)."""
    win = new_window(qtbot)
    answer_next_dialog(qtbot, lambda d: d.button(QMessageBox.No).click())
    win.act_new.trigger()  # declined: nothing starts, nothing is written
    assert not win.runner.busy and not (home / "LatentExplorer").exists()
    started: list[str] = []
    win.runner.started.connect(lambda name, _w: started.append(name))
    win.activateWindow()  # the closed dialog was the active window; shortcuts go to the active one
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5_000)
    asked = answer_next_dialog(qtbot, click_yes)
    qtbot.keyClick(win, Qt.Key_N, Qt.ControlModifier)
    assert asked
    qtbot.waitUntil(lambda: "train" in started, timeout=60_000)
    qtbot.mouseClick(win.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=120_000)
    assert "cancelled" in win.status_label.text() or "stopped" in win.training_view.status.text()
    assert win.training_view.progress.value() in (-1, 0)
    assert not errors, errors


def test_judging_journey_scoreboard_face_map_and_named_layers(qtbot, tiny_workspace_copy, isolated_settings,
                                                               errors, tmp_path):
    """A named set encoded from the CLI appears as a layer; the face-likeness map shades the plane;
    each generated set gets a scoreboard row — all reached through menus and buttons."""
    from tiny_models import make_store

    from latentexplorer.cli import main

    other = make_store(tmp_path / "others", n=24, size=16, seed=7)
    assert main(["encode", "--workspace", str(tiny_workspace_copy), "--data", str(other),
                 "--name", "others"]) == 0
    win = new_window(qtbot)
    assert win.open_workspace(tiny_workspace_copy)
    qtbot.waitUntil(lambda: loaded(win), timeout=120_000)

    # -- the named set is a layer, listed under View > Layers, and can be hidden there
    m = win.model
    assert list(m.layers) == ["others"] and m.layers["others"].shape == (24, 4)
    drawn = win.layers.plotted("others")
    np.testing.assert_allclose(drawn, m.layer_points("others"), atol=1e-6)
    entry = menu_action(win, "View", "Layers", "others")
    assert entry.isChecked()
    legend = lambda: [label.text for _sample, label in win.scatter.legend.items]  # noqa: E731
    assert "set 'others' (24)" in legend()
    entry.trigger()
    assert len(win.layers.plotted("others")) == 0
    assert not any("others" in text for text in legend())  # the legend follows
    entry.trigger()
    assert "set 'others' (24)" in legend()
    menu_action(win, "View", "PCA plane").trigger()  # the layer follows the plane
    plane = m.plane
    assert plane.kind == "pca"
    expected = m.projector.pca.project(m.layers["others"].astype(np.float64), (plane.i, plane.j))
    assert expected.shape == (24, 2)  # the set's own points, not the training cloud's
    np.testing.assert_allclose(win.layers.plotted("others"), expected, atol=1e-4)

    # -- Tools > Face-likeness map: a map over the visible plane, drawn under the points
    with qtbot.waitSignal(win.face_map.ready, timeout=120_000) as ready:
        menu_action(win, "Tools", "Face-likeness map").trigger()
    fmap = ready.args[0]
    assert fmap.confidence.shape == (32, 32) and win.face_map.visible
    assert "face map: a face in" in win.status_label.text()
    menu_action(win, "Tools", "Hide face-likeness map").trigger()
    assert not win.face_map.visible

    # -- Generator: two sets, two scoreboard rows with the detector's rate and interval
    menu_action(win, "View", "Generator tab").trigger()
    gen = win.generator_panel
    for method in ("normal", "ellipse"):
        gen.method.setCurrentText(method)
        with qtbot.waitSignal(gen.generated, timeout=120_000):
            qtbot.mouseClick(gen.generate_button, Qt.LeftButton)
    board = gen.scoreboard
    assert board.rowCount() == 2
    assert board.item(0, 0).text().startswith("ellipse") and board.item(1, 0).text().startswith("normal")
    assert "[" in board.item(0, 3).text() and board.entries[0]["n_judged"] == gen.n_show.value()
    assert not errors, errors
    win.close()
