"""One background-worker pattern for the GUI: prepare, train, encode, t-SNE, sampling, PCA, ...

A task is a plain function ``fn(params, reporter) -> result`` that knows nothing about Qt: it
reads an immutable copy of its parameters and reports through a
:class:`latentexplorer.progress.ProgressReporter` (``update(done, total, message, metrics)``,
``raise_if_cancelled()``) exactly like the CLI does.

:class:`TaskWorker` is the handle the GUI holds. Its public signals

* ``progress(int done, int total, str message)`` (rate-limited to ~20 per second),
* ``metrics(dict)`` -- the structured numbers of an update (a batch's losses, an epoch's row),
* ``result(object)`` -- the return value of ``fn``,
* ``error(str)`` -- a user-readable message (the traceback goes to the log),
* ``cancelled()`` -- the task stopped because :meth:`TaskWorker.cancel` was called,
* ``finished()`` -- always last, exactly once,

are always emitted **in the GUI thread**, so they may be connected to lambdas and plain
functions as well as to widget methods. (PySide6 calls a lambda connected to a signal of an
object living in another thread *in that thread*; so the code that runs in the ``QThread`` is
a private ``_Job`` object moved to the thread, and the ``TaskWorker`` relays its queued
signals.) The worker never touches widgets.

Each task gets a fresh ``QThread``, not a pooled thread (superqt's ``FunctionWorker`` on a
``QThreadPool`` was tried and measured to crash): TensorFlow's pybind11 layer caches a Python
thread state per thread, and a pooled thread reused after shiboken deleted its thread state
segfaults in ``gil_scoped_acquire`` on the next TensorFlow call.

:class:`TaskRunner` manages named jobs: starting a job of a name that is already running
cancels the old one first (Orange's ``ConcurrentWidgetMixin`` idea), so there is never more
than one task per name; threads are cleaned up when they finish.

Example
-------
>>> runner = TaskRunner()
>>> w = runner.start("pca", fit_pca_task, {"z": z, "n_components": 10})
>>> w.result.connect(state.set_pca)
"""

from __future__ import annotations

import atexit
import copy
import dataclasses
import logging
import threading
import time
import traceback
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from ..errors import Cancelled, LatentExplorerError
from ..progress import ProgressReporter

log = logging.getLogger(__name__)

TaskFn = Callable[[Any, ProgressReporter], Any]

#: arrays larger than this are passed as read-only views instead of being copied
COPY_LIMIT_BYTES = 16 * 1024 * 1024

#: workers whose thread was started and has not been reported finished (see shutdown_all)
_LIVE: "set[TaskWorker]" = set()
#: how long the interpreter's exit waits for running tasks (they stop at their next check)
EXIT_WAIT_MS = 120_000


def shutdown_all(wait_ms: int = EXIT_WAIT_MS) -> bool:
    """Cancel every running task of the process and wait for the threads to end.

    Registered with :mod:`atexit`: a script (or command) that returns while a task still runs
    must not let Python destroy a running ``QThread`` at exit -- Qt aborts the process then
    ("QThread: Destroyed while thread is still running", "Fatal Python error: Aborted").
    Needs no event loop. Returns True when no thread is left running.
    """
    live = [w for w in list(_LIVE) if w._thread is not None]
    for w in live:
        w.cancel()
        # the thread runs an event loop after the task returned: let it end (quit() before
        # exec() started is remembered by Qt, so a task still running ends its thread too)
        w._thread.quit()
    deadline = time.monotonic() + wait_ms / 1000.0
    ok = True
    for w in live:
        thread = w._thread
        if thread is None:
            continue
        left = max(int((deadline - time.monotonic()) * 1000), 1)
        if thread.isRunning() and not thread.wait(left):
            ok = False
            log.warning("task %r still running at exit", w.name)
    if ok:
        _LIVE.clear()
    return ok


atexit.register(shutdown_all)


def _freeze_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.nbytes <= COPY_LIMIT_BYTES:
            value = value.copy()
        else:
            value = value.view()
        value.flags.writeable = False
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_freeze_value(v) for v in value)
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze_value(v) for k, v in value.items()})
    return value


def freeze_params(params: Any) -> Any:
    """An immutable copy of a task's parameters, made before the task starts.

    * ``None`` stays ``None``.
    * A mapping becomes a ``MappingProxyType`` over a copied dict (nested dicts/lists frozen too).
    * A frozen dataclass is shallow-copied; a non-frozen dataclass is rejected (use ``frozen=True``).
    * NumPy arrays up to ``COPY_LIMIT_BYTES`` are copied, larger ones become read-only views (the
      GUI never mutates its arrays in place, it replaces them), all are read-only.
    * Anything else (workspace objects, numbers, strings, paths) is passed as is.
    """
    if params is None:
        return None
    if isinstance(params, Mapping):
        return MappingProxyType({k: _freeze_value(v) for k, v in params.items()})
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        if not params.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            raise TypeError(f"task parameters {type(params).__name__} must be a frozen dataclass")
        return copy.copy(params)
    return _freeze_value(params)


