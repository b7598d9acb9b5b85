"""Search and filter bar above the scatter: a file-name search and an attribute range.

Points that do not match are greyed out in the scatter (as the rest of an isolated selection);
the filter is :class:`~latentexplorer.explore.selection.PointFilter` state of the model.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ..errors import InvalidInputError
from ..explore.selection import PointFilter

#: typing pauses this long before the filter is applied (one mask per pause, not per key)
TYPING_DELAY_MS = 250


class FilterBar(QWidget):
    """See the module docstring."""

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.model = state, state.model
        self.search = QLineEdit()
        self.search.setPlaceholderText("search file names…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Grey out the points whose file name does not contain this text "
                               "(case-insensitive)")
        self.attribute = QComboBox()
        self.attribute.setToolTip("Filter by the value of this attribute")
        self.low, self.high = QLineEdit(), QLineEdit()
        for edit, what in ((self.low, "min"), (self.high, "max")):
            edit.setPlaceholderText(what)
            edit.setMaximumWidth(70)
            edit.setToolTip(f"Keep points whose attribute is >= / <= this value ({what}; empty: no limit)")
        self.cross = QCheckBox("Cross-filter")
        self.cross.setToolTip("Also restrict the generator and the Analysis tab's histograms and "
                              "analyses to the matching points")
        self.clear_button = QPushButton("Clear filter")
        self.clear_button.setToolTip("Show all points in colour again")
        self.status = QLabel("")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.search, 2)
        row.addWidget(self.attribute)
        row.addWidget(self.low)
        row.addWidget(self.high)
        row.addWidget(self.cross)
        row.addWidget(self.clear_button)
        row.addWidget(self.status, 1)

        self._timer = QTimer(self, singleShot=True, interval=TYPING_DELAY_MS)
        self._timer.timeout.connect(self.apply)
        for edit in (self.search, self.low, self.high):
            edit.textChanged.connect(lambda _t: self._timer.start())
            edit.returnPressed.connect(self.apply)
        self.attribute.currentIndexChanged.connect(lambda _i: self._timer.start())
        self.clear_button.clicked.connect(self.clear)
        self.cross.toggled.connect(self.model.set_cross_filter)
        state.dataChanged.connect(self._on_data)
        state.filterChanged.connect(self._on_filter)
        self._on_data()

    def _on_data(self, *_) -> None:
        names = self.model.attribute_names
        self.attribute.blockSignals(True)
        self.attribute.clear()
        self.attribute.addItems(["(attribute)"] + list(names))
        self.attribute.blockSignals(False)
        self.attribute.setVisible(bool(names))
        self.low.setVisible(bool(names))
        self.high.setVisible(bool(names))
        self.search.setEnabled(bool(self.model.filenames))

    def _on_filter(self, f) -> None:
        mask = self.model.filter_mask()
        self.status.setText("" if mask is None else f"{int(mask.sum()):,} of {self.model.n_points:,} match")

    def _number(self, edit: QLineEdit) -> float | None:
        text = edit.text().strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise InvalidInputError(f"filter: {text!r} is not a number") from None

    def apply(self) -> None:
        """Hand the bar's search text and range to the model."""
        self._timer.stop()
        f = PointFilter(text=self.search.text().strip())
        try:
            if self.attribute.currentIndex() > 0:
                f = f.with_range(self.attribute.currentText(), self._number(self.low), self._number(self.high))
            if f != self.model.point_filter:
                self.model.set_filter(f)
        except InvalidInputError as exc:
            self.status.setText(str(exc))

    def clear(self) -> None:
        for edit in (self.search, self.low, self.high):
            edit.blockSignals(True)
            edit.clear()
            edit.blockSignals(False)
        self.attribute.setCurrentIndex(0)
        self._timer.stop()
        self.model.set_filter(PointFilter())
