"""Map tab: a t-SNE or UMAP map of a seeded subset of the points, computed on demand and drawn while
it forms, coloured like the scatter (attribute, KMeans cluster); click a point → its image, and it
becomes the current vector.

t-SNE sends its layout every 25 iterations (the map moves as it forms); umap-learn exposes no
layout between its epochs, so a UMAP shows its epoch count while it runs and the map at its end
(see :func:`latentexplorer.analysis.embedding.umap_embedding`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QSpinBox

from ...errors import InvalidInputError
from ...explore.clusters import CLUSTER_COLORING, cluster_palette
from ...progress import ProgressReporter
from ..widgets import to_pixmap
from .base import OnDemandTab

#: brush of the points when the explorer colours by density (the map's own density differs)
UNIFORM = (40, 80, 200, 130)


def _subset(n: int, max_points: int | None, seed: int) -> np.ndarray:
    if max_points is None or n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, int(max_points), replace=False))


def _indices(params) -> np.ndarray:
    """The rows of ``params["z"]`` to map: ``params["indices"]`` or a seeded subset of at most
    ``max_points``."""
    if params.get("indices") is not None:
        return np.asarray(params["indices"], dtype=np.int64)
    return _subset(params["z"].shape[0], params.get("max_points"), int(params.get("seed", 0)))


def tsne_task(params, reporter: ProgressReporter | None = None) -> dict:
    """t-SNE of a seeded subset of at most ``max_points`` points (or of the rows ``indices``):
    ``{"method", "indices", "embedding"}``."""
    from ...analysis.embedding import tsne_embedding

    z, idx = params["z"], _indices(params)
    emb = tsne_embedding(np.asarray(z[idx]), perplexity=float(params.get("perplexity", 30.0)),
                         n_iter=int(params.get("n_iter", 500)),
                         early_exaggeration_iter=int(params.get("early_exaggeration_iter", 250)),
                         random_state=int(params.get("seed", 0)), progress=reporter)
    return {"method": "t-SNE", "indices": idx, "embedding": np.asarray(emb, dtype=np.float32)}


def umap_task(params, reporter: ProgressReporter | None = None) -> dict:
    """UMAP of a seeded subset of at most ``max_points`` points (or of the rows ``indices``):
    ``{"method", "indices", "embedding"}``."""
    from ...analysis.embedding import umap_embedding

    z, idx = params["z"], _indices(params)
    emb = umap_embedding(np.asarray(z[idx]), n_neighbors=int(params.get("n_neighbors", 15)),
                         min_dist=float(params.get("min_dist", 0.1)), n_epochs=params.get("n_epochs"),
                         random_state=int(params.get("seed", 0)), progress=reporter)
    return {"method": "UMAP", "indices": idx, "embedding": np.asarray(emb, dtype=np.float32)}


#: the map's methods: (job name, worker function)
METHODS = {"t-SNE": ("tsne", tsne_task), "UMAP": ("umap", umap_task)}


def _value_brushes(values: np.ndarray, n_colors: int = 64) -> list:
    """Brushes for ``values`` in the scatter's attribute colours (CET-D1 over the 1st … 99th
    percentile), quantised to ``n_colors`` shared QBrush objects (fast for many points); unknown
    values (NaN) grey."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    lo, hi = (np.percentile(v[finite], [1, 99]) if finite.sum() > 10 else
              (v[finite].min(), v[finite].max()) if finite.any() else (0.0, 1.0))
    lo, hi = float(lo), float(max(hi, lo + 1e-9))
    t = np.clip(np.where(finite, (v - lo) / (hi - lo), 0.0), 0.0, 1.0)
    k = np.clip((t * (n_colors - 1)).round().astype(np.int64), 0, n_colors - 1)
    lut = [pg.mkBrush(c) for c in pg.colormap.get("CET-D1").map(np.linspace(0, 1, n_colors), mode="qcolor")]
    grey = pg.mkBrush(170, 170, 170, 110)
    return [lut[i] if ok else grey for i, ok in zip(k, finite)]


#: a click selects the nearest map point within this many pixels
CLICK_PIXELS = 15