class _SignalReporter(ProgressReporter):
    """Reporter whose updates are forwarded to a Qt signal, at most every ``interval`` seconds;
    the final update and updates whose metrics name an ``"event"`` (the end of an epoch) always
    pass."""

    def __init__(self, emit: Callable, cancel_event: threading.Event, interval: float = 0.05) -> None:
        super().__init__(on_update=None, cancel_event=cancel_event)
        self._emit = emit
        self._interval = interval
        self._last = 0.0

    def update(self, done: int, total: int, message: str = "", metrics: dict | None = None) -> None:
        now = time.monotonic()
        event = bool(metrics) and "event" in metrics
        if event or (total > 0 and done >= total) or now - self._last >= self._interval:
            self._last = now
            self._emit(int(done), int(total), str(message), metrics)


class _Job(QObject):
    """The part that runs in the QThread. Private: connect to the TaskWorker's signals."""

    progress = Signal(int, int, str, object)
    result = Signal(object)
    error = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, fn: TaskFn, params: Any, cancel_event: threading.Event) -> None:
        super().__init__()
        self._fn = fn
        self._params = params
        self._cancel_event = cancel_event

    @Slot()
    def run(self) -> None:
        reporter = _SignalReporter(self.progress.emit, self._cancel_event)
        try:
            reporter.raise_if_cancelled()
            value = self._fn(self._params, reporter)
            if self._cancel_event.is_set():
                self.cancelled.emit()
            else:
                self.result.emit(value)
        except Cancelled:
            self.cancelled.emit()
        except LatentExplorerError as exc:  # user-fixable: message only
            log.info("task %s: %s", getattr(self._fn, "__name__", self._fn), exc)
            self.error.emit(str(exc))
        except BaseException as exc:  # noqa: BLE001 -- a worker must never take the app down
            log.error("task %s failed:\n%s", getattr(self._fn, "__name__", self._fn),
                      traceback.format_exc())
            self.error.emit(f"{type(exc).__name__}: {exc}")
        finally:
            self._params = None
            self.done.emit()


