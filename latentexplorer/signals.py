"""SIGINT, SIGTERM and SIGHUP all stop work the same way: the last complete state is kept.

The CLI installs :func:`install_handlers`: SIGTERM and SIGHUP then raise :class:`Terminated`, a
``KeyboardInterrupt``, in the main thread, exactly where Ctrl-C would. Everything that already cleans
up after Ctrl-C (temporary files removed, the last committed epoch kept) does so for them too, and
the CLI exits with 128 + the signal number. :func:`deferred` holds the signals back while a unit of
work is committed.

An exception raised by a signal handler lands wherever the main thread is — inside TensorFlow's C++
(a ``train_step``, ``tape.gradient``) that calls back into Python it corrupts the interpreter's
error state ("SystemError: ... bad argument to internal function", pybind11's "MISMATCH of original
and normalized active exception types"). Long TensorFlow work therefore runs under
:func:`polling`: a stop signal only sets a flag, and the work stops at its next safe point — the
next batch boundary, where :func:`raise_if_pending` (called by the training callback and by
``ProgressReporter.raise_if_cancelled``) raises it as usual — keeping the last complete unit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

STOP_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None),
                                 getattr(signal, "SIGHUP", None)) if s is not None)


class Terminated(KeyboardInterrupt):
    """A stop signal other than SIGINT arrived (``signum``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = int(signum)


def signal_of(exc: BaseException) -> int:
    """The signal that a KeyboardInterrupt stands for (SIGINT unless a :class:`Terminated`)."""
    return exc.signum if isinstance(exc, Terminated) else int(signal.SIGINT)


def _raise_terminated(signum, frame) -> None:
    raise Terminated(signum)


def install_handlers() -> None:
    """SIGTERM and SIGHUP raise :class:`Terminated` (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in STOP_SIGNALS:
        if sig != signal.SIGINT:
            signal.signal(sig, _raise_terminated)


# stop signals that arrived under polling() and were not acted on yet (main thread only)
_pending: list[int] = []
_polling = 0


def _note(signum, frame) -> None:
    _pending.append(int(signum))


def _exception(signum: int) -> KeyboardInterrupt:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def pending() -> int | None:
    """The first stop signal that arrived under :func:`polling` and is not acted on yet."""
    return _pending[0] if _pending else None


def raise_if_pending() -> None:
    """At a safe point (between batches): raise the stop signal that arrived meanwhile, if any.

    Only in the main thread (signals are delivered there); elsewhere a no-op.
    """
    if _pending and threading.current_thread() is threading.main_thread():
        signum = _pending[0]
        _pending.clear()
        raise _exception(signum)


@contextlib.contextmanager
def polling() -> Iterator[None]:
    """Run long TensorFlow work with stop signals noted instead of raised (see the module doc).

    Inside, the work must call :func:`raise_if_pending` at its safe points; a signal still pending
    when the block ends is raised then. Outside the main thread this is a no-op.
    """
    global _polling
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _note) for sig in STOP_SIGNALS}
    _polling += 1
    try:
        yield
    except BaseException:
        if _polling == 1:
            _pending.clear()  # the work ended anyway (with its own error or the signal itself)
        raise
    finally:
        _polling -= 1
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    raise_if_pending()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold back stop signals while the block runs (a commit), then act on the first one.

    Only the main thread can install signal handlers; elsewhere (a GUI worker) this is a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
                for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:
        if _polling:  # the surrounding work stops at its next safe point
            _pending.extend(caught)
            return
        raise _exception(caught[0])
