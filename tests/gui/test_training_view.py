"""TrainingView: loss curves and the live encoding scatter fed by the worker's structured metrics,
the buttons, a real (tiny) training run, and the subset projection off the GUI thread.

(The StableProjector's numbers are tested without Qt in tests/explore/test_projection.py.)"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from latentexplorer.gui import training_view
from latentexplorer.gui.controller import ExplorerController
from latentexplorer.gui.state import AppState
from latentexplorer.gui.training_view import TrainingView
from latentexplorer.gui.workers import TaskRunner


@pytest.fixture
def controller(qtbot):
    c = ExplorerController(AppState(), TaskRunner())
    yield c
    c.runner.cancel_all(wait_ms=30_000)
    c.close()


@pytest.fixture
def view(qtbot, controller):
    tv = TrainingView(controller.state, controller)
    qtbot.addWidget(tv)
    return tv


def _with_workspace(controller, path):
    """The workspace (and its dataset) as the state's open workspace, without loading its data."""
    from latentexplorer.workspace import Workspace

    ws = Workspace.open(path)
    controller.state.set_workspace(ws, ws.dataset())
    return ws


def _type(qtbot, spin, value) -> None:
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    qtbot.keyClick(spin, Qt.Key_Enter)
    assert spin.value() == value


ROW = {"epoch": 2, "total_loss": 120.0, "reco_loss": 100.0, "kl_loss": 20.0,
       "val_total_loss": 125.0, "val_reco_loss": 104.0, "val_kl_loss": 21.0}
XY = np.random.default_rng(0).standard_normal((30, 2)).astype(np.float32)


def _scripted_training(params, reporter):
    """Stands in for training_task: reports through the one progress protocol what a training
    run reports (batch losses, then the end of epoch 2 with its row and projection)."""
    for k in range(1, 4):  # done == total: never dropped by the worker's rate limit
        reporter.update(1, 1, f"epoch 2 loss={200 - k}",
                        {"epoch": 2, "batch": k, "steps": 4, "total_loss": 200.0 - k, "kl_loss": 1.0})
    reporter.update(2, 3, "epoch 2 committed",
                    {"event": "epoch", "row": ROW, "projection": XY, "labels": np.arange(30.0),
                     "reference": np.ones((30, 2))})
    reporter.update(3, 3, "epoch 3 committed",
                    {"event": "epoch", "row": {**ROW, "epoch": 3, "total_loss": 90.0},
                     "projection": None, "labels": None, "reference": None})
    return {"history": [], "latents": None}


# ------------------------------------------------------------------ metrics → plots
def test_the_metrics_of_a_run_reach_the_curves_and_the_scatter(qtbot, view, controller, monkeypatch,
                                                               tiny_workspace_copy):
    monkeypatch.setattr(training_view, "training_task", _scripted_training)
    _with_workspace(controller, tiny_workspace_copy)
    assert [r["epoch"] for r in view.curves.rows] == [1]  # the workspace's history
    _type(qtbot, view.epochs, 3)
    with qtbot.waitSignal(view.trainingFinished, timeout=30_000):
        qtbot.mouseClick(view.resume_button, Qt.LeftButton)
        assert view.stop_button.isEnabled() and not view.resume_button.isEnabled()
    curves = view.curves
    assert [r["epoch"] for r in curves.rows] == [1, 2, 3]
    x, y = curves.series("total_loss")
    np.testing.assert_allclose(x, [1.0, 2.0, 3.0])
    assert y.tolist()[1:] == [120.0, 90.0]
    assert curves.series("val_kl_loss")[1].tolist()[1:] == [21.0, 21.0]
    _, cy = curves.curves["reco_loss"].getData()  # the plotted curve holds the data too
    assert list(cy)[1:] == [100.0, 100.0]
    # batch losses between the epoch markers, at fractional epochs
    bx, by = curves.curves["batch_total_loss"].getData()
    np.testing.assert_allclose(bx, [1.25, 1.5, 1.75])
    assert list(by) == [199.0, 198.0, 197.0]
    assert view.kl_plot_visible()
    # the projection of epoch 2 (epoch 3 brought none: the picture stays)
    assert view.scatter.projection is not None and view.scatter.projection.shape == (30, 2)
    assert view.scatter.epoch == 2
    np.testing.assert_array_equal(view.reference, np.ones((30, 2)))
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    assert "Training finished" in view.status.text() and view.resume_button.isEnabled()


def test_ae_history_hides_the_kl_plot(view, controller, tiny_workspace_copy):
    _with_workspace(controller, tiny_workspace_copy)  # a tiny AE: its KL is 0
    assert view.curves.rows and not view.kl_plot_visible()
    assert view.kind.currentText() == "ae" and not view.fact.isEnabled()
    assert view.z_dim.value() == 4


def test_buttons_without_workspace(view):
    assert not view.start_button.isEnabled()
    assert not view.resume_button.isEnabled()
    assert not view.stop_button.isEnabled()
    assert "No workspace" in view.status.text()
    assert view.start_training() is None


def test_resume_refuses_a_count_already_reached(qtbot, view, controller, tiny_workspace_copy):
    seen = []
    controller.state.errorOccurred.connect(seen.append)
    _with_workspace(controller, tiny_workspace_copy)
    _type(qtbot, view.epochs, 1)
    qtbot.mouseClick(view.resume_button, Qt.LeftButton)
    assert not view.running and seen and "already has 1 epochs" in seen[-1]


