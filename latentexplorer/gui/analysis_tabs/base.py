"""Shared base of the analysis tabs: small widget helpers, :class:`_Tab` (state, runner, lazy refresh,
jobs in the worker) and :class:`OnDemandTab` (a slow result computed when the user asks for it, with
progress and cancel through the runner, then plotted)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ...errors import InvalidInputError
from ...progress import ProgressReporter
from .. import analysis_plots as ap
from ..export import add_export_actions

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis_views import AnalysisViews


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def _plot_widget(title: str) -> pg.PlotWidget:
    w = pg.PlotWidget(background="w")
    w.setTitle(title, color="k", size="10pt")
    ap._style(w.getPlotItem())
    w.setMinimumSize(200, 150)
    return w


def _item(text: Any, align_right: bool = True) -> QTableWidgetItem:
    it = QTableWidgetItem(str(text))
    it.setFlags(Qt.ItemIsSelectable | Qt.ItemIsEnabled)
    if align_right:
        it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    return it


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setSelectionBehavior(QAbstractItemView.SelectRows)
    t.setEditTriggers(QAbstractItemView.NoEditTriggers)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    t.setAlternatingRowColors(True)
    return t


# ------------------------------------------------------------------------------------------------
# base tabs
# ------------------------------------------------------------------------------------------------


class _Tab(QWidget):
    """Base of a tab: knows the state and the runner, computes lazily when shown."""

    title = ""

    def __init__(self, views: "AnalysisViews") -> None:
        super().__init__()
        self.views = views
        self.state = views.state
        self.model = views.state.model
        self.runner = views.runner
        self.stale = True
        self.worker = None
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #444;")

    # the main plot for "Export plot…"
    def export_target(self):
        return getattr(self, "plot", None)

    def invalidate(self) -> None:
        self.stale = True
        if self.views.currentWidget() is self and self.isVisible():
            self.refresh()

    def refresh(self) -> None:  # pragma: no cover - abstract
        """Bring the tab up to date (start a job when needed)."""

    def _run(self, name: str, fn: Callable, params: dict, on_result: Callable[[Any], None],
             busy_text: str = "computing …") -> None:
        """Run ``fn(params, reporter)`` as job ``name`` (synchronously without a runner)."""
        self.message.setText(busy_text)
        if self.runner is None:
            try:
                on_result(fn(params, ProgressReporter()))
            except InvalidInputError as exc:
                self._failed(str(exc))
            return
        w = self.runner.start(name, fn, params)
        self.worker = w
        w.result.connect(on_result)
        w.error.connect(self._failed)
        w.cancelled.connect(lambda: self.message.setText("cancelled"))
        w.finished.connect(lambda: setattr(self, "worker", None) if self.worker is w else None)

    def _failed(self, message: str) -> None:
        self.message.setText(f"Error: {message}")
        self.state.errorOccurred.emit(f"{self.title}: {message}")

    def _set_plane(self, kind: str, i: int, j: int) -> None:
        """Ask for the plane (``kind``, i, j) in the Explorer (the window switches there)."""
        self.views.planeRequested.emit((kind, int(i), int(j)))

    def _side_by_side(self, main: QWidget, side: QVBoxLayout, max_width: int) -> None:
        """Lay out ``main`` (stretching) with the ``side`` controls (at most ``max_width`` wide)."""
        side_w = QWidget()
        side_w.setLayout(side)
        side_w.setMaximumWidth(max_width)
        lay = QHBoxLayout(self)
        lay.addWidget(main, 1)
        lay.addWidget(side_w)

    @property
    def busy(self) -> bool:
        return self.worker is not None and not self.worker.is_finished


class OnDemandTab(_Tab):
    """A tab whose result is too slow to compute automatically: the user presses a button, the job
    runs in the worker (progress in the status bar, cancellable there), and the result is plotted —
    unless the z-points changed meanwhile. New z-points drop the result (:meth:`clear`).

    Subclasses set the class attributes, create their controls in :meth:`_build_controls` (returning
    the form rows), and implement :meth:`_params`, :meth:`_set_result` and :meth:`_clear_plot`."""

    JOB = ""
    TASK: Callable[..., dict]  # set as staticmethod(the worker function)
    PLOT_TITLE = ""
    EXPORT_NAME = ""
    BUTTON_TEXT = ""
    BUTTON_TIP = ""
    BUSY_TEXT = "computing …"

    def __init__(self, views) -> None:
        super().__init__(views)
        self.result: dict | None = None
        self.plot = _plot_widget(self.PLOT_TITLE)
        rows = self._build_controls()
        self.compute_button = QPushButton(self.BUTTON_TEXT)
        self.compute_button.setToolTip(self.BUTTON_TIP)
        self.compute_button.clicked.connect(self.compute)
        form = QFormLayout()
        for label, widget in rows:
            form.addRow(label, widget)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.compute_button)
        for widget in self._side_widgets():
            side.addWidget(widget)
        side.addWidget(self.message)
        side.addStretch(1)
        self._side_by_side(self.plot, side, 260)
        add_export_actions(self.plot, self.EXPORT_NAME, self, state=self.state)

    # ---------------------------------------------------------------- to implement
    def _build_controls(self) -> list[tuple[str, QWidget]]:  # pragma: no cover - abstract
        """Create the plot items and controls; return the ``(label, widget)`` form rows."""
        return []

    def _side_widgets(self) -> list[QWidget]:
        """Extra widgets below the compute button."""
        return []

    def _params(self, z) -> dict:  # pragma: no cover - abstract
        """The job's parameters for the points ``z``."""
        return {"z": z}

    def _set_result(self, res: dict) -> None:  # pragma: no cover - abstract
        self.result = res

    def _clear_plot(self) -> None:  # pragma: no cover - abstract
        """Remove the drawn result."""

    # ---------------------------------------------------------------- shared behaviour
    def refresh(self) -> None:
        self.stale = False
        if self.model.z is None:
            self.message.setText("No z-points loaded")
        elif self.result is None and not self.busy:
            self.message.setText(f"Press '{self.BUTTON_TEXT}' (runs in the background)")

    def clear(self) -> None:
        self.result = None
        self._clear_plot()

    def _data_key(self) -> tuple:
        m = self.model
        return id(m.z), m.point_filter, m.cross_filter

    def compute(self) -> None:
        z = self.model.filtered_z()  # cross-filtering: the points the filter keeps
        if z is None or len(z) < 2:
            return
        key = self._data_key()
        self._run(self.JOB, self.TASK, self._params(z),
                  lambda res, key=key: self._set_result(res) if self._data_key() == key else None,
                  self.BUSY_TEXT)
