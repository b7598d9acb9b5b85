"""MainWindow on the real tiny workspace, driven like a user: menu actions, clicks and drags in the
scatter, keys on sliders and spin boxes, buttons. Loading, planes, decoding off the GUI thread, the
path strip, sliders, hover, errors, gui_state.json, exports, the stale banner, closing during
training, the one-click synthetic start and the screenshot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox

from latentexplorer.explore import DirectionPath, Plane, PlanePath
from latentexplorer.gui.main_window import MainWindow


# ------------------------------------------------------------------ helpers
def _loaded(win) -> bool:
    m = win.model
    return (not win.runner.busy and m.z is not None and m.analysis is not None
            and win.state.decoder is not None)


def _wait_loaded(qtbot, win, timeout=60_000) -> None:
    qtbot.waitUntil(lambda: _loaded(win), timeout=timeout)
    assert win.wait_idle(30_000)
    qtbot.waitUntil(lambda: win.model.image is not None, timeout=10_000)


def _action(win, text: str) -> QAction:
    hits = [a for a in win.findChildren(QAction) if a.text().replace("&", "") == text]
    assert len(hits) == 1, (text, [a.text() for a in win.findChildren(QAction)])
    return hits[0]


def _choose_folder(monkeypatch, folder) -> list:
    """File dialogs for folders answer ``folder``; returns the start folders they were given."""
    starts = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(
        lambda parent, title, start="", *a, **k: starts.append(start) or str(folder)))
    return starts


def _choose_save(monkeypatch, path) -> list:
    starts = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda parent, title, start="", filt="", *a, **k: (starts.append(start) or str(path), filt)))
    return starts


def _choose_open(monkeypatch, path) -> list:
    starts = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(
        lambda parent, title, start="", filt="", *a, **k: (starts.append(start) or str(path), filt)))
    return starts


def _type_value(qtbot, spin, value) -> None:
    """Type ``value`` into a spin box and press Enter."""
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    qtbot.keyClick(spin, Qt.Key_Enter)
    assert spin.value() == value


def _view_point(sc, fx, fy):
    (x0, x1), (y0, y1) = sc.getViewBox().viewRange()
    return x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)


def _open(qtbot, win, monkeypatch, folder) -> None:
    """File > Open workspace… choosing ``folder``; waits until it is loaded and decoded."""
    _choose_folder(monkeypatch, folder)
    win.act_open.trigger()
    _wait_loaded(qtbot, win)


@pytest.fixture
def errors(monkeypatch):
    """Record QMessageBox.warning calls instead of opening modal dialogs ("Yes" to questions)."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *a, **k: seen.append((title, text)) or QMessageBox.Ok))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.Yes))
    return seen


