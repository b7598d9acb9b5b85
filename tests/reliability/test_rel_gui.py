"""GUI under faults (offscreen, pytest-qt): a failing worker shows an error and the app keeps working;
Cancel stops the real long tasks within about a second; closing the window during a task shuts down
cleanly. Dialogs are recorded (``dialogs`` fixture), never shown."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

pytest.importorskip("pytestqt")

from PIL import Image  # noqa: E402

from latentexplorer.errors import InvalidInputError  # noqa: E402
from latentexplorer.explore import Plane  # noqa: E402
from latentexplorer.gui.main_window import MainWindow  # noqa: E402
from latentexplorer.gui.workers import TaskRunner  # noqa: E402
from latentexplorer.progress import ProgressReporter  # noqa: E402
from latentexplorer.workspace import Workspace  # noqa: E402

CANCEL_LIMIT_S = 1.5  # "about a second", with slack for 2 busy cores


def _action(win, text: str) -> QAction:
    (act,) = [a for a in win.findChildren(QAction) if a.text().replace("&", "") == text]
    return act


def _open(win, monkeypatch, folder) -> None:
    """File > Open workspace…, the dialog answering ``folder``."""
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(folder)))
    win.act_open.trigger()


@pytest.fixture
def window(qtbot, dialogs, monkeypatch, tmp_path):
    from latentexplorer.gui import settings

    monkeypatch.setenv(settings.ENV_VAR, str(tmp_path / "settings.ini"))
    settings.set_settings_path(tmp_path / "settings.ini")
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.runner.cancel_all(wait_ms=30_000)
    settings.set_settings_path(None)


# ------------------------------------------------------------------------------- worker errors
def _boom(params, reporter):
    reporter.update(1, 2, "working")
    raise params["exc"]


def test_worker_exceptions_show_an_error_and_the_app_stays_usable(window, qtbot, dialogs):
    cases = [(RuntimeError("disk on fire"), "RuntimeError: disk on fire"),
             (InvalidInputError("z.npy: 3 NaN/inf values"), "z.npy: 3 NaN/inf values"),
             (MemoryError(), "MemoryError"),
             (ZeroDivisionError("division by zero"), "ZeroDivisionError: division by zero"),
             (KeyError("missing"), "KeyError")]
    for exc, text in cases:
        w = window.start_task("bad", _boom, {"exc": exc})
        qtbot.waitUntil(lambda w=w: w.is_finished, timeout=5000)
        qtbot.waitUntil(lambda: not window.runner.busy, timeout=5000)
        kind, title, message = dialogs[-1]
        assert kind == "warning" and title == "Task 'bad' failed" and text in message
        assert not window.cancel_button.isEnabled() and not window.progress.isVisible()
    assert len(dialogs) == len(cases)
    # still usable: another task runs and delivers its result, the state accepts data and planes
    w = window.start_task("good", lambda p, r: p["x"] * 2, {"x": 21})
    with qtbot.waitSignal(w.result, timeout=5000) as blocker:
        pass
    assert blocker.args == [42]
    z = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    m = window.model
    m.set_data(z)
    window.controller.start_analysis()
    qtbot.waitUntil(lambda: not window.runner.busy and m.analysis is not None, timeout=20_000)
    m.set_plane(("latent", 2, 4))
    assert m.plane == Plane("latent", 2, 4)
    _action(window, "PCA plane").trigger()
    assert m.plane == Plane("pca", 0, 1)
    assert window.isVisible() and len(dialogs) == len(cases)


def test_bad_gui_values_are_refused_with_a_message(window, qtbot, dialogs):
    z = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    st = window.model
    st.set_data(z)  # the PCA is not computed yet
    for call, match in [(lambda: st.set_plane(("latent", 1, 1)), "differ"),
                        (lambda: st.set_plane(("latent", 0, 9)), "0..3"),
                        (lambda: st.set_plane(("latent", -1, 2)), r"0..3|>= 0"),
                        (lambda: st.set_plane(("pca", 0, 1)), "PCA"),
                        (lambda: st.set_sigma_level(0), "sigma level"),
                        (lambda: st.set_fact(-0.5), "fact"),
                        (lambda: st.set_sharpen(float("nan")), "sharpen")]:
        with pytest.raises(InvalidInputError, match=match):
            call()
    _action(window, "PCA plane").trigger()  # the window turns it into a dialog
    assert dialogs and dialogs[-1][0] == "warning" and "PCA" in dialogs[-1][2]
    assert st.plane == Plane("latent", 0, 1) and (st.sigma_level, st.fact) == (2.35, 0.7)


def test_opening_bad_workspaces_shows_a_message(window, dialogs, tmp_path, monkeypatch):
    (tmp_path / "notws").mkdir()
    _open(window, monkeypatch, tmp_path / "notws")
    assert "not a workspace" in dialogs[-1][2]
    _open(window, monkeypatch, tmp_path / "missing")
    assert "not found" in dialogs[-1][2]
    assert window.state.workspace is None
    assert window.isVisible()


def test_a_damaged_decoder_is_reported_when_the_workspace_opens(window, qtbot, dialogs, ws_copy,
                                                                monkeypatch):
    decoder = Workspace.open(ws_copy).snapshot().dir / "decoder.keras"
    data = decoder.read_bytes()
    decoder.write_bytes(data[: len(data) // 2])
    _open(window, monkeypatch, ws_copy)
    qtbot.waitUntil(lambda: window.model.z is not None and not window.runner.busy, timeout=60_000)
    assert window.state.decoder is None  # the scatter works, faces cannot be decoded
    assert len(window.scatter.plotted_points()) == 64
    qtbot.waitUntil(lambda: any("decoder.keras" in d[2] for d in dialogs), timeout=10_000)
    assert window.isVisible()


# ------------------------------------------------------------------------------- cancel latency
def _photo_folder(root: Path, n: int) -> Path:
    src = root / "photos"
    src.mkdir()
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(buf, "JPEG", quality=90)
    (src / "000000.jpg").write_bytes(buf.getvalue())
    for i in range(1, n):
        os.link(src / "000000.jpg", src / f"{i:06d}.jpg")
    return src


def _prepare_task(params, reporter):
    from latentexplorer.data.prepare import prepare_dataset

    return prepare_dataset(params["src"], params["out"], preset="center", size=16, workers=1,
                           progress=reporter)


def _synth_task(params, reporter):
    from latentexplorer.data.synth import write_synthetic_store

    return write_synthetic_store(params["out"], n=200_000, size=32, progress=reporter)


def _train_task(params, reporter):
    from latentexplorer.workspace.training import train

    return train(params["ws"], 500, resume=True, progress=reporter)


def _encode_task(params, reporter):
    return params["ws"].encode(batch_size=8, progress=reporter)


def _tsne_task(params, reporter):
    from latentexplorer.analysis.embedding import tsne_embedding

    return tsne_embedding(params["z"], progress=reporter, n_iter=5000, callbacks_every_iters=5)


def _kmeans_task(params, reporter):
    from latentexplorer.analysis.embedding import kmeans_inertia

    return kmeans_inertia(params["z"], k_values=range(2, 81), progress=reporter)


def _analysis_task(params, reporter):
    from latentexplorer.analysis.report import analyze_latents

    return analyze_latents(params["z"], kmeans=True, tsne=True, progress=reporter)


def _decode_task(params, reporter):
    from latentexplorer.models.codec import Decoder

    dec = Decoder(params["ws"].load_decoder(), batch_size=4)
    return dec.decode(np.zeros((400_000, 4), np.float32), progress=reporter)


TASKS = {"prepare": _prepare_task, "synth": _synth_task, "train": _train_task, "encode": _encode_task,
         "tsne": _tsne_task, "kmeans": _kmeans_task, "analysis": _analysis_task, "decode": _decode_task}


@pytest.mark.parametrize("name", list(TASKS))
def test_cancel_stops_a_long_task_within_about_a_second(name, window, qtbot, dialogs, tmp_path, ws_copy):
    from latentexplorer.workspace import Workspace

    rng = np.random.default_rng(0)
    params = {"prepare": lambda: {"src": _photo_folder(tmp_path, 4000), "out": tmp_path / "store"},
              "synth": lambda: {"out": tmp_path / "synth"},
              "train": lambda: {"ws": Workspace.open(ws_copy)},
              "encode": lambda: {"ws": _big_ws(tmp_path, ws_copy)},
              "tsne": lambda: {"z": rng.normal(size=(3000, 16)).astype(np.float32)},
              "kmeans": lambda: {"z": rng.normal(size=(20_000, 64)).astype(np.float32)},
              "analysis": lambda: {"z": rng.normal(size=(20_000, 64)).astype(np.float32)},
              "decode": lambda: {"ws": Workspace.open(ws_copy)}}[name]()
    w = window.start_task(name, TASKS[name], params)
    for _ in range(3):  # well inside the work
        with qtbot.waitSignal(w.progress, timeout=60_000):
            pass
    assert not w.is_finished, "task too short to test cancelling"
    t0 = time.monotonic()
    qtbot.mouseClick(window.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.is_finished, timeout=30_000)
    latency = time.monotonic() - t0
    assert w.was_cancelled and w.value is None and w.error_message is None
    assert not [d for d in dialogs if d[0] == "warning"], dialogs  # cancelling is not an error
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=5000)
    assert "cancelled" in window.status_label.text() or name in window.status_label.text()
    if name in ("prepare", "synth"):
        assert not any(p.name.startswith((".store", ".synth", "store", "synth")) for p in tmp_path.iterdir())
    if name == "train":
        ws = Workspace.open(ws_copy)
        assert 1 <= ws.checkpoint_epoch < 500
        ws.load_model()
    if name == "encode":
        assert not Workspace.open(tmp_path / "bigws").has_latents
    assert latency < CANCEL_LIMIT_S, f"{name}: cancel took {latency:.2f} s"


def _big_ws(tmp_path: Path, ws_copy: Path):
    """The tiny workspace's model on a 30,000-image store (so encoding takes seconds)."""
    import json
    import shutil

    from latentexplorer.workspace import Workspace
    from tiny_models import make_store

    store = make_store(tmp_path / "bigstore", n=30_000, size=16)
    dst = tmp_path / "bigws"
    shutil.copytree(ws_copy, dst, ignore=shutil.ignore_patterns("latents"))
    cfg = json.loads((dst / "config.json").read_text())
    cfg["data"] = str(store)
    (dst / "config.json").write_text(json.dumps(cfg))
    return Workspace.open(dst)


