"""Directions of the current vector: PCA (GANSpace), SeFa (the decoder's first layer) or attributes,
a slider per direction, orthogonalisation, the entanglement report and grids along a direction.

Each slider sets the current vector's coordinate along one unit direction (relative to the mean of
the z-points, range ±3 σ of the data along it), like the PCA component sliders; every other part of
the vector is kept, so for directions that are not orthogonal the other sliders follow. *Orthogonalise
against* makes every direction orthogonal to the checked attributes' directions (InterFaceGAN's
conditional manipulation). *Entanglement report* measures, before and after, how moving along each
direction changes the attributes of the nearest real points (a background job when the panel has a
runner). *Export grid…* decodes the current vector moved along the chosen direction and writes a PNG
with its JSON sidecar (:func:`latentexplorer.gui.export.export_grid`). The numbers come from
:mod:`latentexplorer.analysis.directions` and :mod:`latentexplorer.analysis.entanglement`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..errors import InvalidInputError
from .state import AppState
from .widgets import LabeledSlider

#: sliders span ±SPAN standard deviations of the z-points along each direction
SPAN = 3.0
STEPS = 120
METHOD_LABELS = (("pca", "PCA (GANSpace)"), ("sefa", "SeFa (decoder)"), ("attribute", "Attributes"))


def entanglement_job(params: dict, reporter):
    """Qt-free task: the report of ``directions`` and, when given, of ``ortho`` (before, after)."""
    from ..analysis.entanglement import entanglement_report

    opts = dict(attribute_names=params["names"], steps=params["steps"], n_starts=params["starts"],
                n_neighbors=params["neighbors"], random_state=0, progress=reporter,
                neighbors=params["index"])
    before = entanglement_report(params["z"], params["directions"], params["attributes"], **opts)
    ortho = params.get("ortho")
    after = None if ortho is None else entanglement_report(params["z"], ortho, params["attributes"],
                                                           **opts)
    return before, after


class DirectionsPanel(QGroupBox):
    """See the module docstring.

    Signals
    -------
    directionsChanged(object) : the shown :class:`Directions` (or None)
    reportReady(object) : ``(before, after)`` :class:`EntanglementReport` (after None without
        orthogonalisation)
    """

    directionsChanged = Signal(object)
    reportReady = Signal(object)

    def __init__(self, state: AppState, runner=None, parent: QWidget | None = None) -> None:
        super().__init__("Directions of the current vector", parent)
        self.state, self.model, self.runner = state, state.model, runner
        self.directions = None        # what the sliders move along (orthogonalised if asked)
        self.original = None          # the same before orthogonalisation (None without)
        self.sigma = np.zeros(0)
        self.report = None
        self.setToolTip("Move the current z-vector along latent directions and see how entangled "
                        "they are with the attributes")
        self.method_combo = QComboBox()
        for key, label in METHOD_LABELS:
            self.method_combo.addItem(label, key)
        self.method_combo.setToolTip("PCA: principal axes of the z-points; SeFa: closed-form "
                                     "directions of the decoder's first Dense layer; Attributes: "
                                     "mean difference of each checked attribute's groups")
        self.count = QSpinBox()
        self.count.setRange(1, 16)
        self.count.setValue(4)
        self.count.setToolTip("PCA / SeFa: how many directions")
        self.attr_list = self._check_list("Attributes whose directions are wanted (Attributes)")
        self.ortho_list = self._check_list("Orthogonalise every direction against these "
                                           "attributes' directions")
        self.compute_button = QPushButton("Compute")
        self.compute_button.setToolTip("Compute the directions and make a slider for each")
        self.steps = QSpinBox()
        self.steps.setRange(2, 41)
        self.steps.setValue(7)
        self.steps.setToolTip("Steps along a direction (report and grid)")
        self.span = QDoubleSpinBox()
        self.span.setRange(0.1, 10.0)
        self.span.setValue(2.0)
        self.span.setSuffix(" σ")
        self.span.setToolTip("Steps run from −R to +R standard deviations of the data along it")
        self.report_button = QPushButton("Entanglement report")
        self.report_button.setToolTip("Cosines between the directions and how moving along each "
                                      "changes the attributes of the 10 nearest real points")
        self.export_combo = QComboBox()
        self.export_combo.setToolTip("The direction the grid runs along")
        self.export_button = QPushButton("Export grid…")
        self.export_button.setToolTip("Decode the current vector moved along the chosen direction "
                                      "and save PNG + JSON sidecar")
        self.info = QLabel("Choose a method and press Compute")
        self.info.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.setToolTip("Cosines between the directions, then the change per σ step of the "
                              "fraction of nearest real points having each attribute")
        self.table.hide()
        self._rows = QVBoxLayout()
        self._rows.setSpacing(0)
        self.sliders: list[LabeledSlider] = []

        grid = QGridLayout()
        grid.addWidget(QLabel("method"), 0, 0)
        grid.addWidget(self.method_combo, 0, 1)
        grid.addWidget(self.count, 0, 2)
        grid.addWidget(QLabel("attributes"), 1, 0)
        grid.addWidget(QLabel("orthogonalise against"), 1, 1, 1, 2)
        grid.addWidget(self.attr_list, 2, 0)
        grid.addWidget(self.ortho_list, 2, 1, 1, 2)
        grid.setRowStretch(2, 1)  # spare height goes to the lists, not to their labels
        # three short rows, not one long one: the dock shares the right side with the decoded
        # face (about 290 px at 1366 x 768) and a wide row would widen the whole window
        steps_row, export_row = QHBoxLayout(), QHBoxLayout()
        for w in (QLabel("steps"), self.steps, QLabel("range ±"), self.span):
            steps_row.addWidget(w)
        steps_row.addStretch(1)
        export_row.addWidget(self.export_combo, 1)
        export_row.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(grid)
        lay.addWidget(self.compute_button)
        lay.addWidget(self.info)
        lay.addLayout(self._rows)
        lay.addLayout(steps_row)
        lay.addWidget(self.report_button)
        lay.addLayout(export_row)
        lay.addWidget(self.table, 1)

        self.compute_button.clicked.connect(self.compute)
        self.report_button.clicked.connect(self.start_report)
        self.export_button.clicked.connect(self.export_dialog)
        self.method_combo.currentIndexChanged.connect(lambda _i: self._method_changed())
        state.dataChanged.connect(lambda _m: self._data_changed())
        state.currentChanged.connect(lambda _c: self.sync())
        self._data_changed()

    @staticmethod
    def _check_list(tip: str) -> QListWidget:
        w = QListWidget()
        w.setToolTip(tip)
        # about five names show (the rest scroll): the report table below needs the height
        w.setMaximumHeight(w.fontMetrics().height() * 5 + 2 * w.frameWidth() + 8)
        return w

    # ------------------------------------------------------------------ inputs
    @property
    def method(self) -> str:
        return self.method_combo.currentData()

    @staticmethod
    def checked(lst: QListWidget) -> list[str]:
        return [lst.item(i).text() for i in range(lst.count())
                if lst.item(i).checkState() == Qt.Checked]

    def _data_changed(self) -> None:
        for lst in (self.attr_list, self.ortho_list):
            lst.clear()
            for name in self.model.attribute_names:
                item = QListWidgetItem(name)
                item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
                item.setCheckState(Qt.Unchecked)
                lst.addItem(item)
        self._set_directions(None, None)
        self._method_changed()

    def _method_changed(self) -> None:
        attr = self.method == "attribute"
        self.attr_list.setEnabled(attr)
        self.count.setEnabled(not attr)

    # ------------------------------------------------------------------ directions
    def compute(self) -> None:
        """Compute the chosen directions (and their orthogonalised version) from the model."""
        from ..analysis.directions import first_dense_kernel, make_directions

        m = self.model
        try:
            if m.z is None:
                raise InvalidInputError("no z-points: open a workspace first")
            kernel = None
            if self.method == "sefa":
                if self.state.decoder is None:
                    raise InvalidInputError("SeFa needs the decoder: open a workspace with a model")
                kernel = first_dense_kernel(self.state.decoder.model)
            pca = m.analysis.pca if m.analysis is not None else None
            original, ortho = make_directions(
                self.method, m.z, count=self.count.value(), select=self.checked(self.attr_list),
                orthogonal_to=self.checked(self.ortho_list), attributes=m.attributes,
                attribute_names=m.attribute_names, pca=pca, kernel=kernel)
        except InvalidInputError as exc:
            self.info.setText(f"directions: {exc}")
            self.state.errorOccurred.emit(str(exc))
            return
        if ortho is None:
            self._set_directions(original, None)
        else:
            self._set_directions(ortho, original)

    def _set_directions(self, dirs, original) -> None:
        from ..analysis.entanglement import projection_std

        self.directions, self.original, self.report = dirs, original, None
        self.sigma = np.zeros(0) if dirs is None else projection_std(self.model.z, dirs.vectors)
        self.table.hide()
        self.export_combo.clear()
        for s in self.sliders:
            self._rows.removeWidget(s)
            s.deleteLater()
        self.sliders = []
        if dirs is not None:
            self.export_combo.addItems(dirs.labels())
            for k, (label, sd, score) in enumerate(zip(dirs.labels(), self.sigma, dirs.scores)):
                rng = SPAN * float(sd) or 1.0
                s = LabeledSlider(label[:18], -rng, rng, 2 * rng / STEPS, 0.0,
                                  tooltip=f"{label}: coordinate of the current vector along it "
                                          f"(σ = {sd:.3g}, ±{SPAN:g} σ; {dirs.score_name} "
                                          f"{score:.3g})")
                s.valueChanged.connect(lambda v, k=k: self._moved(k, v))
                self._rows.addWidget(s)
                self.sliders.append(s)
            self.info.setText(f"{len(dirs)} {dirs.method} directions"
                              + (" (orthogonalised)" if original is not None else ""))
        for w in (self.report_button, self.export_button, self.export_combo):
            w.setEnabled(dirs is not None)
        self.sync()
        self.directionsChanged.emit(dirs)

    def _mean(self) -> np.ndarray:
        a = self.model.analysis
        return np.asarray(a.pca.mean_ if a is not None else self.model.z.mean(axis=0), np.float64)

    def coords(self) -> np.ndarray:
        """The current vector's coordinates (k,) along the directions, relative to the mean."""
        v = np.asarray(self.model.current.vector, dtype=np.float64)
        return (v - self._mean()) @ self.directions.vectors.T

    def sync(self) -> None:
        """Show the current vector's coordinates (without moving it)."""
        if not self.sliders or self.model.current is None:
            return
        for s, c in zip(self.sliders, self.coords()):
            s.setValue(float(c))

    def _moved(self, k: int, value: float) -> None:
        if self.model.current is None or self.directions is None:
            return
        u = self.directions.vectors[k]
        v = np.asarray(self.model.current.vector, dtype=np.float64)
        try:
            self.model.set_current(v + (value - float(self.coords()[k])) * u)
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(str(exc))

    # ------------------------------------------------------------------ entanglement report
    def _report_params(self) -> dict:
        m, dirs = self.model, self.directions
        if m.attributes is None or not m.attribute_names:
            raise InvalidInputError("the report needs attributes: the workspace's store has none")
        wanted = self.checked(self.attr_list) + self.checked(self.ortho_list)
        names = list(dict.fromkeys(wanted)) or list(m.attribute_names)
        cols = [m.attribute_names.index(s) for s in names]
        return {"z": m.z, "attributes": np.asarray(m.attributes)[:, cols], "names": names,
                "directions": dirs if self.original is None else self.original,
                "ortho": None if self.original is None else dirs,
                "steps": np.linspace(-self.span.value(), self.span.value(), self.steps.value()),
                "starts": 32, "neighbors": 10,
                # the explorer's exact index (None before the analysis: the report builds one)
                "index": None if m.analysis is None else m.analysis.nearest}

    def start_report(self) -> None:
        """Measure the entanglement (a background job with a runner, else at once)."""
        if self.directions is None:
            return
        try:
            params = self._report_params()
        except InvalidInputError as exc:
            self.info.setText(f"report: {exc}")
            return
        self.info.setText("measuring the entanglement…")
        if self.runner is None:
            self._show_report(entanglement_job(params, None))
            return
        worker = self.runner.start("entanglement", entanglement_job, params)
        dirs = self.directions
        worker.result.connect(lambda res: self._show_report(res) if self.directions is dirs else None)
        worker.error.connect(lambda msg: self.info.setText(f"report: {msg}"))

    def _show_report(self, result) -> None:
        before, after = result
        self.report = result
        reports = [before] if after is None else [before, after]
        names = [f"{n} (before)" for n in before.direction_names] if after is not None else []
        names += (after or before).direction_names
        k, attrs = len(before.direction_names), before.attribute_names
        t = self.table
        t.clear()
        t.setRowCount(len(names))
        t.setColumnCount(k + len(attrs))
        t.setHorizontalHeaderLabels([f"cos {j + 1}" for j in range(k)] + [f"{a} /σ" for a in attrs])
        t.setVerticalHeaderLabels(names)
        row = 0
        for rep in reports:
            for i in range(k):
                values = list(rep.cosines[i]) + list(rep.slopes[i])
                for j, x in enumerate(values):
                    item = QTableWidgetItem("–" if not np.isfinite(x) else
                                            f"{x:+.2f}" if j < k else f"{x:+.3f}")
                    item.setData(Qt.UserRole, float(x))
                    t.setItem(row, j, item)
                row += 1
        t.resizeColumnsToContents()
        t.show()
        self.info.setText(f"entanglement: change per σ step of the fraction of the "
                          f"{before.n_neighbors} nearest real points having each attribute")
        self.reportReady.emit(result)

    # ------------------------------------------------------------------ export
    def grid_vectors(self, k: int) -> np.ndarray:
        """The current vector moved along direction ``k`` by the steps, (steps, z_dim) float32."""
        from ..analysis.directions import direction_grid

        steps = np.linspace(-self.span.value(), self.span.value(), self.steps.value())
        return direction_grid(self.model.current.vector[None, :], self.directions.vectors[k],
                              self.sigma[k], steps)

    def export_dialog(self) -> None:
        """Ask for a file name (in the workspace's results/) and write the grid + sidecar."""
        from ..analysis.directions import grid_settings
        from .export import ask_save_path, export_grid

        k = self.export_combo.currentIndex()
        if self.directions is None or k < 0 or self.model.current is None:
            return
        if self.state.decoder is None:
            self.state.errorOccurred.emit("Export grid: no decoder (open a workspace with a model)")
            return
        name = f"direction_{self.directions.names[k]}.png".replace(" ", "_")
        path = ask_save_path(self, "Export grid along a direction", "export", "PNG image (*.png)",
                             name, workspace=self.state.workspace)
        if path is None:
            return
        steps = np.linspace(-self.span.value(), self.span.value(), self.steps.value())
        try:
            vectors = self.grid_vectors(k)
            png, _json = export_grid(
                path, vectors, self.state.decoder.decode(vectors), generator="direction",
                settings=grid_settings(self.directions, k, steps, self.sigma[k], 1, 0,
                                       row_starts="the current vector"),
                fingerprint=self.state.decoder_fingerprint, rows=1, cols=len(steps),
                sharpen=self.model.sharpen)
            self.state.notice.emit(f"Grid saved: {png}")
        except (InvalidInputError, OSError) as exc:
            self.state.errorOccurred.emit(f"Export of the grid failed: {exc}")