def _new_window(qtbot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def window(qtbot, tiny_workspace_copy, isolated_settings, errors, monkeypatch):
    win = _new_window(qtbot)
    _open(qtbot, win, monkeypatch, tiny_workspace_copy)
    yield win
    win.runner.cancel_all(wait_ms=30_000)
    win.controller.close()


# ------------------------------------------------------------------ opening
def test_the_welcome_page_opens_a_workspace(qtbot, tiny_workspace_copy, isolated_settings, errors,
                                            monkeypatch):
    win = _new_window(qtbot)
    assert win.explorer_stack.currentWidget() is win.welcome  # until a workspace is open
    assert win.windowTitle() == "LatentExplorer"
    starts = _choose_folder(monkeypatch, tiny_workspace_copy)
    qtbot.mouseClick(win.welcome.open_button, Qt.LeftButton)
    _wait_loaded(qtbot, win)
    assert len(starts) == 1
    assert win.explorer_stack.currentWidget() is not win.welcome
    assert "workspace" in win.windowTitle()
    assert not errors
    win.runner.cancel_all(wait_ms=30_000)


def test_window_opens_on_the_workspace(window, errors):
    m = window.model
    assert m.z.shape == (64, 4)
    assert "workspace" in window.windowTitle()
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == \
        ["Explorer", "Training", "Generator", "Analysis"]
    assert m.image.shape == (16, 16, 3)
    assert not window.face_view.image.pixmap().isNull()  # the face is shown
    assert window.face_view.title.text().startswith("data point #0")
    assert len(window.scatter.plotted_points()) == 64
    assert window.controls.color_by.count() == 3 + len(m.attribute_names)  # none, density, KMeans cluster
    assert len(window.sliders.sliders) == min(window.sliders.count.value(), m.n_pca)
    assert not window.stale_banner.isVisible()
    assert not errors
    # every control of ours explains itself
    for w in [window.controls.kind, window.controls.x_spin, window.controls.y_spin,
              window.controls.quick, window.controls.sigma.slider, window.controls.fact.slider,
              window.controls.color_by, window.controls.snap, window.controls.path_mode,
              window.controls.reset, window.face_view.sharpen.slider, window.path_strip.n_spin,
              window.path_strip.attr_combo, window.path_strip.attr_button,
              window.path_strip.clear_button, window.path_strip.export_button,
              window.sliders.count, window.sliders.mean_button, window.sliders.point_button,
              *[s.slider for s in window.sliders.sliders],
              window.face_view.radius_label, window.face_view.maha_label,
              window.welcome.new_button, window.welcome.open_button,
              window.stale_banner.button, window.stale_banner.dismiss,
              window.cancel_button, window.progress, window.scatter]:
        assert w.toolTip(), w


def test_the_window_fits_a_1024_by_600_screen(window, qtbot):
    """On every tab, with a workspace open, the window can shrink to a 1024 x 600 screen less a
    title bar and a panel (the docks and the Training tab scroll instead of forcing it larger)."""
    for k in range(window.tabs.count()):
        qtbot.mouseClick(window.tabs.tabBar(), Qt.LeftButton, pos=window.tabs.tabBar().tabRect(k).center())
        hint = window.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 540, (window.tabs.tabText(k), hint)
    window.resize(1024, 540)
    assert window.width() <= 1024 and window.height() <= 540


def test_bad_workspaces_show_a_dialog(window, errors, tmp_path, monkeypatch):
    _choose_folder(monkeypatch, tmp_path / "nothing-here")
    window.act_open.trigger()
    assert "not found" in errors[-1][1]
    assert window.model.z is not None  # the open workspace stays


def test_a_pca_plane_without_data_is_refused_with_a_dialog(qtbot, isolated_settings, errors):
    win = _new_window(qtbot)
    _action(win, "PCA plane").trigger()
    assert errors and "PCA" in errors[-1][1]
    assert win.tabs.currentIndex() == 0


# ------------------------------------------------------------------ planes
def test_switching_planes_changes_the_plotted_data(window, qtbot):
    m, sc, ctl = window.model, window.scatter, window.controls
    before = sc.plotted_points().copy()
    qtbot.keyClick(ctl.y_spin, Qt.Key_Up)
    qtbot.keyClick(ctl.y_spin, Qt.Key_Up)
    assert m.plane == Plane("latent", 0, 3)
    after = sc.plotted_points()
    assert not np.allclose(np.sort(before[:, 1]), np.sort(after[:, 1]))
    np.testing.assert_allclose(np.sort(after[:, 1]), np.sort(m.z[:, 3]), atol=1e-6)
    qtbot.keyClick(ctl.x_spin, Qt.Key_Up)
    qtbot.keyClick(ctl.x_spin, Qt.Key_Up)
    assert m.plane == Plane("latent", 2, 3)
    qtbot.keyClick(ctl.x_spin, Qt.Key_Up)  # x takes y's axis: y takes the old x, the plane stays valid
    assert m.plane == Plane("latent", 3, 2)
    assert (ctl.x_spin.value(), ctl.y_spin.value()) == (3, 2)
    qtbot.keyClick(ctl.kind, Qt.Key_Down)  # PCA
    assert m.plane == Plane("pca", 0, 1)
    assert ctl.x_spin.prefix() == "PC " and ctl.x_spin.value() == 1  # shown 1-based
    np.testing.assert_allclose(np.sort(sc.plotted_points()[:, 0]),
                               np.sort(m.analysis.pca.transform(m.z)[:, 0]), atol=1e-4)
    assert ctl.quick.count() == m.n_pca
    _action(window, "Latent plane").trigger()
    assert m.plane == Plane("latent", 0, 1) and ctl.kind.currentIndex() == 0


def test_an_analysis_tab_shows_its_plane_in_the_explorer(window, qtbot):
    views = window.analysis_views
    _action(window, "Analysis tab").trigger()
    assert window.tabs.currentWidget() is window.analysis_page
    bar = views.tabBar()
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(views.indexOf(views.pca)).center())
    assert views.currentWidget() is views.pca
    table = views.pca.table
    qtbot.waitUntil(lambda: table.rowCount() == window.model.n_pca, timeout=5000)
    with qtbot.waitSignal(window.state.planeChanged, timeout=2000):
        qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=table.visualItemRect(table.item(1, 0)).center())
    assert window.model.plane == Plane("pca", 1, 2)
    assert window.tabs.currentIndex() == 0  # switched to the Explorer