class TsneTab(OnDemandTab):
    """t-SNE or UMAP map of a subset of the points (see the module docstring)."""

    title = "t-SNE / UMAP"
    JOB = "tsne"
    TASK = staticmethod(tsne_task)
    PLOT_TITLE = "Map of the z-points (click a point)"
    EXPORT_NAME = "map"
    BUTTON_TEXT = "Compute t-SNE"
    BUTTON_TIP = "Compute the map in the background (progress in the status bar); drawn as it forms"
    BUSY_TEXT = "t-SNE running …"

    def _build_controls(self):
        self._live: dict | None = None  # the run in progress: method, indices, latest layout
        self._brushes: Any = pg.mkBrush(*UNIFORM)
        self.scatter = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(*UNIFORM))
        self.marker = pg.ScatterPlotItem(size=14, pen=pg.mkPen("r", width=2), brush=None)
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.marker)
        self.plot.getPlotItem().setAspectLocked(True)
        self.plot.scene().sigMouseClicked.connect(self._scene_clicked)
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.method.setToolTip("t-SNE: local neighbourhoods, drawn as it forms. UMAP: keeps more of "
                               "the global arrangement, faster on many points")
        self.method.currentTextChanged.connect(self._method_changed)
        self.max_points = QSpinBox()
        self.max_points.setRange(100, 50_000)
        self.max_points.setSingleStep(1000)
        self.max_points.setValue(5000)
        self.max_points.setToolTip("Map a random subset of at most this many points")
        self.perplexity = QDoubleSpinBox()
        self.perplexity.setRange(2.0, 200.0)
        self.perplexity.setValue(30.0)
        self.perplexity.setToolTip("t-SNE perplexity (effective number of neighbours)")
        self.n_neighbors = QSpinBox()
        self.n_neighbors.setRange(2, 200)
        self.n_neighbors.setValue(15)
        self.n_neighbors.setToolTip("UMAP: size of the local neighbourhood")
        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignCenter)
        self.image_label.setMinimumSize(128, 128)
        self.image_label.setToolTip("Image of the clicked point")
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        self.n_neighbors.setEnabled(False)
        return [("Method", self.method), ("Points", self.max_points), ("Perplexity", self.perplexity),
                ("Neighbours", self.n_neighbors)]

    def _side_widgets(self):
        return [self.image_label, self.info_label]

    def _method_changed(self, method: str) -> None:
        self.JOB, task = METHODS[method]
        self.TASK = task
        self.BUTTON_TEXT = f"Compute {method}"
        self.BUSY_TEXT = f"{method} running …"
        self.compute_button.setText(self.BUTTON_TEXT)
        self.perplexity.setEnabled(method == "t-SNE")
        self.n_neighbors.setEnabled(method == "UMAP")

    def _clear_plot(self) -> None:
        self._live = None
        self.scatter.setData([], [])
        self.marker.setData([], [])

    # ---------------------------------------------------------------- running
    def _rows(self) -> np.ndarray:
        """Indices of the points the map may use: the filter's matches with cross-filtering on."""
        m = self.model
        mask = m.filter_mask() if m.cross_filter else None
        return np.arange(m.n_points) if mask is None else np.flatnonzero(mask)

    def _params(self, z) -> dict:
        rows = self._rows()
        idx = rows[_subset(len(rows), int(self.max_points.value()), 0)]
        return {"z": self.model.z, "indices": idx, "perplexity": float(self.perplexity.value()),
                "n_neighbors": int(self.n_neighbors.value()), "seed": 0}

    def compute(self) -> None:
        """Start the map of the chosen method; its layouts are drawn as they arrive."""
        method = self.method.currentText()
        if self.runner is not None:
            for job, _task in METHODS.values():
                if job != self.JOB:
                    self.runner.cancel(job)
        if self.model.z is None or len(self._rows()) < 4:
            self.message.setText("A map needs at least 4 points")
            return
        params = self._params(None)
        self._live = {"method": method, "indices": params["indices"], "embedding": None}
        self._brushes, _ = self._point_brushes(params["indices"])
        key = self._data_key()
        self._run(self.JOB, self.TASK, params,
                  lambda res, key=key: self._set_result(res) if self._data_key() == key else None,
                  self.BUSY_TEXT)
        w = self.worker
        if w is not None and not w.is_finished:
            w.metrics.connect(lambda metrics, w=w: self._on_metrics(metrics) if self.worker is w else None)
            w.progress.connect(lambda _d, _t, text, w=w: self.message.setText(text)
                               if self.worker is w else None)

    def _on_metrics(self, metrics: dict) -> None:
        """An intermediate layout: draw it (t-SNE sends one every 25 iterations)."""
        live = self._live
        emb = metrics.get("embedding") if metrics.get("event") == "embedding" else None
        if live is None or emb is None or len(emb) != len(live["indices"]):
            return
        live["embedding"] = np.asarray(emb, dtype=np.float32)
        self.scatter.setData(emb[:, 0], emb[:, 1], brush=self._brushes)
        self.plot.getPlotItem().autoRange()

    # ---------------------------------------------------------------- drawing
    def _point_brushes(self, idx: np.ndarray) -> tuple[Any, str]:
        """Brushes of the data points ``idx`` as the scatter colours them, and what they show."""
        m = self.model
        if m.color_by == CLUSTER_COLORING and m.clusters is not None:
            lut = [pg.mkBrush(*rgb, 200) for rgb in cluster_palette(m.clusters.k)]
            return [lut[c] for c in m.clusters.labels[idx]], f"KMeans cluster (k = {m.clusters.k})"
        if m.attributes is not None and m.color_by in m.attribute_names:
            v = np.asarray(m.attributes[idx, m.attribute_names.index(m.color_by)], dtype=np.float64)
            return _value_brushes(v), str(m.color_by)
        return pg.mkBrush(*UNIFORM), ""

    def recolor(self) -> None:
        """Follow the explorer's colouring (a new colour-by, clusters that arrived)."""
        if self.result is not None:
            self._set_result(self.result)
        elif self._live is not None:
            self._brushes, _ = self._point_brushes(self._live["indices"])
            emb = self._live["embedding"]
            if emb is not None:
                self.scatter.setData(emb[:, 0], emb[:, 1], brush=self._brushes)

    def _set_result(self, res: dict) -> None:
        self.result = res
        self._live = None
        emb, idx = res["embedding"], res["indices"]
        brush, what = self._point_brushes(idx)
        self.scatter.setData(emb[:, 0], emb[:, 1], brush=brush)  # point i <-> indices[i]
        self.plot.getPlotItem().autoRange()
        method = res.get("method", "t-SNE")
        self.plot.setTitle(f"{method} of the z-points (click a point)", color="k", size="10pt")
        self.message.setText(f"{method} of {len(idx):,} points" + (f", coloured by {what}" if what else ""))

    def _shown(self) -> dict | None:
        """The map on screen: the result, or the layout of the run in progress."""
        if self.result is not None:
            return self.result
        live = self._live
        return live if live is not None and live["embedding"] is not None else None

    def _scene_clicked(self, ev) -> None:
        """A click selects the nearest point within CLICK_PIXELS (it need not hit a point)."""
        shown = self._shown()
        if shown is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        (x0, x1), (y0, y1) = vb.viewRange()
        px, py = (x1 - x0) / max(vb.width(), 1.0), (y1 - y0) / max(vb.height(), 1.0)
        emb = shown["embedding"]
        d2 = ((emb[:, 0] - p.x()) / px) ** 2 + ((emb[:, 1] - p.y()) / py) ** 2
        k = int(np.argmin(d2))
        if d2[k] <= CLICK_PIXELS ** 2:
            self.show_point(int(shown["indices"][k]))

    def show_point(self, index: int) -> None:
        """Show the image of data point ``index`` and make its z-vector the current one."""
        ds = self.state.dataset
        if ds is not None and 0 <= index < ds.n:
            img = ds.batch(np.array([index]))[0]
            self.image_label.setPixmap(to_pixmap(img).scaled(128, 128, Qt.KeepAspectRatio,
                                                             Qt.SmoothTransformation))
            name = ds.filenames[index] if index < len(ds.filenames) else ""
            self.info_label.setText(f"point #{index}<br>{name}")
        else:
            self.info_label.setText(f"point #{index} (no dataset images)")
        shown = self._shown()
        if shown is not None:
            k = np.flatnonzero(shown["indices"] == index)
            if len(k):
                p = shown["embedding"][k[0]]
                self.marker.setData([p[0]], [p[1]])
        try:
            self.model.select_point(index)
        except InvalidInputError as exc:
            self._failed(str(exc))
