"""The controls left of the scatter: plane (coordinate system, two axes, quick list), ellipse sliders,
colouring and mouse modes. They show ``state.model`` and change it; they keep nothing of their own."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from ..errors import InvalidInputError
from ..explore.clusters import CLUSTER_COLORING, MAX_CLUSTERS
from ..explore.plane import Plane
from .state import AppState
from .widgets import LabeledSlider


class PlaneControls(QWidget):
    """See the module docstring."""

    def __init__(self, state: AppState, scatter, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = state.model
        self._syncing = False

        plane_box = QGroupBox("Plane")
        pf = QFormLayout(plane_box)
        pf.setContentsMargins(6, 4, 6, 4)
        self.kind = QComboBox()
        self.kind.addItem("Latent components", "latent")
        self.kind.addItem("PCA components", "pca")
        self.kind.setToolTip("Coordinate system of the scatter: two components of z, or two "
                             "principal axes of the z-points (PCA)")
        self.x_spin, self.y_spin = QSpinBox(), QSpinBox()
        for spin, axis in ((self.x_spin, "Horizontal"), (self.y_spin, "Vertical")):
            spin.setToolTip(f"{axis} axis: latent component index (0-based) or PCA axis "
                            "(PC 1 = largest variance)")
        axes = QHBoxLayout()
        axes.addWidget(QLabel("x"))
        axes.addWidget(self.x_spin, 1)
        axes.addWidget(QLabel("y"))
        axes.addWidget(self.y_spin, 1)
        pf.addRow(self.kind)
        pf.addRow(axes)
        self.quick = QListWidget()
        self.quick.setMaximumHeight(150)
        self.quick.setToolTip("Dominant latent components (|μ| ≥ 0.25 or FWHM ≥ 1.5, widest first) or "
                              "the leading PCA axes.\nClick: horizontal axis; Ctrl/Shift+click: "
                              "vertical axis.")
        self.quick_label = QLabel("Dominant components")
        pf.addRow(self.quick_label)
        pf.addRow(self.quick)

        ov_box = QGroupBox("Ellipses")
        of = QVBoxLayout(ov_box)
        of.setContentsMargins(6, 4, 6, 4)
        self.sigma = LabeledSlider("σ level", 0.25, 4.0, 0.05, self.model.sigma_level,
                                   tooltip="Sigma level of the confidence ellipse (red): for a "
                                           "Gaussian cloud 1 − exp(−k²/2) of the points lie inside; "
                                           "also the ellipse sampler's half-axes (k·σ)")
        self.fact = LabeledSlider("fact", 0.05, 1.5, 0.05, self.model.fact,
                                  tooltip="Scale of the sampling ellipse (dashed): half-axes "
                                          "= σ level × σ × fact (seed: 0.6–0.8 gave faces)")
        of.addWidget(self.sigma)
        of.addWidget(self.fact)

        view_box = QGroupBox("View")
        vf = QFormLayout(view_box)
        vf.setContentsMargins(6, 4, 6, 4)
        self.color_by = QComboBox()
        self.color_by.setToolTip("Colour the z-points by their density, by KMeans cluster (fitted on "
                                 "all points in the background) or by an attribute of the images "
                                 "(CelebA attributes or synthetic-face factors)")
        self.n_clusters = QSpinBox()
        self.n_clusters.setRange(2, MAX_CLUSTERS)
        self.n_clusters.setPrefix("k ")
        self.n_clusters.setKeyboardTracking(False)  # refit once the number is typed, not per digit
        self.n_clusters.setToolTip("Number of KMeans clusters (a new k refits in the background); "
                                   "click a cluster in the scatter's legend to select its points")
        colour_row = QHBoxLayout()
        colour_row.addWidget(self.color_by, 1)
        colour_row.addWidget(self.n_clusters)
        vf.addRow("Colour", colour_row)
        self.snap = QCheckBox("Snap to data point")
        self.snap.setToolTip("Clicks select the nearest data point's own z-vector (same as Ctrl+click)")
        self.path_mode = QCheckBox("Path mode")
        self.path_mode.setToolTip("Drag draws a path and clicks add waypoints (same as Shift+drag); "
                                  "the strip below shows the decoded faces along it")
        self.reset = QPushButton("Reset zoom")
        self.reset.setToolTip("Zoom to the bulk of the z-points (Ctrl+0)")
        vf.addRow(self.snap)
        vf.addRow(self.path_mode)
        vf.addRow(self.reset)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(plane_box)
        lay.addWidget(ov_box)
        lay.addWidget(view_box)
        lay.addStretch(1)
        self.setFixedWidth(230)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.x_spin.valueChanged.connect(self._axes_changed)
        self.y_spin.valueChanged.connect(self._axes_changed)
        self.quick.itemClicked.connect(self._quick_clicked)
        self.sigma.valueChanged.connect(lambda v: self._apply_value(self.model.set_sigma_level, v))
        self.fact.valueChanged.connect(lambda v: self._apply_value(self.model.set_fact, v))
        self.color_by.currentIndexChanged.connect(self._color_changed)
        self.n_clusters.valueChanged.connect(lambda k: self._apply_value(self.model.set_n_clusters, k)
                                             if not self._syncing else None)
        self.snap.toggled.connect(lambda on: self.model.set_modes(snap=on))
        self.path_mode.toggled.connect(lambda on: self.model.set_modes(path_mode=on))
        self.reset.clicked.connect(scatter.refresh_data)

        state.planeChanged.connect(lambda _p: self.sync())
        state.analysisChanged.connect(lambda _a: self.sync())
        state.thresholdsChanged.connect(lambda _t: self.sync())
        state.dataChanged.connect(lambda _m: self._fill_color_by())
        state.colorByChanged.connect(lambda _c: self._fill_color_by())
        state.overlayChanged.connect(self._sync_sliders)
        state.modesChanged.connect(self._sync_modes)
        self._fill_color_by()
        self.sync()

    # ------------------------------------------------------------------ from the model
    def sync(self) -> None:
        m = self.model
        self._syncing = True
        try:
            p = m.plane
            self.kind.setCurrentIndex(0 if p.kind == "latent" else 1)
            pca_item = self.kind.model().item(1)
            pca_item.setEnabled(m.n_pca >= 2)
            pca_item.setToolTip("" if m.n_pca >= 2 else "PCA is being computed")
            n = m.z_dim if p.kind == "latent" else m.n_pca
            off = 0 if p.kind == "latent" else 1  # PCA axes are shown 1-based
            for spin, v in ((self.x_spin, p.i), (self.y_spin, p.j)):
                spin.setPrefix("" if p.kind == "latent" else "PC ")
                spin.setRange(off, max(off, n - 1 + off))
                spin.setValue(v + off)
            self._fill_quick()
        finally:
            self._syncing = False

    def _sync_sliders(self, sigma: float, fact: float) -> None:
        self.sigma.setValue(sigma)
        self.fact.setValue(fact)

    def _sync_modes(self, snap: bool, path_mode: bool) -> None:
        for box, on in ((self.snap, snap), (self.path_mode, path_mode)):
            if box.isChecked() != on:
                box.setChecked(on)

    def _fill_quick(self) -> None:
        m = self.model
        self.quick.clear()
        a = m.analysis
        if m.plane.kind == "latent":
            self.quick_label.setText("Dominant components")
            dom = m.dominant()[:64]
            for k in dom:
                it = QListWidgetItem(f"z[{k}]   μ {a.stats.mu[k]:+.2f}  FWHM {a.stats.half_width[k]:.2f}")
                it.setData(Qt.UserRole, int(k))
                self.quick.addItem(it)
            if not dom:
                it = QListWidgetItem("(statistics being computed)" if m.z is not None and a is None
                                     else "(none)")
                it.setFlags(Qt.NoItemFlags)
                self.quick.addItem(it)
        else:
            self.quick_label.setText("Leading PCA axes")
            ratio = a.pca.explained_variance_ratio_ if a is not None else None
            for k in range(min(m.n_pca, 32)):
                text = f"PC {k + 1}" + (f"   {100 * ratio[k]:.1f} % var" if ratio is not None else "")
                it = QListWidgetItem(text)
                it.setData(Qt.UserRole, k)
                self.quick.addItem(it)

    def _fill_color_by(self) -> None:
        m = self.model
        self._syncing = True
        try:
            self.color_by.clear()
            self.color_by.addItem("none", None)
            self.color_by.addItem("density", "density")
            self.color_by.addItem("KMeans cluster", CLUSTER_COLORING)
            for name in m.attribute_names:
                self.color_by.addItem(name, name)
            self.color_by.setCurrentIndex(max(self.color_by.findData(m.color_by), 0))
            self.n_clusters.setValue(m.n_clusters)
            self.n_clusters.setVisible(m.color_by == CLUSTER_COLORING)
        finally:
            self._syncing = False

    # ------------------------------------------------------------------ to the model
    def _apply(self, plane: Plane) -> None:
        try:
            self.model.set_plane(plane)
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(str(exc))
            self.sync()

    def _apply_value(self, setter, value) -> None:
        try:
            setter(value)
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(str(exc))

    def _kind_changed(self, _idx: int) -> None:
        kind = self.kind.currentData()
        if not self._syncing and kind != self.model.plane.kind:
            self._apply(Plane(kind, 0, 1))

    def _axes_changed(self, _v: int) -> None:
        if self._syncing:
            return
        p = self.model.plane
        off = 0 if p.kind == "latent" else 1
        i, j = self.x_spin.value() - off, self.y_spin.value() - off
        if i == j:  # keep the plane valid: swap with the old value
            if self.sender() is self.x_spin:
                j = p.i
            else:
                i = p.j
        self._apply(Plane(p.kind, i, j))

    def _quick_clicked(self, item: QListWidgetItem) -> None:
        k = item.data(Qt.UserRole)
        if k is None:
            return
        p = self.model.plane
        i, j = p.i, p.j
        if QApplication.keyboardModifiers() & (Qt.ControlModifier | Qt.ShiftModifier):
            j, i = k, (p.j if k == i else i)
        else:
            i, j = k, (p.i if k == j else j)
        self._apply(Plane(p.kind, i, j))

    def _color_changed(self, _idx: int) -> None:
        if not self._syncing:
            self._apply_value(self.model.set_color_by, self.color_by.currentData())