# ------------------------------------------------------------------ clicks, drags, hover
def test_click_decodes_and_changes_two_coordinates_latent(window, qtbot, mouse):
    m, sc = window.model, window.scatter
    m.set_plane(("latent", 2, 0))
    before = m.current.vector.copy()
    x, y = _view_point(sc, 0.7, 0.2)
    mouse.click(sc, x, y)
    cur = m.current.vector
    assert set(np.flatnonzero(cur != before)) <= {0, 2} and np.any(cur != before)
    assert window.wait_idle(10_000)  # decoding runs off the GUI thread
    expected = window.state.decoder.decode_one(cur)
    qtbot.waitUntil(lambda: np.array_equal(m.image, expected), timeout=5000)
    assert window.face_view.radius_label.text() == f"{np.linalg.norm(cur):.2f}"
    assert window.face_view.title.text().startswith("(z[2], z[0]) = ")
    assert "in plane" in window.face_view.maha_label.text()


def test_click_in_pca_plane_goes_through_the_inverse_transform(window, qtbot, mouse):
    m, sc = window.model, window.scatter
    m.set_plane(("pca", 1, 0))
    pca = m.analysis.pca
    t_before = pca.transform(m.current.vector[None].astype(np.float64))[0]
    x, y = _view_point(sc, 0.3, 0.8)
    mouse.click(sc, x, y)
    t_after = pca.transform(m.current.vector[None].astype(np.float64))[0]
    np.testing.assert_allclose(t_after[2:], t_before[2:], atol=1e-4)  # others kept
    px, py = sc._pixel_size()
    assert abs(t_after[1] - x) <= 2 * px and abs(t_after[0] - y) <= 2 * py
    assert window.wait_idle(10_000)
    qtbot.waitUntil(lambda: np.array_equal(m.image, window.state.decoder.decode_one(m.current.vector)),
                    timeout=5000)


def test_dragging_the_red_point_decodes_along_the_way(window, qtbot, mouse):
    m, sc = window.model, window.scatter
    mouse.click(sc, *_view_point(sc, 0.2, 0.5))  # the red point where the drag starts
    cx, cy = m.plane_coords(m.current.vector)
    images = []
    window.state.imageChanged.connect(lambda img: images.append(img))
    pts = [(cx, cy)] + [_view_point(sc, f, 0.5) for f in np.linspace(0.3, 0.7, 6)]
    mouse.drag(sc, pts, modifier=Qt.NoModifier)
    px, _ = sc._pixel_size()
    assert abs(m.plane_coords(m.current.vector)[0] - pts[-1][0]) <= 2 * px
    assert window.wait_idle(10_000)
    expected = window.state.decoder.decode_one(m.current.vector)
    qtbot.waitUntil(lambda: np.array_equal(m.image, expected), timeout=5000)
    assert images  # decoded while scrubbing (the newest request wins)


