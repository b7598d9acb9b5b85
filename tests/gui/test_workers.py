"""The one worker pattern: TaskWorker / TaskRunner (progress, result, error, cancel, cleanup)."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

import numpy as np
import pytest

from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.gui.workers import TaskRunner, TaskWorker, freeze_params


def _counting_task(params, reporter):
    for i in range(params["steps"]):
        reporter.raise_if_cancelled()
        time.sleep(params.get("sleep", 0.0))
        reporter.update(i + 1, params["steps"], f"step {i + 1}")
    return {"sum": params["a"] + params["b"], "thread": threading.current_thread().name}


def _waiting_task(params, reporter):
    reporter.update(0, 1, "waiting")
    while True:  # until cancelled
        reporter.raise_if_cancelled()
        time.sleep(0.005)


def _failing_task(params, reporter):
    raise RuntimeError("boom in the worker")


def _user_error_task(params, reporter):
    raise InvalidInputError("store.npy: expected uint8 images")


def test_result_progress_and_finished_arrive_in_gui_thread(qtbot):
    runner = TaskRunner()
    seen = {"progress": [], "result": None, "finished": 0, "threads": set()}
    w = runner.start("sum", _counting_task, {"a": 2, "b": 3, "steps": 3})

    def on_progress(d, t, m):
        seen["progress"].append((d, t, m))
        seen["threads"].add(threading.current_thread() is threading.main_thread())

    w.progress.connect(on_progress)  # a lambda/function: must still run in the GUI thread
    w.result.connect(lambda v: seen.update(result=v))
    w.finished.connect(lambda: seen.update(finished=seen["finished"] + 1))
    with qtbot.waitSignal(w.finished, timeout=5000):
        pass
    assert seen["result"]["sum"] == 5
    assert seen["result"]["thread"] != threading.main_thread().name  # ran in the worker
    assert seen["progress"][-1] == (3, 3, "step 3")  # the final update is never dropped
    assert seen["threads"] == {True}
    assert seen["finished"] == 1
    assert w.is_finished and w.value["sum"] == 5
    qtbot.waitUntil(lambda: not runner.busy, timeout=2000)
    assert not runner.is_running("sum")


def _metrics_task(params, reporter):
    n = params["n"]
    for i in range(n):  # fast batch updates: the worker may thin them out, never the last
        reporter.update(i + 1, n, f"batch {i + 1}", {"batch": i + 1, "loss": float(i)})
    reporter.update(0, 1, "validation")  # no metrics: no metrics signal
    for e in range(1, 4):  # events are never dropped
        reporter.update(e, 3, f"epoch {e}", {"event": "epoch", "row": {"epoch": e}})
    return "done"


def test_structured_metrics_arrive_in_the_gui_thread(qtbot):
    runner = TaskRunner()
    w = runner.start("metrics", _metrics_task, {"n": 500})
    seen, progress, threads = [], [], set()
    w.metrics.connect(lambda m: (seen.append(dict(m)),
                                 threads.add(threading.current_thread() is threading.main_thread())))
    w.progress.connect(lambda d, t, m: progress.append(m))
    with qtbot.waitSignal(w.finished, timeout=10_000):
        pass
    assert threads == {True}
    events = [m for m in seen if m.get("event") == "epoch"]
    assert [m["row"]["epoch"] for m in events] == [1, 2, 3]  # every one, in order
    batches = [m for m in seen if "batch" in m]
    assert batches and batches[-1] == {"batch": 500, "loss": 499.0}  # the final one is kept
    assert [m["batch"] for m in batches] == sorted(m["batch"] for m in batches)
    assert len(seen) == len(batches) + 3  # the update without metrics sent none
    assert len(progress) >= len(seen)  # each metrics signal comes with its progress update


def test_cancel_is_cooperative_and_emits_cancelled_not_result(qtbot):
    runner = TaskRunner()
    w = runner.start("wait", _waiting_task)
    got = []
    w.result.connect(got.append)
    with qtbot.waitSignal(w.progress, timeout=5000):
        pass
    assert runner.is_running("wait")
    with qtbot.waitSignals([w.cancelled, w.finished], timeout=5000, order="strict"):
        assert runner.cancel("wait")
    assert w.was_cancelled and not got and w.error_message is None


def test_error_message_reaches_the_gui_and_traceback_is_logged(qtbot, caplog):
    runner = TaskRunner()
    with caplog.at_level(logging.ERROR, logger="latentexplorer.gui.workers"):
        w = runner.start("bad", _failing_task)
        with qtbot.waitSignal(w.error, timeout=5000) as blocker:
            pass
        qtbot.waitUntil(lambda: w.is_finished, timeout=2000)
    assert blocker.args == ["RuntimeError: boom in the worker"]
    assert "Traceback" in caplog.text and "boom in the worker" in caplog.text


def test_user_errors_keep_their_plain_message(qtbot):
    w = TaskRunner().start("user", _user_error_task)
    with qtbot.waitSignal(w.error, timeout=5000) as blocker:
        pass
    assert blocker.args == ["store.npy: expected uint8 images"]


def test_starting_a_job_of_the_same_name_cancels_the_running_one(qtbot):
    runner = TaskRunner()
    first = runner.start("job", _waiting_task)
    with qtbot.waitSignal(first.progress, timeout=5000):
        pass
    second = runner.start("job", _counting_task, {"a": 1, "b": 1, "steps": 1})
    assert first.cancel_requested
    with qtbot.waitSignals([first.finished, second.finished], timeout=5000):
        pass
    assert first.was_cancelled
    assert second.value["sum"] == 2
    qtbot.waitUntil(lambda: not runner.busy, timeout=2000)


def test_cancel_all_waits_for_every_thread(qtbot):
    runner = TaskRunner()
    busy = []
    runner.busyChanged.connect(busy.append)
    workers = [runner.start(f"w{k}", _waiting_task) for k in range(2)]
    assert runner.busy and sorted(runner.running_names()) == ["w0", "w1"]
    assert runner.cancel_all(wait_ms=5000)
    assert all(w.is_finished and w.was_cancelled for w in workers)
    qtbot.waitUntil(lambda: busy and busy[-1] is False, timeout=2000)
    assert busy[0] is True


def test_params_are_frozen_copies():
    arr = np.arange(5.0)
    frozen = freeze_params({"a": arr, "nested": {"k": [1, 2]}})
    arr[0] = 99.0  # the GUI changes its array afterwards: the task keeps its copy
    assert frozen["a"][0] == 0.0
    with pytest.raises(TypeError):
        frozen["a"] = 1  # MappingProxyType
    with pytest.raises(ValueError):
        frozen["a"][1] = 5.0  # read-only array
    assert frozen["nested"]["k"] == (1, 2)

    @dataclasses.dataclass(frozen=True)
    class Task:
        n: int

    assert freeze_params(Task(3)) == Task(3)

    @dataclasses.dataclass
    class Mutable:
        n: int

    with pytest.raises(TypeError, match="frozen"):
        freeze_params(Mutable(3))


def test_worker_can_only_start_once(qtbot):
    w = TaskWorker(_counting_task, {"a": 0, "b": 0, "steps": 1})
    w.start()
    with pytest.raises(RuntimeError):
        w.start()
    assert w.wait(5000)


def _train_task(params, reporter):
    from latentexplorer.workspace.training import train

    return train(params["ws"], params["epochs"], resume=True, progress=reporter)


def test_training_worker_emits_progress_and_can_be_cancelled(qtbot, tiny_workspace_copy):
    """A real (tiny) training run: progress arrives, Cancel stops it, the checkpoint stays."""
    from latentexplorer.workspace import Workspace

    ws = Workspace.open(tiny_workspace_copy)
    before = ws.checkpoint_epoch
    assert before >= 1
    runner = TaskRunner()
    w = runner.start("train", _train_task, {"ws": ws, "epochs": before + 500})
    progress = []
    w.progress.connect(lambda d, t, m: progress.append((d, t, m)))
    with qtbot.waitSignal(w.progress, timeout=60_000):
        pass
    with qtbot.waitSignals([w.cancelled, w.finished], timeout=60_000):
        runner.cancel("train")
    assert progress and progress[0][1] > 0
    assert w.was_cancelled and w.error_message is None
    ws2 = Workspace.open(tiny_workspace_copy)
    assert before <= ws2.checkpoint_epoch < before + 500
    ws2.load_decoder()  # the kept checkpoint is loadable


def test_cancelled_is_the_library_exception():
    # the worker treats latentexplorer.errors.Cancelled (raised by raise_if_cancelled) as cancel
    from latentexplorer.progress import ProgressReporter

    r = ProgressReporter()
    r.cancel()
    with pytest.raises(Cancelled):
        r.raise_if_cancelled()


# ------------------------------------------------------------------ clean exit of scripts
_SCRIPT_EXITS_WHILE_A_TASK_RUNS = r"""
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication
from latentexplorer.gui.workers import TaskRunner

