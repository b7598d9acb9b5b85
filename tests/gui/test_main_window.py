"""MainWindow on the real tiny workspace: loading, planes, click/drag decoding, sliders, errors,
gui_state.json, closing during training, the one-click synthetic start and the screenshot."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from latentexplorer.gui.main_window import MainWindow


def _loaded(win) -> bool:
    st = win.state
    return (not win.runner.busy and st.z is not None and st.pca is not None
            and st.decoder is not None)


@pytest.fixture
def errors(monkeypatch):
    """Record QMessageBox.warning calls instead of opening modal dialogs."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *a, **k: seen.append((title, text)) or QMessageBox.Ok))
    return seen


@pytest.fixture
def window(qtbot, tiny_workspace_copy, isolated_settings, errors):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_workspace(tiny_workspace_copy)
    qtbot.waitUntil(lambda: _loaded(win), timeout=60_000)
    qtbot.waitUntil(lambda: win.face_view.last_image is not None, timeout=10_000)
    yield win
    win.runner.cancel_all(wait_ms=30_000)


def test_window_opens_on_the_workspace(window, errors):
    st = window.state
    assert st.z.shape == (64, 4)
    assert "workspace" in window.windowTitle()
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == \
        ["Explorer", "Training", "Generator", "Analysis"]
    assert window.face_view.last_image.shape == (16, 16, 3)
    assert len(window.scatter.plotted_points()) == 64
    assert window.controls.color_by.count() >= 2 + len(st.attribute_names)
    assert not errors
    # every control of ours explains itself
    for w in [window.controls.kind, window.controls.x_spin, window.controls.y_spin,
              window.controls.quick, window.controls.sigma.slider, window.controls.fact.slider,
              window.controls.color_by, window.controls.snap, window.controls.path_mode,
              window.controls.reset, window.face_view.sharpen.slider, window.path_strip.n_spin,
              window.cancel_button, window.progress, window.scatter]:
        assert w.toolTip(), w


def test_switching_planes_changes_the_plotted_data(window, qtbot, mouse):
    st, sc = window.state, window.scatter
    before = sc.plotted_points().copy()
    window.controls.y_spin.setValue(3)
    assert st.plane == ("latent", 0, 3)
    after = sc.plotted_points()
    assert not np.allclose(np.sort(before[:, 1]), np.sort(after[:, 1]))
    np.testing.assert_allclose(np.sort(after[:, 1]), np.sort(st.z[:, 3]), atol=1e-6)
    window.controls.kind.setCurrentIndex(1)  # PCA
    assert st.plane == ("pca", 0, 1)
    assert window.controls.x_spin.prefix() == "PC "
    np.testing.assert_allclose(np.sort(sc.plotted_points()[:, 0]),
                               np.sort(st.pca.transform(st.z)[:, 0]), atol=1e-4)
    assert window.controls.quick.count() == st.n_pca


def test_click_decodes_and_changes_two_coordinates_latent(window, qtbot, mouse):
    st, sc = window.state, window.scatter
    st.set_plane("latent", 2, 0)
    before = st.current.copy()
    n_dec = window.face_view.decode_count
    (x0, x1), (y0, y1) = sc.getViewBox().viewRange()
    with qtbot.waitSignal(window.face_view.decoded, timeout=5000) as blocker:
        mouse.click(sc, x0 + 0.7 * (x1 - x0), y0 + 0.2 * (y1 - y0))
    assert set(np.flatnonzero(st.current != before)) <= {0, 2}
    assert np.any(st.current != before)
    assert window.face_view.decode_count == n_dec + 1
    np.testing.assert_array_equal(blocker.args[0], st.decoder.decode_one(st.current))
    assert window.face_view.radius_label.text() == f"{np.linalg.norm(st.current):.2f}"


def test_click_in_pca_plane_goes_through_the_inverse_transform(window, qtbot, mouse):
    st, sc = window.state, window.scatter
    st.set_plane("pca", 1, 0)
    t_before = st.pca.transform(st.current[None].astype(np.float64))[0]
    (x0, x1), (y0, y1) = sc.getViewBox().viewRange()
    with qtbot.waitSignal(window.face_view.decoded, timeout=5000):
        mouse.click(sc, x0 + 0.3 * (x1 - x0), y0 + 0.8 * (y1 - y0))
    t_after = st.pca.transform(st.current[None].astype(np.float64))[0]
    np.testing.assert_allclose(t_after[2:], t_before[2:], atol=1e-4)  # others kept
    px, py = sc._pixel_size()
    assert abs(t_after[1] - (x0 + 0.3 * (x1 - x0))) <= 2 * px
    assert abs(t_after[0] - (y0 + 0.8 * (y1 - y0))) <= 2 * py