def test_hovering_shows_the_training_image_under_the_mouse(window, qtbot, mouse):
    m, sc, fv = window.model, window.scatter, window.face_view
    x, y = (float(v) for v in m.plane_points()[11])
    with qtbot.waitSignal(sc.hovered, timeout=2000) as blocker:
        mouse.move(sc, x, y)
    k = blocker.args[0]
    assert k >= 0
    assert f"#{k} synth_{k:03d}.png" in fv.hover_label.text()
    assert fv.hover_thumb.pixmap() is not None and not fv.hover_thumb.pixmap().isNull()


def test_snap_and_path_modes_from_the_tools_menu(window, qtbot, mouse):
    m, sc, ctl = window.model, window.scatter, window.controls
    window.act_snap.trigger()
    assert m.snap and ctl.snap.isChecked() and window.act_snap.isChecked()
    x, y = (float(v) for v in m.plane_points()[30])
    mouse.click(sc, x, y)
    assert m.current.index is not None  # a plain click took a data point's own vector
    window.act_snap.trigger()
    assert not m.snap and not ctl.snap.isChecked()
    mouse.click_checkbox(ctl.path_mode)  # the checkbox and the menu stay in sync
    assert m.path_mode and window.act_path.isChecked()
    before = m.current.vector.copy()
    for f in (0.25, 0.5, 0.75):
        mouse.click(sc, *_view_point(sc, f, f))
    assert isinstance(m.path, PlanePath) and m.path.points.shape == (3, 2)
    np.testing.assert_array_equal(m.current.vector, before)
    assert window.wait_idle(10_000)  # the strip shows the path
    assert len([b for b in window.path_strip.buttons if b.isVisible()]) == window.path_strip.n_spin.value()
    _action(window, "Clear path").trigger()
    assert m.path is None
    assert not any(b.isVisible() for b in window.path_strip.buttons)


def test_clearing_the_path_while_its_strip_decodes(window, qtbot):
    m, strip = window.model, window.path_strip
    with qtbot.capture_exceptions() as exceptions:
        m.set_path([[0.0, 0.0], [0.5, 0.5]])  # the strip asks for its faces (background)
        qtbot.mouseClick(strip.clear_button, Qt.LeftButton)  # Clear before they arrive
        assert window.wait_idle(10_000)
    assert not exceptions, exceptions[0][1] if exceptions else ""
    assert strip.images is None and not any(b.isVisible() for b in strip.buttons)


