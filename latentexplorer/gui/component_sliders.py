"""A slider per leading PCA component of the current vector (GANSpace style).

Each slider sets one PCA coordinate of the current vector (range ±3 σ of the z-points along that
axis, 0 = the mean); every other coordinate is kept, so several sliders combine. *Mean* resets the
vector to the mean of the z-points, *Data point* to the nearest training image's own vector.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from ..errors import InvalidInputError
from .state import AppState
from .widgets import LabeledSlider

#: sliders span ±SPAN standard deviations of the z-points along each axis
SPAN = 3.0
STEPS = 120


class ComponentSliders(QGroupBox):
    """See the module docstring."""

    def __init__(self, state: AppState, count: int = 6, parent: QWidget | None = None) -> None:
        super().__init__("PCA components of the current vector", parent)
        self.state = state
        self.model = state.model
        self.setToolTip("Move the current z-vector along the leading principal axes of the z-points "
                        "(GANSpace style): each slider sets one PCA coordinate, the others stay")
        self.count = QSpinBox()
        self.count.setRange(1, 16)
        self.count.setValue(count)
        self.count.setToolTip("How many leading components get a slider")
        self.mean_button = QPushButton("Mean")
        self.mean_button.setToolTip("Reset the current vector to the mean of the z-points")
        self.point_button = QPushButton("Data point")
        self.point_button.setToolTip("Reset the current vector to the nearest data point's own vector")
        top = QHBoxLayout()
        top.addWidget(QLabel("sliders"))
        top.addWidget(self.count)
        top.addStretch(1)
        top.addWidget(self.mean_button)
        top.addWidget(self.point_button)
        self._rows = QVBoxLayout()
        self._rows.setSpacing(0)
        self.hint = QLabel("(the PCA of the z-points is being computed)")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.hint)
        lay.addLayout(self._rows)
        self.sliders: list[LabeledSlider] = []

        self.count.valueChanged.connect(lambda _n: self.rebuild())
        self.mean_button.clicked.connect(self._reset_mean)
        self.point_button.clicked.connect(self._reset_point)
        state.analysisChanged.connect(lambda _a: self.rebuild())
        state.currentChanged.connect(lambda _c: self.sync())
        self.rebuild()

    def rebuild(self) -> None:
        """One slider per leading axis (after a new PCA or a new count)."""
        for s in self.sliders:
            self._rows.removeWidget(s)
            s.deleteLater()
        self.sliders = []
        a = self.model.analysis
        self.hint.setVisible(a is None)
        enabled = a is not None
        for w in (self.mean_button, self.point_button):
            w.setEnabled(enabled)
        if a is None:
            return
        std = a.std
        for k in range(min(self.count.value(), self.model.n_pca)):
            rng = SPAN * float(std[k]) or 1.0
            s = LabeledSlider(f"PC {k + 1}", -rng, rng, 2 * rng / STEPS, 0.0,
                              tooltip=f"PCA coordinate {k + 1} of the current vector "
                                      f"(σ = {std[k]:.3g}; the slider spans ±{SPAN:g} σ)")
            s.name_label.setMinimumWidth(38)
            s.valueChanged.connect(lambda v, k=k: self._moved(k, v))
            self._rows.addWidget(s)
            self.sliders.append(s)
        self.sync()

    def sync(self) -> None:
        """Show the current vector's coordinates (without moving it)."""
        if not self.sliders or self.model.current is None or self.model.analysis is None:
            return
        coords = self.model.pca_coords(len(self.sliders))
        for s, c in zip(self.sliders, coords):
            s.setValue(float(c))

    def _moved(self, k: int, value: float) -> None:
        try:
            self.model.set_pca_coords({k: value})
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(str(exc))

    def _reset_mean(self) -> None:
        try:
            self.model.reset_current_to_mean()
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(str(exc))

    def _reset_point(self) -> None:
        res = self.model.nearest_point()
        if res is not None:
            self.model.select_point(res[0])