def test_drag_produces_n_decoded_images(window, qtbot, mouse):
    st, sc = window.state, window.scatter
    window.path_strip.n_spin.setValue(6)
    (x0, x1), (y0, y1) = sc.getViewBox().viewRange()
    pts = [(x0 + f * (x1 - x0), y0 + (1 - f) * (y1 - y0)) for f in np.linspace(0.15, 0.85, 10)]
    with qtbot.waitSignal(window.path_strip.decoded, timeout=5000) as blocker:
        mouse.drag(sc, pts)
    qtbot.waitUntil(lambda: not window.path_strip._timer.isActive(), timeout=2000)
    images = window.path_strip.images
    assert images.shape == (6, 16, 16, 3) and images.dtype == np.uint8
    assert blocker.args[0].shape[0] == 6
    np.testing.assert_array_equal(images, st.decoder.decode(st.path_vectors(6)))
    shown = [lab for lab in window.path_strip._labels if lab.isVisible()]
    assert len(shown) == 6


def test_attribute_path_walks_along_the_attribute_direction(window, qtbot):
    """'Along attribute' decodes N faces on base + t·unit(mean(pos) − mean(neg)), t from −2σ to +2σ."""
    st, strip = window.state, window.path_strip
    assert strip.attr_combo.count() == len(st.attribute_names) > 0
    strip.attr_combo.setCurrentText("smile")
    strip.n_spin.setValue(5)
    with qtbot.waitSignal(strip.decoded, timeout=5000):
        strip.attr_button.click()
    vecs = strip.vectors
    assert vecs.shape == (5, st.z_dim) and strip.images.shape[0] == 5
    lab = st.attributes[:, st.attribute_names.index("smile")]
    pos = lab > np.median(lab)
    d = st.z[pos].mean(axis=0) - st.z[~pos].mean(axis=0)
    steps = np.diff(vecs.astype(np.float64), axis=0)
    cos = steps @ d / (np.linalg.norm(steps, axis=1) * np.linalg.norm(d))
    np.testing.assert_allclose(cos, 1.0, atol=1e-4)          # every step goes along the direction
    np.testing.assert_allclose(vecs[2], st.current, atol=1e-5)  # the middle is the current vector
    assert "smile" in strip.info.text()
    st.set_path(None)                                         # Clear removes it again
    assert not st.has_path()


def test_sliders_move_the_ellipses(window):
    sc, ctl, st = window.scatter, window.controls, window.state
    conf0, samp0 = (c.copy() for c in sc.ellipse_curves())
    ctl.sigma.slider.setValue(ctl.sigma.slider.value() + 20)  # +1.0 sigma (step 0.05)
    conf1, samp1 = sc.ellipse_curves()
    assert st.sigma_level == pytest.approx(3.0)
    assert ctl.sigma.value_label.text() == "3.00"
    c = st.plane_ellipse().center
    np.testing.assert_allclose(conf1 - c, (conf0 - c) * 1.5, atol=1e-6)
    ctl.fact.slider.setValue(ctl.fact.slider.value() - 4)  # 0.70 -> 0.50
    conf2, samp2 = sc.ellipse_curves()
    assert st.fact == pytest.approx(0.5)
    np.testing.assert_allclose(conf2, conf1)
    np.testing.assert_allclose(samp2 - c, (samp0 - c) * 1.5 * 0.5 / 0.7, atol=1e-6)


def test_a_worker_error_reaches_the_error_dialog(window, qtbot, errors):
    def failing(params, reporter):
        raise RuntimeError("disk on fire")

    w = window.start_task("bad", failing)
    qtbot.waitUntil(lambda: len(errors) > 0, timeout=5000)
    assert errors[-1] == ("Task 'bad' failed", "RuntimeError: disk on fire")
    qtbot.waitUntil(lambda: w.is_finished, timeout=2000)
    assert "disk on fire" in window.status_label.text()


def test_state_errors_and_bad_workspaces_show_dialogs(window, errors, tmp_path):
    window.controls._apply("latent", 1, 1)
    assert "differ" in errors[-1][1]
    assert not window.open_workspace(tmp_path / "nothing-here")
    assert "not found" in errors[-1][1]


def test_gui_state_is_saved_on_close_and_restored(window, qtbot, tiny_workspace_copy, errors):
    st = window.state
    st.set_plane("pca", 1, 2)
    st.set_sigma_level(2.5)
    st.set_fact(0.45)
    st.set_plane_point(0.1, -0.2)
    cur = st.current.copy()
    window.close()
    saved = json.loads((tiny_workspace_copy / "gui_state.json").read_text())
    assert saved["plane"] == ["pca", 1, 2] and saved["fact"] == 0.45

    win2 = MainWindow()
    qtbot.addWidget(win2)
    win2.open_workspace(tiny_workspace_copy)
    qtbot.waitUntil(lambda: _loaded(win2) and win2.state.plane[0] == "pca", timeout=60_000)
    s2 = win2.state
    assert s2.plane == ("pca", 1, 2)
    assert (s2.sigma_level, s2.fact) == (2.5, 0.45)
    np.testing.assert_allclose(s2.current, cur, atol=1e-6)
    assert win2.controls.sigma.value_label.text() == "2.50"
    assert win2.controls.kind.currentIndex() == 1