def test_drag_produces_n_decoded_images(window, qtbot, mouse):
    m, sc, strip = window.model, window.scatter, window.path_strip
    _type_value(qtbot, strip.n_spin, 6)
    pts = [_view_point(sc, f, 1 - f) for f in np.linspace(0.15, 0.85, 10)]
    with qtbot.waitSignal(strip.decoded, timeout=10_000):
        mouse.drag(sc, pts)
    assert window.wait_idle(10_000)  # the newest path's decode has arrived
    images = strip.images
    assert images.shape == (6, 16, 16, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(strip.vectors, m.path_vectors(6))
    np.testing.assert_array_equal(images, window.state.decoder.decode(m.path_vectors(6)))
    assert len([b for b in strip.buttons if b.isVisible()]) == 6
    assert strip.export_button.isEnabled() and "path of length" in strip.info.text()


def test_attribute_path_walks_along_the_attribute_direction(window, qtbot):
    """'Along attribute' decodes N faces on base + t·unit(mean(pos) − mean(neg)), t from −2σ to +2σ;
    a click on a face makes it current and the strip stays where it was."""
    from latentexplorer.analysis.attributes import binarize_labels

    m, strip = window.model, window.path_strip
    assert strip.attr_combo.count() == len(m.attribute_names) > 0
    strip.attr_combo.setCurrentIndex(strip.attr_combo.findText("smile"))
    _type_value(qtbot, strip.n_spin, 5)
    with qtbot.waitSignal(strip.decoded, timeout=10_000):
        qtbot.mouseClick(strip.attr_button, Qt.LeftButton)
    assert window.wait_idle(10_000)
    vecs = strip.vectors
    assert isinstance(m.path, DirectionPath) and m.path.name == "smile"
    assert vecs.shape == (5, m.z_dim) and strip.images.shape[0] == 5
    pos = binarize_labels(m.attributes[:, m.attribute_names.index("smile")])
    d = m.z[pos].mean(axis=0) - m.z[~pos].mean(axis=0)
    steps = np.diff(vecs.astype(np.float64), axis=0)
    cos = steps @ d / (np.linalg.norm(steps, axis=1) * np.linalg.norm(d))
    np.testing.assert_allclose(cos, 1.0, atol=1e-4)            # every step goes along the direction
    np.testing.assert_allclose(vecs[2], m.current.vector, atol=1e-5)  # the middle is the current one
    assert "smile" in strip.info.text()

    qtbot.mouseClick(strip.buttons[4], Qt.LeftButton)          # the rightmost face becomes current
    np.testing.assert_allclose(m.current.vector, vecs[4], atol=1e-6)
    assert window.wait_idle(10_000)
    qtbot.waitUntil(lambda: strip.vectors is not None and np.allclose(strip.vectors, vecs, atol=1e-4),
                    timeout=5000)                              # re-centred: the same strip

    qtbot.mouseClick(strip.clear_button, Qt.LeftButton)        # Clear removes it again
    assert m.path is None
    assert not any(b.isVisible() for b in strip.buttons) and not strip.export_button.isEnabled()


# ------------------------------------------------------------------ sliders
def test_sliders_move_the_ellipses(window, qtbot):
    sc, ctl, m = window.scatter, window.controls, window.model
    conf0, samp0 = (c.copy() for c in sc.ellipse_curves())
    for _ in range(2):
        qtbot.keyClick(ctl.sigma.slider, Qt.Key_PageUp)  # +10 steps of 0.05 each
    conf1, _ = sc.ellipse_curves()
    assert m.sigma_level == pytest.approx(3.35)  # from the default 2.35
    assert ctl.sigma.value_label.text() == "3.35"
    c = m.plane_ellipse().center
    np.testing.assert_allclose(conf1 - c, (conf0 - c) * 3.35 / 2.35, atol=1e-6)
    for _ in range(4):
        qtbot.keyClick(ctl.fact.slider, Qt.Key_Left)  # 0.70 -> 0.50
    conf2, samp2 = sc.ellipse_curves()
    assert m.fact == pytest.approx(0.5)
    np.testing.assert_allclose(conf2, conf1)
    np.testing.assert_allclose(samp2 - c, (samp0 - c) * 3.35 / 2.35 * 0.5 / 0.7, atol=1e-6)
    assert window.generator_panel.fact.value() == pytest.approx(0.5)  # one state, every view


def test_component_sliders_move_the_current_vector(window, qtbot):
    m, sl = window.model, window.sliders
    c0 = m.pca_coords(m.n_pca)
    s = sl.sliders[0]
    for _ in range(3):
        qtbot.keyClick(s.slider, Qt.Key_Right)
    c1 = m.pca_coords(m.n_pca)
    assert c1[0] == pytest.approx(s.value(), abs=1e-4) and c1[0] > c0[0]
    np.testing.assert_allclose(c1[1:], c0[1:], atol=1e-4)  # the other PCA coordinates stay
    assert m.current.index is None
    qtbot.mouseClick(sl.mean_button, Qt.LeftButton)
    np.testing.assert_allclose(m.pca_coords(m.n_pca), 0.0, atol=1e-4)
    assert all(abs(x.value()) <= x._step for x in sl.sliders)  # the sliders show it
    nearest = m.nearest_point()[0]
    qtbot.mouseClick(sl.point_button, Qt.LeftButton)
    assert m.current.index == nearest
    np.testing.assert_array_equal(m.current.vector, m.z[nearest])
    assert window.wait_idle(10_000)
    qtbot.waitUntil(lambda: np.array_equal(m.image, window.state.decoder.decode_one(m.z[nearest])),
                    timeout=5000)


def test_sharpen_slider_is_shared(window, qtbot):
    qtbot.keyClick(window.face_view.sharpen.slider, Qt.Key_PageUp)
    assert window.model.sharpen == pytest.approx(5.0)
    assert window.generator_panel.sharpen.value() == pytest.approx(5.0)
    assert not window.face_view.image.pixmap().isNull()


def test_the_legend_action(window):
    sc = window.scatter
    window.act_legend.trigger()
    assert sc.legend.isVisible() and window.act_legend.isChecked()
    window.act_legend.trigger()
    assert not sc.legend.isVisible()


# ------------------------------------------------------------------ errors
def test_a_worker_error_reaches_the_error_dialog(window, qtbot, errors):
    def failing(params, reporter):
        raise RuntimeError("disk on fire")

    w = window.start_task("bad", failing)
    qtbot.waitUntil(lambda: len(errors) > 0, timeout=5000)
    assert errors[-1] == ("Task 'bad' failed", "RuntimeError: disk on fire")
    qtbot.waitUntil(lambda: w.is_finished, timeout=2000)
    assert "disk on fire" in window.status_label.text()


# ------------------------------------------------------------------ persistence
def test_gui_state_is_saved_on_quit_and_restored(window, qtbot, tiny_workspace_copy, errors,
                                                 monkeypatch):
    m = window.model
    m.set_plane(("pca", 1, 2))
    m.set_sigma_level(2.5)
    m.set_fact(0.45)
    m.set_plane_point(0.1, -0.2)
    m.set_path([[0.0, 0.0], [0.5, 0.25]])
    cur = m.current.vector.copy()
    _action(window, "Analysis tab").trigger()
    window.act_quit.trigger()
    assert not window.isVisible()
    saved = json.loads((tiny_workspace_copy / "gui_state.json").read_text())
    assert saved["plane"] == ["pca", 1, 2] and saved["fact"] == 0.45 and saved["tab"] == "analysis"
    assert saved["path"]["kind"] == "plane"

    win2 = _new_window(qtbot)
    _choose_folder(monkeypatch, tiny_workspace_copy)
    win2.act_open.trigger()
    qtbot.waitUntil(lambda: _loaded(win2) and win2.model.plane.kind == "pca", timeout=60_000)
    m2 = win2.model
    assert m2.plane == Plane("pca", 1, 2)
    assert (m2.sigma_level, m2.fact) == (2.5, 0.45)
    np.testing.assert_allclose(m2.current.vector, cur, atol=1e-6)
    np.testing.assert_allclose(m2.path.points, [[0.0, 0.0], [0.5, 0.25]])
    assert win2.controls.sigma.value_label.text() == "2.50"
    assert win2.controls.kind.currentIndex() == 1
    assert win2.tabs.currentWidget() is win2.analysis_page
    assert not errors
    win2.runner.cancel_all(wait_ms=30_000)


# ------------------------------------------------------------------ exports and grids
def test_path_strip_export_redecodes_and_opens_again(window, qtbot, mouse, tmp_path, monkeypatch,
                                                     tiny_workspace_copy):
    """The path strip's sidecar carries the decoder's fingerprint and the path; File > Open grid
    or strip shows its vectors as samples and restores its path."""
    from latentexplorer.render.images import redecode_sidecar, weights_fingerprint

    m, sc, strip = window.model, window.scatter, window.path_strip
    pts = [_view_point(sc, f, f) for f in np.linspace(0.2, 0.8, 6)]
    with qtbot.waitSignal(strip.decoded, timeout=10_000):
        mouse.drag(sc, pts)
    assert window.wait_idle(10_000)
    starts = _choose_save(monkeypatch, tmp_path / "strip.png")
    _action(window, "Path strip (PNG + JSON)…").trigger()
    assert Path(starts[0]).parent == tiny_workspace_copy / "results"  # starts in results/
    sidecar = tmp_path / "strip.json"
    assert (tmp_path / "strip.png").is_file() and sidecar.is_file()
    assert "Path strip saved" in window.status_label.text()
    data = json.loads(sidecar.read_text())
    fp = weights_fingerprint(window.state.decoder.model)
    assert data["fingerprint"] == fp == window.state.decoder_fingerprint
    assert data["path"]["kind"] == "plane" and data["path"]["plane"] == m.plane.as_list()
    np.testing.assert_allclose(data["path"]["points"], m.path.points)
    again = redecode_sidecar(sidecar, window.state.decoder, fp)
    np.testing.assert_array_equal(again, strip.images)

    vectors, points = strip.vectors.copy(), m.path.points.copy()
    qtbot.mouseClick(strip.clear_button, Qt.LeftButton)
    _choose_open(monkeypatch, sidecar)
    window.act_open_grid.trigger()
    np.testing.assert_allclose(m.samples, vectors, atol=1e-6)
    np.testing.assert_allclose(m.current.vector, vectors[0], atol=1e-6)
    assert isinstance(m.path, PlanePath)
    np.testing.assert_allclose(m.path.points, points)
    assert len(window.scatter.samples_item) == len(vectors)
    assert "z-vectors shown" in window.status_label.text()


def test_export_the_scatter_and_the_current_vector(window, tmp_path, monkeypatch, tiny_workspace_copy):
    starts = _choose_save(monkeypatch, tmp_path / "scatter.png")
    _action(window, "Scatter plot as PNG/SVG…").trigger()
    assert (tmp_path / "scatter.png").is_file() and "Scatter saved" in window.status_label.text()
    assert Path(starts[0]).parent == tiny_workspace_copy / "results"
    _choose_save(monkeypatch, tmp_path / "z.npy")
    _action(window, "Current z-vector (.npy/.csv)…").trigger()
    np.testing.assert_array_equal(np.load(tmp_path / "z.npy"), window.model.current.vector[None])


# ------------------------------------------------------------------ staleness
def test_the_stale_banner_offers_reencoding(window, qtbot, tiny_workspace_copy, monkeypatch):
    from tiny_models import commit_untrained_epoch

    from latentexplorer.workspace import Workspace

    commit_untrained_epoch(Workspace.open(tiny_workspace_copy))  # the model moved on
    _open(qtbot, window, monkeypatch, tiny_workspace_copy)
    banner = window.stale_banner
    assert banner.isVisible() and "out of date" in banner.label.text()
    qtbot.mouseClick(banner.button, Qt.LeftButton)  # Re-encode now
    qtbot.waitUntil(lambda: not banner.isVisible() and _loaded(window), timeout=60_000)
    assert Workspace.open(tiny_workspace_copy).latents().meta.epoch == 2


# ------------------------------------------------------------------ training and closing
def test_closing_during_training_cancels_and_keeps_the_checkpoint(window, qtbot, tiny_workspace_copy):
    from latentexplorer.workspace import Workspace

    tv = window.training_view
    before = Workspace.open(tiny_workspace_copy).checkpoint_epoch
    _action(window, "Training tab").trigger()
    _type_value(qtbot, tv.epochs, before + 400)
    qtbot.mouseClick(tv.resume_button, Qt.LeftButton)
    w = tv.worker
    assert w is not None and tv.stop_button.isEnabled()
    with qtbot.waitSignal(w.progress, timeout=60_000):
        pass
    window.act_quit.trigger()  # cancels and waits for the thread
    assert w.is_finished and w.was_cancelled
    assert not window.runner.busy
    ws = Workspace.open(tiny_workspace_copy)
    assert before <= ws.checkpoint_epoch < before + 400
    ws.load_decoder()


def test_one_click_synthetic_start(qtbot, tmp_path, isolated_settings, errors, monkeypatch):
    """File > New from synthetic faces (from the welcome page): dataset + workspace + training +
    encoding, then the explorer shows the new z-points -- all in the background."""
    from latentexplorer.gui import main_window

    monkeypatch.setenv("HOME", str(tmp_path))  # the new folder goes under ~/LatentExplorer
    monkeypatch.setattr(main_window, "SYNTH_DEFAULTS",
                        dict(n=64, size=16, epochs=1, z_dim=4, kind="ae", seed=0))
    win = _new_window(qtbot)
    qtbot.mouseClick(win.welcome.new_button, Qt.LeftButton)
    assert win.runner.is_running("synth")
    qtbot.waitUntil(lambda: win.model.z is not None and _loaded(win), timeout=180_000)
    assert win.model.z.shape == (64, 4)
    ws = win.state.workspace
    assert ws.checkpoint_epoch == 1
    assert Path(ws.path).parent.parent == tmp_path / "LatentExplorer"
    assert win.tabs.currentIndex() == 0  # back to the explorer when training is done
    assert not errors
    win.close()


# ------------------------------------------------------------------ generator tab
def test_generator_tab_shows_scored_faces_after_loading(window, qtbot, errors):
    """The Generator tab of a loaded workspace is never an empty page: shown for the first time
    it generates once in the background, with the face judge's verdict under each face."""
    panel = window.generator_panel
    assert "Load z-points" not in panel.status.text()
    _action(window, "Generator tab").trigger()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=60_000)
    assert window.wait_idle(60_000)
    assert len(panel.grid.tiles) == min(panel.n_show.value(), panel.n.value())
    assert all(t.caption.text().startswith("face ") or t.caption.text() == "no face"
               for t in panel.grid.tiles)
    assert "faces found (MTCNN)" in panel.status.text()
    assert "closeness to the data" in panel.grid.tiles[0].toolTip()
    assert panel.scoreboard.rowCount() == 1
    np.testing.assert_array_equal(window.model.samples, panel.result.z)  # also in the scatter
    assert not errors


