"""Named latent sets as extra layers of the scatter (``encode --data STORE --name NAME``).

Each set — held-out photos, a user's own pictures — is drawn as dots of its own colour over the
training cloud, in the current plane, with a legend entry; View > Layers shows or hides each one.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal

from ..errors import InvalidInputError
from .scatter_items import FastPointsItem

#: colours of the layers, in order (Okabe-Ito: distinguishable with colour-blindness)
# Okabe-Ito colours, those far from viridis (the density colouring) first
PALETTE = [(213, 94, 0), (204, 121, 167), (230, 159, 0), (0, 114, 178), (86, 180, 233), (0, 158, 115)]


class LayersOverlay(QObject):
    """See the module docstring. ``changed(names)`` after the set of layers changed."""

    changed = Signal(list)

    def __init__(self, scatter, state, parent=None) -> None:
        super().__init__(parent)
        self.scatter, self.model = scatter, state.model
        self.items: dict[str, FastPointsItem] = {}
        self.hidden: set[str] = set()
        self._legend: dict[str, pg.ScatterPlotItem] = {}
        state.layersChanged.connect(lambda _l: self.rebuild())
        state.planeChanged.connect(lambda _p: self.refresh())
        state.analysisChanged.connect(lambda _a: self.refresh())

    def rebuild(self) -> None:
        for name in list(self.items):
            if name not in self.model.layers:
                self.scatter.removeItem(self.items.pop(name))
                self.scatter.legend.removeItem(self._legend.pop(name))
        for k, name in enumerate(sorted(self.model.layers)):
            if name in self.items:
                continue
            colour = PALETTE[k % len(PALETTE)]
            item = FastPointsItem(color=(*colour, 230), size=7, symbol="o")
            item.setZValue(14)  # over the training points, under samples and the current vector
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.scatter.addItem(item)
            self.items[name] = item
            swatch = pg.ScatterPlotItem(size=8, symbol="o", pen=None, brush=pg.mkBrush(*colour))
            self._legend[name] = swatch
            self.scatter.legend.addItem(swatch, f"set '{name}' ({len(self.model.layers[name]):,})")
        self.refresh()
        self.changed.emit(sorted(self.items))

    def refresh(self) -> None:
        for name, item in self.items.items():
            if name in self.hidden or self.model.z is None:
                item.setData([], [])
                continue
            try:
                pts = self.model.layer_points(name)
            except InvalidInputError:  # a PCA plane before the PCA
                item.setData([], [])
                continue
            item.setData(pts[:, 0], pts[:, 1])

    def set_visible(self, name: str, on: bool) -> None:
        was_hidden = name in self.hidden
        (self.hidden.discard if on else self.hidden.add)(name)
        swatch = self._legend.get(name)
        if swatch is not None and was_hidden == on:  # the legend lists the shown layers only
            if on:
                self.scatter.legend.addItem(swatch, f"set '{name}' ({len(self.model.layers[name]):,})")
            else:
                self.scatter.legend.removeItem(swatch)
        self.refresh()

    def plotted(self, name: str):
        """The drawn coordinates of layer ``name`` (m, 2) (tests)."""
        import numpy as np

        x, y = self.items[name].getData()
        return np.column_stack([x, y])
