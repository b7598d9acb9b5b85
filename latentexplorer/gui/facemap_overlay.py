"""The face-likeness map as an overlay of the scatter (Tools > Face-likeness map, Ctrl+M).

The map of :mod:`latentexplorer.explore.facemap` over the visible part of the plane, keeping the
current vector's other coordinates, is computed in the background and drawn under the points in
green (a face found, with MTCNN's confidence as the opacity); cells without a face stay clear so
the density of the z-points still shows. A new plane or new z-points clear it; moving the current
vector marks it as made for the old vector (the status bar says so).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, Signal

from ..errors import InvalidInputError
from ..explore.facemap import DEFAULT_RESOLUTION, plan_face_map, run_face_map

#: colour of a found face (opacity = confidence)
FACE_RGB = (0, 170, 60)
MAX_ALPHA = 150


def map_rgba(confidence: np.ndarray) -> np.ndarray:
    """(ny, nx) confidences → (nx, ny, 4) uint8 for a pyqtgraph ImageItem (column-major axes)."""
    c = np.clip(np.asarray(confidence, dtype=np.float32), 0.0, 1.0)
    rgba = np.zeros(c.shape + (4,), np.uint8)
    rgba[..., :3] = FACE_RGB
    rgba[..., 3] = np.round(c * MAX_ALPHA).astype(np.uint8)
    return np.transpose(rgba, (1, 0, 2))


def face_map_job(params, reporter):
    return run_face_map(params["plan"], params["decoder"], reporter)


class FaceMapOverlay(QObject):
    """See the module docstring. ``ready(FaceMap)`` is emitted when a map is shown."""

    JOB = "face map"
    ready = Signal(object)

    def __init__(self, scatter, state, runner, parent=None) -> None:
        super().__init__(parent)
        self.scatter, self.state, self.model, self.runner = scatter, state, state.model, runner
        self.result = None
        self.item = pg.ImageItem()
        self.item.setZValue(-5)  # over the density image, under every point and curve
        self.item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.item.hide()
        scatter.addItem(self.item)
        state.planeChanged.connect(lambda _p: self.clear())
        state.dataChanged.connect(lambda _m: self.clear())

    @property
    def visible(self) -> bool:
        return self.item.isVisible()

    def compute(self, resolution: int = DEFAULT_RESOLUTION):
        """Start the map over the visible rectangle; returns the worker (None: nothing to do)."""
        if self.runner.is_running(self.JOB):
            return None
        if self.state.decoder is None or self.model.z is None:
            self.state.errorOccurred.emit("Face-likeness map: open a trained and encoded workspace first.")
            return None
        (x0, x1), (y0, y1) = self.scatter.getViewBox().viewRange()
        try:
            plan = plan_face_map(self.model, resolution=resolution, extent=(x0, x1, y0, y1))
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(f"Face-likeness map: {exc}")
            return None
        self.state.notice.emit(f"face map: decoding and judging {len(plan.z):,} points …")
        worker = self.runner.start(self.JOB, face_map_job, {"plan": plan, "decoder": self.state.decoder})
        worker.result.connect(lambda fmap, plane=plan.plane: self._show(fmap) if plane == self.model.plane
                              else None)
        worker.error.connect(lambda msg: self.state.errorOccurred.emit(f"Face-likeness map: {msg}"))
        return worker

    def _show(self, fmap) -> None:
        self.result = fmap
        x0, x1, y0, y1 = fmap.extent
        self.item.setImage(map_rgba(fmap.confidence), autoLevels=False)
        self.item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.item.show()
        self.state.notice.emit(f"face map: a face in {fmap.face_fraction:.0%} of {fmap.confidence.size:,} "
                               f"cells ({fmap.seconds:.1f} s); green = MTCNN finds a face")
        self.ready.emit(fmap)

    def set_visible(self, on: bool) -> None:
        self.item.setVisible(bool(on) and self.result is not None)

    def clear(self) -> None:
        self.result = None
        self.item.hide()
