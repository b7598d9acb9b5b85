"""TrainingView: loss curves, the stable PCA projection, and a real (tiny) training run."""

from __future__ import annotations

import numpy as np
import pytest

from latentexplorer.gui.state import AppState
from latentexplorer.gui.training_view import (StableProjector, TrainingView, _BatchForwarder,
                                              orthogonal_align, parse_losses)
from latentexplorer.gui.workers import TaskRunner
from latentexplorer.progress import ProgressReporter


def _random_orthogonal(k: int, rng: np.random.Generator, flip: bool) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((k, k)))
    q = q * np.sign(np.diag(r))
    if flip and np.linalg.det(q) > 0:
        q[:, 0] = -q[:, 0]
    return q


def _encoding(rng: np.random.Generator, n: int = 300, d: int = 24) -> np.ndarray:
    scales = np.linspace(3.0, 0.2, d)  # distinct variances: a well-defined PCA
    return (rng.standard_normal((n, d)) * scales + rng.standard_normal(d)).astype(np.float32)


# ------------------------------------------------------------------------------ numeric
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("flip", [False, True])
def test_stable_projection_ignores_rotation_and_flip(seed, flip):
    rng = np.random.default_rng(seed)
    z1 = _encoding(rng)
    proj = StableProjector()
    p1 = proj.project(z1)
    q = _random_orthogonal(z1.shape[1], rng, flip)
    z2 = (z1 - z1.mean(0)) @ q + 5.0  # the latent space rotated/reflected and shifted
    p2 = proj.project(z2)
    spread = np.sqrt(np.mean(np.sum(p1 ** 2, axis=1)))
    assert np.max(np.abs(p2 - p1)) < 1e-3 * spread


@pytest.mark.parametrize("seed", range(3))
def test_stable_projection_moves_smoothly(seed):
    """A slightly perturbed, rotated re-encoding stays close; plain PCA of the new encoding may
    flip sign, the aligned one does not."""
    rng = np.random.default_rng(seed)
    z1 = _encoding(rng)
    proj = StableProjector()
    p1 = proj.project(z1)
    q = _random_orthogonal(z1.shape[1], rng, flip=True)
    z2 = (z1 + 0.05 * rng.standard_normal(z1.shape)) @ q
    p2 = proj.project(z2)
    spread = np.sqrt(np.mean(np.sum(p1 ** 2, axis=1)))
    assert np.sqrt(np.mean(np.sum((p2 - p1) ** 2, axis=1))) < 0.1 * spread
    assert proj.n_updates_ == 2


def test_orthogonal_align_recovers_rotation():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 4))
    q = _random_orthogonal(4, rng, flip=True)
    r = orthogonal_align(x @ q, x)
    np.testing.assert_allclose(r @ r.T, np.eye(4), atol=1e-10)
    np.testing.assert_allclose(x @ q @ r, x, atol=1e-10)


def test_projector_resets_on_dimension_change():
    rng = np.random.default_rng(0)
    proj = StableProjector()
    proj.project(_encoding(rng, d=8))
    out = proj.project(_encoding(rng, d=12))  # another model: new basis, no error
    assert out.shape == (300, 2)


def test_parse_losses_and_batch_forwarder():
    assert parse_losses("epoch 3/24 loss=512.5") == {"total_loss": 512.5}
    assert parse_losses("epoch 3/24 validation") == {}

    sent = []

    class Bridge:
        class _Sig:
            def emit(self, payload):
                sent.append(payload)
        batchLoss = _Sig()

    seen = []
    inner = ProgressReporter(on_update=lambda d, t, m: seen.append((d, t, m)))
    fw = _BatchForwarder(inner, Bridge(), first_epoch=0, interval=0.0)
    fw.update(2, 4, "epoch 3/5 loss=10.0")
    assert seen == [(2, 4, "epoch 3/5 loss=10.0")]
    assert sent == [{"epoch": 2.5, "total_loss": 10.0}]


# ------------------------------------------------------------------------------ widget
@pytest.fixture
def view(qtbot):
    runner = TaskRunner()
    state = AppState(runner)
    tv = TrainingView(state, runner)
    qtbot.addWidget(tv)
    return tv


def test_loss_curves_update_on_emitted_history_row(qtbot, view):
    row = {"epoch": 1, "total_loss": 120.0, "reco_loss": 100.0, "kl_loss": 20.0,
           "val_total_loss": 125.0, "val_reco_loss": 104.0, "val_kl_loss": 21.0}
    xy = np.random.default_rng(0).standard_normal((30, 2)).astype(np.float32)
    view.bridge.epochEnded.emit({"row": row, "projection": xy, "labels": None})
    qtbot.waitUntil(lambda: len(view.curves.rows) == 1, timeout=2000)
    x, y = view.curves.series("total_loss")
    np.testing.assert_allclose(x, [1.0])
    np.testing.assert_allclose(y, [120.0])
    assert view.curves.series("val_kl_loss")[1].tolist() == [21.0]
    # the plotted curve holds the data too
    cx, cy = view.curves.curves["reco_loss"].getData()
    assert list(cy) == [100.0]
    assert view.scatter.projection is not None and view.scatter.projection.shape == (30, 2)
    assert view.kl_plot_visible()

    view.bridge.epochEnded.emit({"row": {**row, "epoch": 2, "total_loss": 90.0}, "projection": xy})
    qtbot.waitUntil(lambda: len(view.curves.rows) == 2, timeout=2000)
    assert view.curves.series("total_loss")[1].tolist() == [120.0, 90.0]