# ------------------------------------------------------------------------------- closing
def test_closing_the_window_during_a_task_shuts_down_cleanly(qtbot, dialogs, tmp_path, monkeypatch):
    from latentexplorer.gui import settings

    settings.set_settings_path(tmp_path / "settings.ini")
    try:
        win = MainWindow()
        qtbot.addWidget(win)
        win.show()
        src = _photo_folder(tmp_path, 4000)
        w = win.start_task("prepare", _prepare_task, {"src": src, "out": tmp_path / "store"})
        with qtbot.waitSignal(w.progress, timeout=30_000):
            pass
        t0 = time.monotonic()
        win.act_quit.trigger()  # File > Quit: cancels and waits for the worker thread
        assert time.monotonic() - t0 < CANCEL_LIMIT_S + 1
        assert w.is_finished and w.was_cancelled
        assert not win.runner.busy
        assert not dialogs  # no error dialog while closing
        assert not (tmp_path / "store").exists()
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    finally:
        settings.set_settings_path(None)


def _stubborn(params, reporter):
    """Ignores cancel for a while (a long C call), then finishes."""
    reporter.update(0, 1, "in a long native call")
    params["started"].set()
    time.sleep(1.0)
    return "done"


def test_closing_waits_for_a_task_that_ignores_cancel(qtbot, dialogs, tmp_path):
    from latentexplorer.gui import settings

    settings.set_settings_path(tmp_path / "settings.ini")
    try:
        runner = TaskRunner()
        win = MainWindow(runner=runner)
        qtbot.addWidget(win)
        win.show()
        started = threading.Event()
        w = win.start_task("stubborn", _stubborn, {"started": started})
        assert started.wait(10)
        win.act_quit.trigger()
        assert not win.isVisible()
        assert w.is_finished and not runner.busy
        assert not dialogs
    finally:
        settings.set_settings_path(None)


def test_a_progress_reporter_outside_qt_cancels_too():
    """The same protocol from the CLI/notebook side: cancel -> Cancelled, nothing half-written."""
    from latentexplorer.data.synth import write_synthetic_store
    from latentexplorer.errors import Cancelled

    rep = ProgressReporter(on_update=lambda d, t, m, metrics=None: rep.cancel() if d >= 1024 else None)
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        with pytest.raises(Cancelled):
            write_synthetic_store(Path(d) / "s", n=10_000, size=16, progress=rep)
        assert os.listdir(d) == []
