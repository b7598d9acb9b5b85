"""Work off the GUI thread, latest request wins: decoding and nearest-neighbour queries.

A :class:`LatestWinsThread` is one background thread with a mailbox of one request per *slot*
("current", "path", "nearest", ...): a new request replaces the pending one of its slot, so a
mouse drag never queues up work: whatever is newest when the thread is free is done. Slots
named in ``order`` are served first (the face of the current vector before the path strip).
:class:`DecodeService` is the decoding one; the controller also keeps one for the neighbour
queries (an exact nearest point among 2,000,000 takes tens of ms: never in the GUI thread, and
never in the decoder's queue, where it would delay the next face of a drag).

Why not superqt's workers: they run one function to its end (``FunctionWorker``) or a free-running
generator; this needs a mailbox a thread can sleep on until the next request. A ``threading.Condition``
is the whole mechanism.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

#: slots in the order they are served when several requests wait
SLOTS = ("current", "path")

#: from this many data points on, nearest-neighbour queries go to the controller's neighbour
#: thread (below it one takes well under a millisecond and is answered at once)
BACKGROUND_QUERY_POINTS = 50_000


def background_nearest(model, k: int) -> Callable[[], tuple] | None:
    """The neighbour thread's job for the ``k`` data points nearest to ``model``'s current vector:
    ``fn() -> (analysis, (indices (k,), distances (k,)))`` — the analysis it searched, so that an
    answer for replaced data is recognised — or None where the caller asks the model at once (no
    analysis or current vector yet, or fewer than BACKGROUND_QUERY_POINTS points)."""
    if model.current is None or model.analysis is None or model.n_points < BACKGROUND_QUERY_POINTS:
        return None
    vector, analysis = model.current.vector.copy(), model.analysis
    return lambda: (analysis, analysis.nearest.query_k(vector, k))


class LatestWinsThread(QObject):
    """Run ``fn()`` requests in one background thread, the newest per slot.

    Signals (emitted in the GUI thread)
    ---------------------------------
    done(slot, token, result, ms) : the return value of the request ``token``'s function
    failed(slot, token, message)
    """

    done = Signal(str, object, object, float)
    failed = Signal(str, object, str)

    def __init__(self, name: str, order: tuple[str, ...] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._order = tuple(order)
        self._cv = threading.Condition()
        self._pending: dict[str, tuple] = {}
        self._busy = False
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, slot: str, fn: Callable[[], object], token=None) -> None:
        """Run ``fn()`` in ``slot`` (replacing the request waiting there)."""
        with self._cv:
            self._pending[slot] = (fn, token)
            self._cv.notify()

    @property
    def idle(self) -> bool:
        with self._cv:
            return not self._pending and not self._busy

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is pending or running (tests, screenshots)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._pending.clear()
            self._cv.notify_all()
        self._thread.join(5)

    def _next(self):
        with self._cv:
            while not self._pending and not self._stop:
                self._cv.wait()
            if self._stop:
                return None
            slot = next(s for s in (*self._order, *self._pending) if s in self._pending)
            self._busy = True
            return (slot, *self._pending.pop(slot))

    def _loop(self) -> None:
        while True:
            job = self._next()
            if job is None:
                return
            slot, fn, token = job
            t0 = time.perf_counter()
            try:
                self.done.emit(slot, token, fn(), (time.perf_counter() - t0) * 1000)
            except Exception as exc:  # noqa: BLE001 -- reported, the thread keeps running
                log.warning("%s (%s) failed: %s", self.name, slot, exc)
                self.failed.emit(slot, token, str(exc))
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()


class DecodeService(LatestWinsThread):
    """Decode requests in a background thread.

    Signals (emitted in the GUI thread)
    ---------------------------------
    decoded(slot, token, images, ms) : uint8 images (n, H, W, 3) of the request ``token``
    failed(slot, token, message)
    """

    decoded = Signal(str, object, object, float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("decode", SLOTS, parent)
        self.done.connect(self.decoded)

    def request(self, slot: str, decoder, vectors: np.ndarray, token=None) -> None:
        """Decode ``vectors`` (n, z_dim) with ``decoder`` (a models.codec.Decoder) in ``slot``."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(vectors) == 1:
            self.submit(slot, lambda: decoder.decode_one(vectors[0])[None], token)
        else:
            self.submit(slot, lambda: decoder.decode(vectors), token)