# ------------------------------------------------------------------ screenshots, CLI, excepthook
def test_screenshot_renders_the_window(tiny_workspace_copy, tmp_path, qtbot):
    from PIL import Image

    from latentexplorer.gui.app import render_screenshot

    out = render_screenshot(tiny_workspace_copy, tmp_path / "shot.png", size=(1366, 768))
    img = Image.open(out)
    assert img.size[0] >= 1366 and img.size[1] >= 768
    arr = np.asarray(img.convert("RGB"))
    assert arr.std() > 10  # not a blank image


def test_screenshot_of_the_generator_tab_has_a_filled_grid(tiny_workspace_copy, tmp_path, qtbot,
                                                           monkeypatch):
    from latentexplorer.gui import app
    from latentexplorer.gui.generator_panel import GeneratorPanel

    seen = []
    orig = GeneratorPanel._set_result
    monkeypatch.setattr(GeneratorPanel, "_set_result",
                        lambda self, res: (seen.append(len(res.images)), orig(self, res)))
    state_file = tiny_workspace_copy / "gui_state.json"
    before = state_file.read_bytes() if state_file.exists() else None
    out = app.render_screenshot(tiny_workspace_copy, tmp_path / "gen.png", tab="generator")
    assert out.is_file() and seen and seen[0] > 0
    after = state_file.read_bytes() if state_file.exists() else None
    assert after == before  # a screenshot does not change the workspace
    with pytest.raises(RuntimeError, match="expected one of"):
        app.render_screenshot(tiny_workspace_copy, tmp_path / "x.png", tab="nonsense")


def test_cli_registers_gui_and_screenshot():
    from latentexplorer.cli import build_parser
    from latentexplorer.commands.gui import _parse_plane, _parse_size
    from latentexplorer.errors import InvalidInputError

    parser = build_parser()
    args = parser.parse_args(["screenshot", "WS", "--out", "x.png", "--size", "800x600"])
    assert args.handler.__name__ == "run_screenshot"
    assert _parse_size("1366x768") == (1366, 768)
    assert _parse_plane("pca,0,3") == ("pca", 0, 3)
    with pytest.raises(InvalidInputError):
        _parse_size("big")
    with pytest.raises(InvalidInputError):
        _parse_plane("polar,0,1")


def test_excepthook_shows_a_dialog(errors, qtbot):
    import sys

    from latentexplorer.gui.widgets import install_excepthook

    old = sys.excepthook
    try:
        install_excepthook(lambda: None)
        try:
            raise ValueError("unexpected")
        except ValueError:
            sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = old
    assert errors and "ValueError: unexpected" in errors[-1][1]
