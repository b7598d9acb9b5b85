"""``AppState``: the Qt face of the explorer's one application state.

The state itself is :class:`~latentexplorer.explore.model.ExplorationModel` (``state.model``, no
Qt). AppState re-emits every model event as a Qt signal carrying the new value, and holds what only
the GUI has: the open workspace, its dataset and the decoder. Widgets read ``state.model``, change it
through its methods and observe these signals; they keep no application state of their own.

=========================  ====================================================================
signal (value)             emitted when
=========================  ====================================================================
``dataChanged(model)``     new z-points (or none)
``analysisChanged(a)``     the PCA / statistics / neighbour index arrived (ExplorerAnalysis)
``planeChanged(Plane)``    the plane changed
``currentChanged(c)``      the current vector changed (``Current`` or None)
``overlayChanged(s, f)``   the σ level or fact slider changed
``sharpenChanged(f)``      the sharpening factor changed
``colorByChanged(name)``   the colouring changed
``modesChanged(s, p)``     snap-to-point / path mode changed
``thresholdsChanged(t)``   the dominant-component thresholds changed
``samplesChanged(z)``      generated vectors to show changed
``pathChanged(path)``      the path changed (PlanePath, DirectionPath or None)
``imageChanged(img)``      the current vector was decoded
``layersChanged(layers)``  named latent sets shown as extra layers ({name: z})
``selectionChanged(idx)``  the selected indices (or isolate) changed
``filterChanged(f)``       the search / attribute filter (or cross-filtering) changed
``toolChanged(tool)``      the scatter's selection tool ("rect", "lasso" or None)
``workspaceChanged(ws)``   a workspace was opened (or closed)
``decoderChanged(dec)``    the decoder was set or replaced (after a training epoch)
``staleChanged(msg)``      the z-points stopped (or started) matching the model / dataset
``errorOccurred(msg)``     a user-readable error to show
``notice(msg)``            a confirmation for the status bar ("saved to ...")
=========================  ====================================================================
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..explore.model import ExplorationModel

#: the model's events, re-emitted under the same names
MODEL_EVENTS = ("dataChanged", "analysisChanged", "planeChanged", "currentChanged", "overlayChanged",
                "sharpenChanged", "colorByChanged", "modesChanged", "thresholdsChanged",
                "samplesChanged", "pathChanged", "imageChanged", "layersChanged", "selectionChanged",
               "filterChanged", "toolChanged")
#: training images kept for hover cards and neighbour lists
THUMB_CACHE_SIZE = 512


class AppState(QObject):
    """See the module docstring."""

    dataChanged = Signal(object)
    analysisChanged = Signal(object)
    planeChanged = Signal(object)
    currentChanged = Signal(object)
    overlayChanged = Signal(float, float)
    sharpenChanged = Signal(float)
    colorByChanged = Signal(object)
    modesChanged = Signal(bool, bool)
    thresholdsChanged = Signal(object)
    samplesChanged = Signal(object)
    pathChanged = Signal(object)
    imageChanged = Signal(object)
    layersChanged = Signal(object)
    selectionChanged = Signal(object)
    filterChanged = Signal(object)
    toolChanged = Signal(object)
    workspaceChanged = Signal(object)
    decoderChanged = Signal(object)
    staleChanged = Signal(object)
    errorOccurred = Signal(str)
    notice = Signal(str)

    def __init__(self, model: ExplorationModel | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model or ExplorationModel()
        self.workspace = None
        self.dataset = None  # the workspace's DatasetStore (thumbnails, file names)
        self.decoder = None  # latentexplorer.models.codec.Decoder
        self.decoder_fingerprint: str | None = None
        self._thumbs: dict[int, object] = {}
        for name in MODEL_EVENTS:
            getattr(self.model, name).connect(_relay(getattr(self, name)))

    def set_workspace(self, ws, dataset=None) -> None:
        self.workspace, self.dataset = ws, dataset
        self._thumbs = {}
        self.workspaceChanged.emit(ws)

    def set_decoder(self, decoder, fingerprint: str | None = None) -> None:
        """Install ``decoder`` (a models.codec.Decoder) with its weights fingerprint."""
        self.decoder, self.decoder_fingerprint = decoder, fingerprint
        self.decoderChanged.emit(decoder)

    def thumbnail(self, index: int):
        """The training image (H, W, 3) of data point ``index`` (None without a dataset); the
        last :data:`THUMB_CACHE_SIZE` are kept (hovering reads the same few again and again)."""
        ds, index = self.dataset, int(index)
        if ds is None or not 0 <= index < ds.n:
            return None
        img = self._thumbs.get(index)
        if img is None:
            if len(self._thumbs) >= THUMB_CACHE_SIZE:
                self._thumbs.pop(next(iter(self._thumbs)))  # the oldest (dicts keep insertion order)
            img = self._thumbs[index] = np.array(ds.images[index])  # read once from the store
        return img


def _relay(signal):
    return lambda *args: signal.emit(*args)
