"""The Training tab's time-lapse panel, driven like a user: the tab, "Record time-lapse", the slider
by keys, Play, Export; and a real training epoch adding its frame."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from tiny_models import commit_untrained_epoch

from latentexplorer.gui.controller import ExplorerController
from latentexplorer.gui.state import AppState
from latentexplorer.gui.training_view import TrainingView
from latentexplorer.gui.workers import TaskRunner
from latentexplorer.workspace import Workspace


@pytest.fixture
def view(qtbot, isolated_settings):
    controller = ExplorerController(AppState(), TaskRunner())
    tv = TrainingView(controller.state, controller)
    qtbot.addWidget(tv)
    tv.resize(900, 700)
    tv.show()
    qtbot.waitExposed(tv)
    yield tv
    controller.runner.cancel_all(wait_ms=30_000)
    controller.close()


def _open(view, path) -> Workspace:
    ws = Workspace.open(path)
    view.controller.state.set_workspace(ws, ws.dataset())  # the panel reloads (a job)
    return ws


def _show_timelapse_tab(qtbot, view):
    bar = view.views.tabBar()
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(1).center())
    assert view.views.currentWidget() is view.timelapse


def test_record_replay_by_keys_play_and_export(qtbot, view, tiny_workspace_copy, monkeypatch):
    """A workspace whose epochs 2 and 3 were trained without recording: the panel shows epoch 1,
    "Record time-lapse" adds the kept epochs 2 and 3; the slider (arrow keys, Home) and Play
    move the drawn cloud frame by frame; Export writes the PNG sheet and its JSON."""
    ws = Workspace.open(tiny_workspace_copy)
    for seed in (1, 2):  # epochs 2 and 3, committed without a frame
        commit_untrained_epoch(ws, seed)
    panel = view.timelapse
    _open(view, tiny_workspace_copy)
    qtbot.waitUntil(lambda: panel.replay is not None, timeout=30_000)
    _show_timelapse_tab(qtbot, view)
    assert panel.replay.epochs.tolist() == [1]
    assert not panel.play_button.isEnabled() and panel.record_button.isEnabled()

    qtbot.mouseClick(panel.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.replay is not None and panel.replay.n_frames == 3, timeout=60_000)
    replay = panel.replay
    assert replay.epochs.tolist() == [1, 2, 3] and replay.kept
    qtbot.waitUntil(lambda: not panel.record_button.isEnabled(), timeout=10_000)  # all kept ones in
    assert panel.slider.value() == 2 and "epoch 3 (3/3)" in panel.epoch_label.text()
    last = panel.drawn_points()
    np.testing.assert_allclose(last, replay.xy[2], atol=1e-6)
    assert len(panel.face_labels) == 6 and "decoder" in panel.face_labels[0].toolTip()

    qtbot.keyClick(panel.slider, Qt.Key_Left)
    assert panel.slider.value() == 1 and "epoch 2 (2/3)" in panel.epoch_label.text()
    assert "loss 1.0" in panel.epoch_label.text()  # commit_untrained_epoch's row
    np.testing.assert_allclose(panel.drawn_points(), replay.xy[1], atol=1e-6)
    assert np.abs(panel.drawn_points() - last).max() > 1e-3  # the cloud moved
    qtbot.keyClick(panel.slider, Qt.Key_Home)
    np.testing.assert_allclose(panel.drawn_points(), replay.xy[0], atol=1e-6)
    faces = panel.face_points.getData()
    np.testing.assert_allclose(np.column_stack(faces), replay.xy[0][replay.faces], atol=1e-6)

    seen = []
    panel.slider.valueChanged.connect(seen.append)
    qtbot.mouseClick(panel.play_button, Qt.LeftButton)
    assert panel.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: panel.slider.value() == 2 and panel.play_button.text() == "Play",
                    timeout=10_000)
    assert seen == [1, 2] and not panel.timer.isActive()
    np.testing.assert_allclose(panel.drawn_points(), replay.xy[2], atol=1e-6)

    target = ws.results_dir / "lapse.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "PNG image (*.png)")))
    qtbot.mouseClick(panel.export_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: target.with_suffix(".json").exists(), timeout=30_000)
    record = json.loads(target.with_suffix(".json").read_text())
    assert record["epochs"] == [1, 2, 3] and target.exists()


def test_a_workspace_without_recording_says_what_can_be_replayed(qtbot, view, tiny_workspace_copy):
    shutil.rmtree(tiny_workspace_copy / "timelapse")  # trained before the time-lapse existed
    panel = view.timelapse
    _open(view, tiny_workspace_copy)
    qtbot.waitUntil(lambda: not view.controller.runner.is_running(panel.JOB), timeout=30_000)
    assert panel.replay is None and "No time-lapse recorded yet" in panel.note.text()
    assert "cannot be replayed" in panel.note.text()
    assert panel.record_button.isEnabled() and not panel.play_button.isEnabled()
    assert not panel.export_button.isEnabled()


def test_a_damaged_recording_is_named_in_the_panel(qtbot, view, tiny_workspace_copy):
    (tiny_workspace_copy / "timelapse" / "epoch-0001.npy").write_bytes(b"garbage")
    panel = view.timelapse
    _open(view, tiny_workspace_copy)
    qtbot.waitUntil(lambda: "epoch-0001.npy" in panel.note.text(), timeout=30_000)
    assert panel.replay is None and "not a readable .npy" in panel.note.text()


def test_a_training_epoch_adds_its_frame(qtbot, view, tiny_workspace_copy):
    """Resume the tiny workspace for one more epoch with the Resume button: the panel, reloaded
    after the epoch's commit, replays epochs 1 and 2."""
    panel = view.timelapse
    _open(view, tiny_workspace_copy)
    qtbot.waitUntil(lambda: panel.replay is not None, timeout=30_000)
    view.subset_size = 20
    view.epochs.setValue(2)
    with qtbot.waitSignal(view.trainingFinished, timeout=180_000):
        qtbot.mouseClick(view.resume_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.replay is not None and panel.replay.epochs.tolist() == [1, 2],
                    timeout=60_000)
    assert panel.replay.fingerprints[-1] == Workspace.open(tiny_workspace_copy).model_fingerprint()