def test_batch_losses_are_drawn(qtbot, view):
    for k in range(1, 4):
        view.bridge.batchLoss.emit({"epoch": k / 4, "total_loss": 200.0 - k})
    qtbot.waitUntil(lambda: len(view.curves.batch_points) == 3, timeout=2000)
    x, y = view.curves.curves["batch_total_loss"].getData()
    assert list(y) == [199.0, 198.0, 197.0]


def test_ae_history_hides_kl_plot(qtbot, view):
    view.curves.set_history([{"epoch": 1, "total_loss": 5.0, "reco_loss": 5.0, "kl_loss": 0.0}])
    assert not view.kl_plot_visible()


def test_buttons_without_workspace(view):
    assert not view.start_button.isEnabled()
    assert not view.resume_button.isEnabled()
    assert not view.stop_button.isEnabled()
    assert view.start_training() is None


def test_resume_training_live(qtbot, tiny_workspace_copy):
    """Resume the tiny workspace for one more epoch in the worker: the curves get the history
    rows, the scatter the re-encoded subset, and the state reloads the new latents."""
    from latentexplorer.workspace import Workspace

    runner = TaskRunner()
    state = AppState(runner)
    ws = Workspace.open(tiny_workspace_copy)
    with qtbot.waitSignal(state.latentsChanged, timeout=60_000):
        state.load_workspace(ws)
    tv = TrainingView(state, runner)
    qtbot.addWidget(tv)
    assert tv.resume_button.isEnabled()
    assert len(tv.curves.rows) == 1
    tv.subset_size = 40
    tv.epochs.setValue(2)
    progress = []
    worker = tv.start_training(resume=True)
    assert worker is not None and tv.stop_button.isEnabled()
    worker.progress.connect(lambda d, t, m: progress.append(m))
    with qtbot.waitSignal(tv.trainingFinished, timeout=180_000):
        pass
    qtbot.waitUntil(lambda: not tv.running, timeout=10_000)
    assert [r["epoch"] for r in tv.curves.rows] == [1, 2]
    assert tv.scatter.projection is not None and tv.scatter.projection.shape == (40, 2)
    assert progress
    assert Workspace.open(tiny_workspace_copy).checkpoint_epoch == 2
    qtbot.waitUntil(lambda: state.z is not None, timeout=60_000)
    runner.cancel_all(wait_ms=30_000)


# ------------------------------------------------------------------ GUI thread stays free
def test_subset_projection_of_new_latents_runs_in_the_worker(qtbot, tiny_workspace, monkeypatch):
    """New z-points arriving must not run the subset's SVD in the GUI thread (it took 0.5-3.7 s
    there with 200,000 points on a loaded machine): it is a runner job, the view shows its
    result."""
    import threading

    from latentexplorer.gui import training_view
    from latentexplorer.workspace import Workspace

    threads = []
    orig = training_view._pca_coords
    monkeypatch.setattr(training_view, "_pca_coords",
                        lambda z, k: (threads.append(threading.current_thread()), orig(z, k))[1])
    runner = TaskRunner()
    state = AppState(runner)
    tv = TrainingView(state, runner)
    qtbot.addWidget(tv)
    tv.subset_size = 30
    with qtbot.waitSignal(state.latentsChanged, timeout=60_000):
        state.load_workspace(Workspace.open(tiny_workspace))
    qtbot.waitUntil(lambda: tv.scatter.projection is not None, timeout=30_000)
    assert tv.scatter.projection.shape == (30, 2)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert tv.projector.reference_ is not None and tv.projector.reference_.shape[0] == 30
    runner.cancel_all(wait_ms=30_000)


def test_show_current_latents_gui_thread_time_with_200k_points(qtbot, monkeypatch):
    """With 200,000 points the GUI-thread part of showing new latents stays far below 100 ms."""
    import time

    class _WS:
        checkpoint_epoch = 3
        path = "ws"
        model_config = None

    runner = TaskRunner()
    state = AppState(runner)
    tv = TrainingView(state, runner)
    qtbot.addWidget(tv)
    state.workspace = _WS()
    state.z = np.random.default_rng(0).standard_normal((200_000, 64)).astype(np.float32)
    t0 = time.perf_counter()
    tv._show_current_latents()
    ms = (time.perf_counter() - t0) * 1000
    assert ms < 100, ms
    qtbot.waitUntil(lambda: tv.scatter.projection is not None, timeout=30_000)
    assert tv.scatter.projection.shape == (500, 2)
    runner.cancel_all(wait_ms=30_000)
