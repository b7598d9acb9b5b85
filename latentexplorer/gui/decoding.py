"""Decoding off the GUI thread, latest request wins.

The face of the current vector and the path strip are decoded in one background thread. Each
consumer has a *slot* ("current", "path"); a new request replaces the pending one of its slot, so a
mouse drag never queues up decodes: whatever is newest when the thread is free is decoded. The
current vector is served before the path (it is what the user looks at while dragging).

Why not superqt's workers: they run one function to its end (``FunctionWorker``) or a free-running
generator; this needs a mailbox a thread can sleep on until the next request. A ``threading.Condition``
is the whole mechanism.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

#: slots in the order they are served when several requests wait
SLOTS = ("current", "path")


class DecodeService(QObject):
    """Decode requests in a background thread.

    Signals (emitted in the GUI thread)
    ---------------------------------
    decoded(slot, token, images, ms) : uint8 images (n, H, W, 3) of the request ``token``
    failed(slot, token, message)
    """

    decoded = Signal(str, object, object, float)
    failed = Signal(str, object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cv = threading.Condition()
        self._pending: dict[str, tuple] = {}
        self._busy = False
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="decode", daemon=True)
        self._thread.start()

    def request(self, slot: str, decoder, vectors: np.ndarray, token=None) -> None:
        """Decode ``vectors`` (n, z_dim) with ``decoder`` (a models.codec.Decoder) in ``slot``."""
        with self._cv:
            self._pending[slot] = (decoder, np.asarray(vectors, dtype=np.float32), token)
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
            slot = next(s for s in (*SLOTS, *self._pending) if s in self._pending)
            self._busy = True
            return (slot, *self._pending.pop(slot))

    def _loop(self) -> None:
        while True:
            job = self._next()
            if job is None:
                return
            slot, decoder, vectors, token = job
            t0 = time.perf_counter()
            try:
                if len(vectors) == 1:
                    images = decoder.decode_one(vectors[0])[None]
                else:
                    images = decoder.decode(vectors)
                self.decoded.emit(slot, token, images, (time.perf_counter() - t0) * 1000)
            except Exception as exc:  # noqa: BLE001 -- reported, the service keeps running
                log.warning("decode (%s) failed: %s", slot, exc)
                self.failed.emit(slot, token, str(exc))
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()
