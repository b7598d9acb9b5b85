"""SIGINT, SIGTERM and SIGHUP all stop work the same way: the last complete state is kept.

The CLI installs :func:`install_handlers`: SIGTERM and SIGHUP then raise :class:`Terminated`, a
``KeyboardInterrupt``, in the main thread, exactly where Ctrl-C would. Everything that already cleans
up after Ctrl-C (temporary files removed, the last committed epoch kept) does so for them too, and
the CLI exits with 128 + the signal number. :func:`deferred` holds the signals back while a unit of
work is committed.
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
        if caught[0] == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(caught[0])