def test_start_with_other_settings_makes_a_sibling_workspace(qtbot, view, controller, monkeypatch,
                                                             tiny_workspace_copy):
    monkeypatch.setattr(training_view, "training_task", _scripted_training)
    old = _with_workspace(controller, tiny_workspace_copy)
    _type(qtbot, view.z_dim, 3)
    with qtbot.waitSignal(view.trainingFinished, timeout=30_000):
        qtbot.mouseClick(view.start_button, Qt.LeftButton)
    ws = controller.state.workspace
    assert ws.path.name == "workspace-ae-z3" and ws.model_config.z_dim == 3
    assert ws is not old and ws.data_path == old.data_path  # the same dataset
    assert old.model_config.z_dim == 4 and old.checkpoint_epoch == 1  # untouched
    assert view.z_dim.value() == 3


def test_stop_cancels_and_keeps_the_last_epoch(qtbot, view, controller, monkeypatch,
                                               tiny_workspace_copy):
    def endless(params, reporter):
        while True:
            reporter.update(0, 1, "training")
            reporter.raise_if_cancelled()
            threading.Event().wait(0.01)

    monkeypatch.setattr(training_view, "training_task", endless)
    _with_workspace(controller, tiny_workspace_copy)
    _type(qtbot, view.epochs, 5)
    qtbot.mouseClick(view.resume_button, Qt.LeftButton)
    worker = view.worker
    with qtbot.waitSignal(worker.progress, timeout=10_000):
        pass
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        qtbot.mouseClick(view.stop_button, Qt.LeftButton)
    assert worker.was_cancelled
    assert "epoch 1 is the last complete one" in view.status.text()
    assert view.resume_button.isEnabled() and not view.stop_button.isEnabled()


# ------------------------------------------------------------------ a real run
def test_resume_training_live(qtbot, view, controller, tiny_workspace_copy):
    """Resume the tiny workspace for one more epoch in the worker: the curves get the history
    rows and batch losses, the scatter the re-encoded subset, and the explorer reloads the new
    z-points."""
    from latentexplorer.workspace import Workspace

    ws = Workspace.open(tiny_workspace_copy)
    with qtbot.waitSignal(controller.loaded, timeout=60_000):
        controller.open_workspace(ws)
    assert view.resume_button.isEnabled()
    assert len(view.curves.rows) == 1
    view.subset_size = 40
    _type(qtbot, view.epochs, 2)
    progress = []
    qtbot.mouseClick(view.resume_button, Qt.LeftButton)
    worker = view.worker
    assert worker is not None and view.stop_button.isEnabled()
    worker.progress.connect(lambda d, t, msg: progress.append(msg))
    with qtbot.waitSignal(view.trainingFinished, timeout=180_000):
        pass
    qtbot.waitUntil(lambda: not view.running, timeout=10_000)
    assert [r["epoch"] for r in view.curves.rows] == [1, 2]
    assert view.curves.batch_points and all(1 <= p["epoch"] <= 2 for p in view.curves.batch_points)
    assert view.scatter.projection is not None and view.scatter.projection.shape == (40, 2)
    assert progress
    assert Workspace.open(tiny_workspace_copy).checkpoint_epoch == 2
    qtbot.waitUntil(lambda: controller.state.model.latents_meta is not None
                    and controller.state.model.latents_meta.epoch == 2, timeout=60_000)


# ------------------------------------------------------------------ GUI thread stays free
def _record_projection_threads(monkeypatch) -> list:
    from latentexplorer.explore import projection

    threads = []
    orig = projection.pca_coords
    monkeypatch.setattr(projection, "pca_coords",
                        lambda z, k: (threads.append(threading.current_thread()), orig(z, k))[1])
    return threads


def test_subset_projection_of_new_points_runs_in_the_worker(qtbot, view, controller, monkeypatch,
                                                            tiny_workspace):
    """New z-points arriving must not run the subset's SVD in the GUI thread (it took 0.5-3.7 s
    there with 200,000 points on a loaded machine): it is a runner job, the view shows its
    result."""
    from latentexplorer.workspace import Workspace

    threads = _record_projection_threads(monkeypatch)
    view.subset_size = 30
    with qtbot.waitSignal(controller.loaded, timeout=60_000):
        controller.open_workspace(Workspace.open(tiny_workspace))
    qtbot.waitUntil(lambda: view.scatter.projection is not None, timeout=30_000)
    assert view.scatter.projection.shape == (30, 2)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert view.reference is not None and view.reference.shape[0] == 30


def test_200k_new_points_are_projected_off_the_gui_thread(qtbot, view, controller, monkeypatch):
    """With 200,000 points the GUI thread only picks the fixed subset; the projection is a job."""

    class _WS:  # what the view reads of a workspace here
        checkpoint_epoch = 3
        path = "ws"

    threads = _record_projection_threads(monkeypatch)
    controller.state.workspace = _WS()  # no workspaceChanged: the view keeps its controls
    z = np.random.default_rng(0).standard_normal((200_000, 64)).astype(np.float32)
    controller.state.model.set_data(z)
    assert controller.runner.is_running(view.PREVIEW_JOB)  # a job, not done in set_data
    qtbot.waitUntil(lambda: view.scatter.projection is not None, timeout=30_000)
    assert view.scatter.projection.shape == (500, 2)
    assert threads and all(t is not threading.main_thread() for t in threads)