def test_closing_during_training_cancels_and_keeps_the_checkpoint(window, qtbot, tiny_workspace_copy):
    from latentexplorer.workspace import Workspace

    tv = window.training_view
    assert tv is not None, "TrainingView should be importable"
    before = Workspace.open(tiny_workspace_copy).checkpoint_epoch
    tv.epochs.setValue(before + 400)
    w = tv.start_training(resume=True)
    assert w is not None
    with qtbot.waitSignal(w.progress, timeout=60_000):
        pass
    window.close()  # cancels and waits for the thread
    assert w.is_finished and w.was_cancelled
    assert not window.runner.busy
    ws = Workspace.open(tiny_workspace_copy)
    assert before <= ws.checkpoint_epoch < before + 400
    ws.load_decoder()


def test_one_click_synthetic_start(qtbot, tmp_path, isolated_settings, errors):
    """File > New from synthetic faces: dataset + workspace + training + encoding, then the
    explorer shows the new z-points -- all in the background."""
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    w = win.new_synthetic(tmp_path / "synth", ask=False, n=64, size=16, epochs=1, z_dim=4)
    assert w is not None
    qtbot.waitUntil(lambda: win.state.z is not None and _loaded(win), timeout=180_000)
    assert win.state.z.shape == (64, 4)
    assert win.state.workspace.checkpoint_epoch == 1
    assert win.tabs.currentIndex() == 0  # back to the explorer when training is done
    assert not errors
    win.close()


def test_screenshot_renders_the_window(tiny_workspace_copy, tmp_path, qtbot):
    from PIL import Image

    from latentexplorer.gui.app import render_screenshot

    out = render_screenshot(tiny_workspace_copy, tmp_path / "shot.png", size=(1366, 768))
    img = Image.open(out)
    assert img.size[0] >= 1366 and img.size[1] >= 768
    arr = np.asarray(img.convert("RGB"))
    assert arr.std() > 10  # not a blank image


def test_cli_registers_gui_and_screenshot():
    from latentexplorer.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["screenshot", "WS", "--out", "x.png", "--size", "800x600"])
    assert args.handler.__name__ == "run_screenshot"
    from latentexplorer.commands.gui import _parse_plane, _parse_size
    from latentexplorer.errors import InvalidInputError

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


# ------------------------------------------------------------------ integration fixes
def test_generator_tab_shows_scored_faces_after_loading(window, qtbot, errors):
    """The Generator tab of a loaded workspace is never an empty page: shown for the first time
    it generates once in the background, with face-likeness scores under the faces."""
    panel = window.generator_panel
    assert "Load z-points" not in panel.status.text()
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.result is not None, timeout=60_000)
    assert window.wait_idle(60_000)
    assert len(panel.grid.tiles) == min(panel.n_show.value(), panel.n.value())
    assert all(t.caption.text().startswith("face ") for t in panel.grid.tiles)
    assert "face score" in panel.status.text()
    assert not errors


def test_screenshot_of_the_generator_tab_has_a_filled_grid(tiny_workspace_copy, tmp_path, qtbot,
                                                           monkeypatch):
    from latentexplorer.gui import app
    from latentexplorer.gui.generator_panel import GeneratorPanel

    seen = []
    orig = GeneratorPanel._set_result
    monkeypatch.setattr(GeneratorPanel, "_set_result",
                        lambda self, res: (seen.append(len(res["images"])), orig(self, res)))
    before = (tiny_workspace_copy / "gui_state.json").read_bytes() \
        if (tiny_workspace_copy / "gui_state.json").exists() else None
    out = app.render_screenshot(tiny_workspace_copy, tmp_path / "gen.png", tab="generator")
    assert out.is_file() and seen and seen[0] > 0
    after = (tiny_workspace_copy / "gui_state.json").read_bytes() \
        if (tiny_workspace_copy / "gui_state.json").exists() else None
    assert after == before  # a screenshot does not change the workspace
    with pytest.raises(RuntimeError, match="expected one of"):
        app.render_screenshot(tiny_workspace_copy, tmp_path / "x.png", tab="nonsense")


def test_path_strip_export_redecodes(window, qtbot, mouse, tmp_path, monkeypatch):
    """The path strip's sidecar carries the decoder's weights fingerprint (as the grid export
    does), so redecode_sidecar accepts it and gives the same images."""
    from latentexplorer.gui import export
    from latentexplorer.render.images import redecode_sidecar, weights_fingerprint

    st, sc = window.state, window.scatter
    (x0, x1), (y0, y1) = sc.getViewBox().viewRange()
    pts = [(x0 + f * (x1 - x0), y0 + f * (y1 - y0)) for f in np.linspace(0.2, 0.8, 6)]
    with qtbot.waitSignal(window.path_strip.decoded, timeout=5000):
        mouse.drag(sc, pts)
    qtbot.waitUntil(lambda: not window.path_strip._timer.isActive(), timeout=2000)
    monkeypatch.setattr(export, "ask_save_path", lambda *a, **k: tmp_path / "strip.png")
    window.path_strip.export_dialog()
    sidecar = tmp_path / "strip.json"
    assert (tmp_path / "strip.png").is_file() and sidecar.is_file()
    fp = weights_fingerprint(st.decoder.model)
    assert json.loads(sidecar.read_text())["fingerprint"] == fp
    again = redecode_sidecar(sidecar, st.decoder, fp)
    np.testing.assert_array_equal(again, window.path_strip.images)
