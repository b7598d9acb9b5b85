"""The selection panel (a dock): what the lasso / rectangle selected, and the current vector's
nearest data points.

* The count, the decoded MEAN of the selected z-vectors and the decoded MEDOID (the selected point
  with the least total distance to the others; its own training image beside it), decoded in the
  controller's background :class:`~latentexplorer.gui.decoding.DecodeService` (slot "selection").
* Attribute means of the selection against the rest (workspaces with attributes), the attributes
  that differ most first.
* Isolate (the rest greyed out), Export selection… (.npz: indices, file names, z), Save as named
  set… (``WS/latent_sets/NAME``, as ``encode --data --name`` writes: shown in View > Layers and
  usable by ``analyze --compare NAME``).
* The k nearest data points of the current vector (k adjustable), as thumbnails; a click makes
  that point's own z-vector current.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..errors import LatentExplorerError
from ..explore.selection import attribute_contrast, medoid_index, save_selection
from .decoding import background_nearest
from .widgets import to_pixmap

FACE_SIDE = 112
THUMB_SIDE = 48
#: attribute rows shown (those differing most between the selection and the rest)
MAX_ATTRIBUTE_ROWS = 8
SELECTION_FILTER = "NumPy archive (*.npz)"


def _face_label(tip: str) -> QLabel:
    label = QLabel("–")
    label.setFixedSize(FACE_SIDE, FACE_SIDE)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("QLabel { background: #202020; color: #bbbbbb; }")
    label.setToolTip(tip)
    return label


def _show(label: QLabel, img, side: int = FACE_SIDE) -> None:
    if img is None:
        label.clear()
        label.setText("–")
        return
    label.setPixmap(to_pixmap(np.asarray(img)).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                      Qt.TransformationMode.SmoothTransformation))


class SelectionPanel(QWidget):
    """See the module docstring."""

    def __init__(self, state, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.model, self.controller = state, state.model, controller
        self._token = 0
        self.medoid: int | None = None
        self.mean_image: np.ndarray | None = None

        self.count_label = QLabel()
        self.count_label.setWordWrap(True)
        self.rect_button = self._tool_button("Rectangle (R)", "rect",
                                             "Drag a rectangle in the scatter to select the points in it")
        self.lasso_button = self._tool_button("Lasso (L)", "lasso",
                                              "Draw a free outline in the scatter to select the points in it")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Select nothing and leave the selection tool (Esc in the scatter)")
        self.isolate_box = QCheckBox("Isolate")
        self.isolate_box.setToolTip("Grey out the points outside the selection (they stay visible)")
        self.export_button = QPushButton("Export selection…")
        self.export_button.setToolTip("Save the selected indices, file names and z-vectors as .npz")
        self.set_button = QPushButton("Save as named set…")
        self.set_button.setToolTip("Save the selected z-vectors as a named latent set of the workspace "
                                   "(View > Layers; analyze --compare NAME)")
        tools = QHBoxLayout()
        for w in (self.rect_button, self.lasso_button, self.clear_button):
            tools.addWidget(w)
        left = QVBoxLayout()
        left.addWidget(self.count_label)
        left.addLayout(tools)
        left.addWidget(self.isolate_box)
        left.addWidget(self.export_button)
        left.addWidget(self.set_button)
        left.addStretch(1)

        self.mean_face = _face_label("The decoded mean of the selected z-vectors")
        self.medoid_face = _face_label("The decoded medoid: the selected point with the least total "
                                       "distance to the others")
        self.medoid_image = _face_label("The medoid's own training image")
        faces = QGridLayout()
        for col, (w, title) in enumerate(((self.mean_face, "mean (decoded)"),
                                          (self.medoid_face, "medoid (decoded)"),
                                          (self.medoid_image, "medoid (image)"))):
            faces.addWidget(w, 0, col)
            faces.addWidget(QLabel(title, alignment=Qt.AlignmentFlag.AlignCenter), 1, col)
        self.medoid_label = QLabel("")
        faces.addWidget(self.medoid_label, 2, 0, 1, 3)

        self.attr_table = QTableWidget(0, 3)
        self.attr_table.setHorizontalHeaderLabels(["attribute", "selection", "rest"])
        self.attr_table.verticalHeader().hide()
        self.attr_table.setToolTip("Attribute means of the selection and of the other points")
        self.attr_table.setMinimumWidth(220)

        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 32)
        self.k_spin.setValue(6)
        self.k_spin.setToolTip("How many nearest data points of the current vector to show")
        self.knn_row = QHBoxLayout()
        self.knn_row.setSpacing(2)
        self.knn_buttons: list[QToolButton] = []
        strip = QWidget()
        strip.setLayout(self.knn_row)
        scroll = QScrollArea()
        scroll.setWidget(strip)
        scroll.setWidgetResizable(True)
        scroll.setMinimumHeight(THUMB_SIDE + 48)
        knn = QGroupBox("Nearest to the current vector")
        kl = QVBoxLayout(knn)
        top = QHBoxLayout()
        top.addWidget(QLabel("k"))
        top.addWidget(self.k_spin)
        top.addStretch(1)
        kl.addLayout(top)
        kl.addWidget(scroll)

        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.addLayout(left)
        row.addLayout(faces)
        row.addWidget(self.attr_table, 1)
        row.addWidget(knn, 1)

        self.clear_button.clicked.connect(self._clear)
        self.isolate_box.toggled.connect(self.model.set_isolate)
        self.export_button.clicked.connect(self.export_dialog)
        self.set_button.clicked.connect(self.save_named_set_dialog)
        self.k_spin.valueChanged.connect(lambda _k: self.refresh_neighbours())
        state.selectionChanged.connect(lambda _s: self.refresh())
        state.toolChanged.connect(self._on_tool)
        self._knn_token: object = None
        controller.neighbours.done.connect(self._on_neighbours)
        state.currentChanged.connect(lambda _c: self.refresh_neighbours())
        state.analysisChanged.connect(lambda _a: self.refresh_neighbours())
        state.decoderChanged.connect(lambda _d: self.refresh())
        controller.decoding.decoded.connect(self._on_decoded)
        self.refresh()

    def _tool_button(self, text: str, tool: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setCheckable(True)
        b.setToolTip(tip)
        b.toggled.connect(lambda on: self.model.set_select_tool(tool if on else None)
                          if on or self.model.select_tool == tool else None)
        return b

    def _on_tool(self, tool) -> None:
        for b, name in ((self.rect_button, "rect"), (self.lasso_button, "lasso")):
            b.blockSignals(True)
            b.setChecked(tool == name)
            b.blockSignals(False)

    def _clear(self) -> None:
        self.model.set_select_tool(None)
        self.model.set_selection([])

    # ------------------------------------------------------------------ the selection
    def refresh(self) -> None:
        m = self.model
        sel = m.selection
        self.isolate_box.blockSignals(True)
        self.isolate_box.setChecked(m.isolate)
        self.isolate_box.blockSignals(False)
        for b in (self.export_button, self.set_button):
            b.setEnabled(len(sel) > 0)
        self.attr_table.setRowCount(0)
        if len(sel) == 0:
            self.count_label.setText("No selection: press R (rectangle) or L (lasso) and drag in the "
                                     "scatter.")
            self.medoid, self.mean_image = None, None
            for label in (self.mean_face, self.medoid_face, self.medoid_image):
                _show(label, None)
            self.medoid_label.setText("")
            return
        self.count_label.setText(f"{len(sel):,} of {m.n_points:,} points selected")
        self.medoid = medoid_index(m.z, sel)
        name = Path(m.filenames[self.medoid]).name if self.medoid < len(m.filenames) else ""
        self.medoid_label.setText(f"medoid #{self.medoid} {name}")
        _show(self.medoid_image, self.state.thumbnail(self.medoid))
        if m.attributes is not None and m.attribute_names:
            rows = attribute_contrast(m.attributes, m.attribute_names, sel)[:MAX_ATTRIBUTE_ROWS]
            self.attr_table.setRowCount(len(rows))
            for r, (attr, a, b) in enumerate(rows):
                for c, text in enumerate((attr, f"{a:.3g}", f"{b:.3g}")):
                    self.attr_table.setItem(r, c, QTableWidgetItem(text))
            self.attr_table.resizeColumnsToContents()
        self.mean_image = None
        dec = self.state.decoder
        if dec is None:
            _show(self.mean_face, None)
            _show(self.medoid_face, None)
            return
        self._token += 1
        vectors = np.stack([m.z[sel].mean(axis=0), m.z[self.medoid]]).astype(np.float32)
        self.controller.decoding.request("selection", dec, vectors, self._token)

    def _on_decoded(self, slot: str, token, images, _ms: float) -> None:
        if slot != "selection" or token != self._token or not len(self.model.selection):
            return
        self.mean_image = images[0]
        _show(self.mean_face, images[0])
        _show(self.medoid_face, images[1])

    # ------------------------------------------------------------------ neighbours
    def refresh_neighbours(self) -> None:
        m, k = self.model, self.k_spin.value()
        self._knn_token = token = object()
        job = background_nearest(m, k)
        if job is not None:  # k exact neighbours among millions: up to a second
            self.controller.neighbours.submit("knn", job, token)
            return
        self._show_neighbours(m.nearest_points(k))

    def _on_neighbours(self, slot: str, token, result, _ms: float) -> None:
        if slot == "knn" and token is self._knn_token and result[0] is self.model.analysis:
            self._show_neighbours(result[1])

    def _show_neighbours(self, res) -> None:
        """The neighbour list: (indices (k,), distances (k,)) nearest first, or None (empty)."""
        idx = [] if res is None else list(zip(*res))
        while len(self.knn_buttons) < len(idx):
            b = QToolButton()
            b.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.clicked.connect(lambda _c=False, b=b: self.model.select_point(b.property("index")))
            self.knn_row.addWidget(b)
            self.knn_buttons.append(b)
        names = self.model.filenames
        for k, b in enumerate(self.knn_buttons):
            if k >= len(idx):
                b.hide()
                continue
            i, d = int(idx[k][0]), float(idx[k][1])
            img = self.state.thumbnail(i)
            b.setIcon(QIcon() if img is None else QIcon(to_pixmap(np.asarray(img))))
            b.setText(f"#{i}\n{d:.2f}")
            b.setProperty("index", i)
            b.setToolTip(f"#{i} {Path(names[i]).name if i < len(names) else ''} — distance {d:.3f}\n"
                         "Click: make its z-vector current")
            b.show()

    def neighbour_indices(self) -> list[int]:
        """The indices shown in the neighbour list, nearest first."""
        return [int(b.property("index")) for b in self.knn_buttons if not b.isHidden()]

    # ------------------------------------------------------------------ export and named sets
    def export_dialog(self) -> Path | None:
        from .export import ask_save_path

        m = self.model
        try:
            path = ask_save_path(self, "Export selection", "export", SELECTION_FILTER, "selection.npz",
                                 workspace=self.state.workspace)
            if path is None:
                return None
            save_selection(path, m.selection, m.z, m.filenames)
        except (LatentExplorerError, OSError) as exc:
            self.state.errorOccurred.emit(f"Export selection: {exc}")
            return None
        self.state.notice.emit(f"Selection ({len(m.selection):,} points) saved: {path}")
        return path

    def save_named_set_dialog(self) -> str | None:
        ws = self.state.workspace
        if ws is None or not len(self.model.selection):
            return None
        name, ok = QInputDialog.getText(self, "Save as named set", "Name of the latent set "
                                        "(letters, digits, '.', '_', '-'):", text="selection")
        if not ok or not name:
            return None
        if name in ws.latent_set_names() and QMessageBox.question(
                self, "Save as named set", f"The set '{name}' exists. Replace it?") != QMessageBox.Yes:
            return None
        try:
            self.save_named_set(name)
        except (LatentExplorerError, OSError) as exc:
            self.state.errorOccurred.emit(f"Save as named set: {exc}")
            return None
        return name

    def save_named_set(self, name: str) -> None:
        """Write the selected z-vectors as the workspace's named set ``name`` and show it."""
        from ..workspace import check_set_name

        m, ws = self.model, self.state.workspace
        check_set_name(name, "set name")
        meta = m.latents_meta
        snap = ws.snapshot()
        if meta is None or meta.fingerprint != snap.fingerprint:
            raise LatentExplorerError("the z-points were encoded by other weights than the committed "
                                      "model's: re-encode (Tools > Encode dataset again) first")
        z = m.z[m.selection]
        with ws.lock(0.0, "gui: save named set"):
            ws.write_latents(z, snapshot=snap, store=meta.store, name=name,
                             data=meta.data or str(ws.data_path))
        m.set_layer(name, z)
        self.state.notice.emit(f"Named set '{name}' ({len(z):,} z-vectors) saved in {ws.path}")