class TaskWorker(QObject):
    """Handle of one background task; see the module docstring for the signals.

    Attributes
    ----------
    name : str
        Job name given to :meth:`TaskRunner.start` (or ``""``).
    params : object
        The frozen parameter copy the task received.
    value : object
        The result once ``result`` was emitted (else ``None``).
    error_message : str or None
        The message once ``error`` was emitted.
    was_cancelled, is_finished : bool
    """

    progress = Signal(int, int, str)
    metrics = Signal(object)
    result = Signal(object)
    error = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, fn: TaskFn, params: Any = None, name: str = "",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.fn = fn
        self.params = freeze_params(params)
        self.value: Any = None
        self.error_message: str | None = None
        self.was_cancelled = False
        self.is_finished = False
        self.started_at: float | None = None
        self._cancel_event = threading.Event()
        self._thread: QThread | None = None
        self._old_thread: QThread | None = None
        self._job: _Job | None = None

    # -- control -------------------------------------------------------------------------------
    def start(self) -> "TaskWorker":
        """Start the task in a new QThread (once)."""
        if self._thread is not None:
            raise RuntimeError("a TaskWorker can only be started once")
        self._thread = QThread()
        self._thread.setObjectName(f"task-{self.name or 'anon'}")
        self._job = _Job(self.fn, self.params, self._cancel_event)
        self._job.moveToThread(self._thread)
        # _Job signals -> our slots: queued into the GUI thread (we live there)
        self._job.progress.connect(self._on_progress)
        self._job.result.connect(self._on_result)
        self._job.error.connect(self._on_error)
        self._job.cancelled.connect(self._on_cancelled)
        self._job.done.connect(self._on_done)
        self._thread.started.connect(self._job.run)
        self.started_at = time.monotonic()
        _LIVE.add(self)
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the task to stop at its next ``raise_if_cancelled()`` (cooperative)."""
        self._cancel_event.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_event.is_set()

    def is_running(self) -> bool:
        return self._thread is not None and not self.is_finished

    def wait(self, ms: int = -1) -> bool:
        """Block until the thread ended (``ms`` < 0: forever), then deliver the pending signals.

        Returns True when the task is finished. Only for shutdown and tests -- it blocks.
        """
        if self._thread is None:
            return True
        deadline = None if ms < 0 else time.monotonic() + ms / 1000.0
        while not self.is_finished:
            remaining = 50 if deadline is None else int((deadline - time.monotonic()) * 1000)
            if remaining <= 0:
                break
            if self._thread.wait(min(remaining, 50)):
                # thread over: the queued signals are waiting in our event queue
                QCoreApplication.processEvents()
                QCoreApplication.sendPostedEvents()
                if not self.is_finished:
                    QCoreApplication.processEvents()
                if self.is_finished:
                    break
            else:
                QCoreApplication.processEvents()
        return self.is_finished

    # -- relays (GUI thread) ----------------------------------------------------------------
    @Slot(int, int, str, object)
    def _on_progress(self, done: int, total: int, message: str, metrics) -> None:
        if not self.is_finished:
            self.progress.emit(done, total, message)
            if metrics:
                self.metrics.emit(metrics)

    @Slot(object)
    def _on_result(self, value: Any) -> None:
        self.value = value
        self.result.emit(value)

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.error_message = message
        self.error.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self.was_cancelled = True
        self.cancelled.emit()

    @Slot()
    def _on_done(self) -> None:
        if self.is_finished:
            return
        thread = self._thread
        if thread is not None:
            thread.quit()
            thread.wait(5000)  # run() has returned: the thread's event loop ends at once
        self.is_finished = True
        _LIVE.discard(self)
        self._job = None
        self._thread = None
        self._old_thread = thread  # dropped with the worker, never while it runs
        self.finished.emit()


class TaskRunner(QObject):
    """Named background jobs, at most one per name.

    Signals
    -------
    started(str name, TaskWorker worker)
    finished(str name)
    busyChanged(bool) -- True while any job runs.
    progress(str name, int done, int total, str message)
    error(str name, str message)
    """

    started = Signal(str, object)
    finished = Signal(str)
    busyChanged = Signal(bool)
    progress = Signal(str, int, int, str)
    error = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: dict[str, TaskWorker] = {}
        self._retired: set[TaskWorker] = set()  # cancelled, still winding down
        self._graveyard: list[TaskWorker] = []  # finished; released on the next event-loop turn
        self._closed = False

    def start(self, name: str, fn: TaskFn, params: Any = None) -> TaskWorker:
        """Cancel a running job called ``name`` (if any), then start ``fn(params, reporter)``.

        Returns the started :class:`TaskWorker`; connect to its signals right away (they are
        queued, nothing is delivered before control returns to the event loop).
        """
        if self._closed:
            # a closing window: a late request (say, an epoch event queued before the cancel)
            # gets a worker that never starts, whose signals never fire
            return TaskWorker(fn, params, name=name)
        was_busy = self.busy
        old = self._jobs.pop(name, None)
        if old is not None and not old.is_finished:
            old.cancel()
            self._retired.add(old)
        worker = TaskWorker(fn, params, name=name)
        self._jobs[name] = worker
        worker.progress.connect(lambda d, t, m, n=name: self.progress.emit(n, d, t, m))
        worker.error.connect(lambda m, n=name: self.error.emit(n, m))
        worker.finished.connect(lambda w=worker: self._on_finished(w))
        worker.start()
        self.started.emit(name, worker)
        if not was_busy:
            self.busyChanged.emit(True)
        return worker

    def worker(self, name: str) -> TaskWorker | None:
        """The current worker of ``name`` (running or not yet cleaned up), else None."""
        return self._jobs.get(name)

    def is_running(self, name: str) -> bool:
        w = self._jobs.get(name)
        return w is not None and not w.is_finished

    @property
    def busy(self) -> bool:
        return any(not w.is_finished for w in self._jobs.values()) or bool(self._retired)

    def running_names(self) -> list[str]:
        return [n for n, w in self._jobs.items() if not w.is_finished]

    def cancel(self, name: str) -> bool:
        """Request cancellation of job ``name``; True if one was running."""
        w = self._jobs.get(name)
        if w is None or w.is_finished:
            return False
        w.cancel()
        return True

    def close(self, wait_ms: int = 0) -> bool:
        """Cancel every job (waiting up to ``wait_ms``) and start none from now on."""
        self._closed = True
        return self.cancel_all(wait_ms)

    def cancel_all(self, wait_ms: int = 0) -> bool:
        """Cancel every job; with ``wait_ms`` > 0 wait for them (e.g. on window close).

        Returns True when no job is running any more.
        """
        workers = [w for w in list(self._jobs.values()) + list(self._retired) if not w.is_finished]
        for w in workers:
            w.cancel()
        if wait_ms > 0:
            deadline = time.monotonic() + wait_ms / 1000.0
            for w in workers:
                left = int((deadline - time.monotonic()) * 1000)
                w.wait(max(left, 1))
        return all(w.is_finished for w in workers)

    def _on_finished(self, worker: TaskWorker) -> None:
        self._retired.discard(worker)
        if self._jobs.get(worker.name) is worker:
            del self._jobs[worker.name]
        # keep the wrapper alive until all slots of its finished signal have run
        self._graveyard.append(worker)
        QTimer.singleShot(0, self._graveyard.clear)
        self.finished.emit(worker.name)
        if not self.busy:
            self.busyChanged.emit(False)
