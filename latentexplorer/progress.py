"""One progress/cancel protocol for all long work (CLI bars and GUI workers use the same).

Library functions take ``progress: ProgressReporter | None``; they call
``progress.update(done, total, message, metrics)`` now and then and
``progress.raise_if_cancelled()`` at safe points. ``message`` is for people; ``metrics`` (a dict of
numbers, e.g. the losses of a training batch with its epoch) is for programs — the GUI plots it, it
never parses the message. The GUI worker builds a reporter whose ``on_update`` emits a Qt signal
and whose cancel event is set by the Cancel button; the CLI uses :class:`TerminalProgress`.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable

from .errors import Cancelled

UpdateFn = Callable[..., None]


class ProgressReporter:
    """Progress sink with a cooperative cancel flag.

    Parameters
    ----------
    on_update : callable(done, total, message, metrics), optional
        Called on every :meth:`update`.
    cancel_event : threading.Event, optional
        When set, :meth:`raise_if_cancelled` raises :class:`Cancelled`.
    """

    def __init__(self, on_update: UpdateFn | None = None,
                 cancel_event: threading.Event | None = None) -> None:
        self._on_update = on_update
        self.cancel_event = cancel_event or threading.Event()

    def update(self, done: int, total: int, message: str = "", metrics: dict | None = None) -> None:
        if self._on_update is not None:
            self._on_update(int(done), int(total), message, metrics)

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def raise_if_cancelled(self) -> None:
        """At a safe point: raise :class:`Cancelled` when cancelled, or the stop signal that
        arrived meanwhile under :func:`latentexplorer.signals.polling`."""
        from .signals import raise_if_pending

        raise_if_pending()
        if self.cancel_event.is_set():
            raise Cancelled("cancelled by the user")


class TerminalProgress(ProgressReporter):
    """A text progress bar on stderr, redrawn at most ~10 times a second."""

    def __init__(self, label: str = "", width: int = 30, stream=None) -> None:
        super().__init__()
        self.label = label
        self.width = width
        self.stream = stream or sys.stderr
        self._last = 0.0
        self._phase_t0 = time.monotonic()   # start of the current phase (e.g. one epoch) and its count
        self._phase_done0 = 0
        self._total = None
        self._done = 0

    def update(self, done: int, total: int, message: str = "", metrics: dict | None = None) -> None:
        now = time.monotonic()
        if self._total is not None and (total != self._total or done < self._done):
            # a new phase (the next epoch, validation): the ETA is measured on this phase only,
            # from its first report on (a pause between phases, e.g. a checkpoint, is not counted)
            self._phase_t0, self._phase_done0 = now, done
        self._total, self._done = total, done
        final = total > 0 and done >= total
        if not final and now - self._last < 0.1:
            return
        self._last = now
        frac = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        text = f"\r{self.label} [{bar}] {done}/{total}{self._time_text(now, done, total, final)} {message}"
        self.stream.write(text[:200].ljust(80))
        if final:
            self.stream.write("\n")
        self.stream.flush()

    def _time_text(self, now: float, done: int, total: int, final: bool) -> str:
        """`` eta NNs`` from this phase's rate, or the phase's elapsed time when it is over."""
        elapsed = now - self._phase_t0
        if final or total <= 0:
            return f" {elapsed:5.1f}s"
        steps = done - self._phase_done0
        if steps <= 0 or elapsed <= 0:
            return " eta     ?"
        return f" eta {(total - done) * elapsed / steps:5.0f}s"

    def reset(self, label: str) -> None:
        self.label = label
        self._phase_t0 = time.monotonic()
        self._phase_done0 = 0
        self._total = None
        self._done = 0
        self._last = 0.0
