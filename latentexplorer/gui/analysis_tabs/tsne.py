"""t-SNE tab: map of a seeded subset of the points, computed on demand; click a point → its image,
and it becomes the current vector."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QSpinBox

from ...errors import InvalidInputError
from ...progress import ProgressReporter
from ..widgets import to_pixmap
from .base import OnDemandTab


def _subset(n: int, max_points: int | None, seed: int) -> np.ndarray:
    if max_points is None or n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, int(max_points), replace=False))


def tsne_task(params, reporter: ProgressReporter | None = None) -> dict:
    """t-SNE of a seeded subset of at most ``max_points`` points: ``{"indices", "embedding"}``."""
    from ...analysis.embedding import tsne_embedding

    z = params["z"]
    idx = _subset(z.shape[0], params.get("max_points"), int(params.get("seed", 0)))
    emb = tsne_embedding(np.asarray(z[idx]), perplexity=float(params.get("perplexity", 30.0)),
                         n_iter=int(params.get("n_iter", 500)),
                         early_exaggeration_iter=int(params.get("early_exaggeration_iter", 250)),
                         random_state=int(params.get("seed", 0)), progress=reporter)
    return {"indices": idx, "embedding": np.asarray(emb, dtype=np.float32)}


def _value_brushes(values: np.ndarray, n_colors: int = 64) -> list:
    """Viridis brushes for ``values``, quantised to ``n_colors`` shared QBrush objects (fast for
    many points)."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    lo, hi = (float(v[finite].min()), float(v[finite].max())) if finite.any() else (0.0, 1.0)
    t = np.where(finite, (v - lo) / (hi - lo) if hi > lo else 0.0, 0.0)
    k = np.clip((t * (n_colors - 1)).round().astype(np.int64), 0, n_colors - 1)
    lut = [pg.mkBrush(c) for c in pg.colormap.get("viridis").map(np.linspace(0, 1, n_colors), mode="qcolor")]
    return [lut[i] for i in k]


#: a click selects the nearest t-SNE point within this many pixels
CLICK_PIXELS = 15


class TsneTab(OnDemandTab):
    """t-SNE map of a subset of the points, computed on demand; click a point → its image."""

    title = "t-SNE"
    JOB = "tsne"
    TASK = staticmethod(tsne_task)
    PLOT_TITLE = "t-SNE of the z-points (click a point)"
    EXPORT_NAME = "tsne"
    BUTTON_TEXT = "Compute t-SNE"
    BUTTON_TIP = "Run t-SNE in the background (progress in the status bar)"
    BUSY_TEXT = "t-SNE running …"

    def _build_controls(self):
        self.scatter = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(40, 80, 200, 130))
        self.marker = pg.ScatterPlotItem(size=14, pen=pg.mkPen("r", width=2), brush=None)
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.marker)
        self.plot.getPlotItem().setAspectLocked(True)
        self.plot.scene().sigMouseClicked.connect(self._scene_clicked)
        self.max_points = QSpinBox()
        self.max_points.setRange(100, 50_000)
        self.max_points.setSingleStep(1000)
        self.max_points.setValue(5000)
        self.max_points.setToolTip("t-SNE of a random subset of at most this many points")
        self.perplexity = QDoubleSpinBox()
        self.perplexity.setRange(2.0, 200.0)
        self.perplexity.setValue(30.0)
        self.perplexity.setToolTip("t-SNE perplexity (effective number of neighbours)")
        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignCenter)
        self.image_label.setMinimumSize(128, 128)
        self.image_label.setToolTip("Image of the clicked point")
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        return [("Points", self.max_points), ("Perplexity", self.perplexity)]

    def _side_widgets(self):
        return [self.image_label, self.info_label]

    def _clear_plot(self) -> None:
        self.scatter.setData([], [])
        self.marker.setData([], [])

    def _params(self, z) -> dict:
        return {"z": z, "max_points": int(self.max_points.value()),
                "perplexity": float(self.perplexity.value()), "seed": 0}

    def _set_result(self, res: dict) -> None:
        self.result = res
        emb = res["embedding"]
        idx = res["indices"]
        brush: Any = pg.mkBrush(40, 80, 200, 130)
        attrs = self.model.attributes
        cb = self.model.color_by
        if attrs is not None and cb in self.model.attribute_names:
            v = np.asarray(attrs[idx, self.model.attribute_names.index(cb)], dtype=np.float64)
            brush = _value_brushes(v)
        self.scatter.setData(emb[:, 0], emb[:, 1], brush=brush)  # point i <-> indices[i]
        self.plot.getPlotItem().autoRange()
        self.message.setText(f"t-SNE of {len(idx):,} points" + (f", coloured by {cb}" if
                                                                 isinstance(brush, list) else ""))

    def _scene_clicked(self, ev) -> None:
        """A click selects the nearest point within CLICK_PIXELS (it need not hit a point)."""
        if self.result is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        (x0, x1), (y0, y1) = vb.viewRange()
        px, py = (x1 - x0) / max(vb.width(), 1.0), (y1 - y0) / max(vb.height(), 1.0)
        emb = self.result["embedding"]
        d2 = ((emb[:, 0] - p.x()) / px) ** 2 + ((emb[:, 1] - p.y()) / py) ** 2
        k = int(np.argmin(d2))
        if d2[k] <= CLICK_PIXELS ** 2:
            self.show_point(int(self.result["indices"][k]))

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
        if self.result is not None:
            k = np.flatnonzero(self.result["indices"] == index)
            if len(k):
                p = self.result["embedding"][k[0]]
                self.marker.setData([p[0]], [p[1]])
        try:
            self.model.select_point(index)
        except InvalidInputError as exc:
            self._failed(str(exc))