app = QApplication([])

def slow(params, reporter):
    for _ in range(500):
        reporter.raise_if_cancelled()
        time.sleep(0.01)

def done_fast(params, reporter):
    return 1

runner = TaskRunner()
runner.start("slow", slow)
w = runner.start("fast", done_fast)
w._thread.wait(5000)  # its thread idles in its event loop: never told to quit (no events)
time.sleep(0.1)
print("exiting", flush=True)
"""


def test_a_script_exiting_while_a_task_runs_exits_cleanly(tmp_path):
    """Returning from a script while a task's QThread still runs must not abort the process
    ("QThread: Destroyed while thread is still running" / "Fatal Python error")."""
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(_SCRIPT_EXITS_WHILE_A_TASK_RUNS)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "exiting" in proc.stdout
    assert "Fatal Python error" not in proc.stderr and "Destroyed while thread" not in proc.stderr


def test_screenshot_command_exits_cleanly_on_timeout(tiny_workspace, tmp_path):
    """`latentexplorer screenshot` whose wait times out reports the error (exit code 2) and
    stops the loading task instead of aborting at exit."""
    import subprocess
    import sys

    cli = "import sys; from latentexplorer.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", cli, "screenshot", str(tiny_workspace),
                           "--out", str(tmp_path / "s.png"), "--timeout", "0.05"],
                          capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "timed out" in proc.stderr
    assert "Fatal Python error" not in proc.stderr and "Destroyed while thread" not in proc.stderr
