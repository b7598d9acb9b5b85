"""How the scatter colours its points: colour bins, the density image and KMeans clusters.

:class:`ScatterColoring` is mixed into :class:`~latentexplorer.gui.scatter.LatentScatterWidget`
(it uses its items: ``_bin_items``, ``image``, ``grey_image``, ``colorbar``, ``info_label``).

* Density or an attribute: at most :data:`N_COLOR_BINS` gradient bins, one
  :class:`~.scatter_items.FastPointsItem` each; above the density threshold a density image.
* KMeans cluster (``color_by == "kmeans"``): one item per cluster in its categorical colour
  (:func:`~latentexplorer.explore.clusters.cluster_palette`); above the density threshold an
  image coloured by each pixel's majority cluster (alpha: log density). A legend lists every
  cluster with its count; clicking an entry selects that cluster (Shift adds, Ctrl removes).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.LegendItem import ItemSample
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor

from ..analysis._kernels import histogram_2d
from ..errors import InvalidInputError
from ..explore.clusters import CLUSTER_COLORING, Clusters, cluster_palette
from .scatter_items import FastPointsItem, cluster_majority_image

N_COLOR_BINS = 16
HIST_MAX_BINS = 400
#: colour of greyed-out points (outside an isolated selection or the filter)
GREY = (170, 170, 170, 110)
#: alpha of the cluster colours (points), and of the majority image's densest pixel
CLUSTER_ALPHA = 210
#: the cluster legend lists its entries in two columns above this many clusters
LEGEND_ONE_COLUMN_MAX = 14


class _ClusterSample(ItemSample):
    """A legend swatch that leaves clicks to its legend (pyqtgraph's would hide the item)."""

    def mouseClickEvent(self, ev):  # noqa: N802 -- pyqtgraph override
        ev.ignore()


class ClusterLegend(pg.LegendItem):
    """One entry per cluster (its colour, number and count), bottom left in the plot.

    Signals
    -------
    clusterClicked(cluster, modifiers) : an entry was clicked (cluster 0-based)
    """

    clusterClicked = Signal(int, object)

    def __init__(self) -> None:
        super().__init__(offset=(6, -6), labelTextSize="7pt", verSpacing=-6, sampleType=_ClusterSample,
                         brush=pg.mkBrush(255, 255, 255, 200), pen=pg.mkPen(200, 200, 200))
        self.setToolTip("Click a cluster: select its points (Shift adds, Ctrl removes)")
        self.shown: tuple | None = None  # (counts, colours) of the entries

    def set_clusters(self, counts: np.ndarray | None, colours: np.ndarray | None) -> None:
        key = None if counts is None else (tuple(int(c) for c in counts), colours.tobytes())
        if key == self.shown:
            return
        self.shown = key
        self.clear()
        if counts is None:
            self.hide()
            return
        self.setColumnCount(1 if len(counts) <= LEGEND_ONE_COLUMN_MAX else 2)
        for c, (count, rgb) in enumerate(zip(counts, colours)):
            swatch = pg.ScatterPlotItem(size=9, symbol="s", pen=None, brush=pg.mkBrush(*rgb, 255))
            self.addItem(swatch, f"cluster {c + 1}: {int(count):,}")
        self.show()

    def entry_rect(self, cluster: int) -> QRectF:
        """The entry of ``cluster`` (swatch and label) in the legend's coordinates."""
        sample, label = self.items[cluster]
        return sample.geometry().united(label.geometry())

    def entry_at(self, pos) -> int | None:
        for c in range(len(self.items)):
            if self.entry_rect(c).contains(pos):
                return c
        return None

    def mouseClickEvent(self, ev):  # noqa: N802 -- pyqtgraph override
        c = self.entry_at(ev.pos()) if ev.button() == Qt.MouseButton.LeftButton else None
        if c is None:
            ev.ignore()
            return
        ev.accept()
        self.clusterClicked.emit(c, ev.modifiers())


class ScatterColoring:
    """The colouring half of the scatter widget (see the module docstring)."""

    def _shown_clusters(self) -> Clusters | None:
        m = self.model
        return m.clusters if m.color_by == CLUSTER_COLORING and m.clusters is not None else None

    def _colour_values(self, pts: np.ndarray) -> tuple[np.ndarray | None, str]:
        """Per-point colour values (or None = density image / uniform) and a legend label."""
        m = self.model
        cb = m.color_by
        if cb in m.attribute_names and m.attributes is not None:
            return np.asarray(m.attributes[:, m.attribute_names.index(cb)], dtype=np.float32), cb
        if cb == "density" and not self.large:
            x0, x1, y0, y1 = self._full_range
            nb = 64
            h = histogram_2d(pts[:, 0], pts[:, 1], x0, x1, y0, y1, nb, nb)
            ix = np.clip(((pts[:, 0] - x0) / (x1 - x0) * nb).astype(np.int64), 0, nb - 1)
            iy = np.clip(((pts[:, 1] - y0) / (y1 - y0) * nb).astype(np.int64), 0, nb - 1)
            return np.log1p(h[ix, iy]), "density (log count)"
        return None, "density" if cb == "density" else ""

    def _set_binned_points(self, pts: np.ndarray, values: np.ndarray | None, label: str) -> None:
        n = self.model.n_points
        if values is None:
            self._set_bins([pts], [QColor(40, 70, 160, 170)])
            self.colorbar.hide()
            self.info_label.setText(f"{n:,} z-points" + (f"\n{len(pts):,} highlighted" if len(pts) < n else ""))
            return
        vals = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(vals)  # NaN = unknown attribute (merged stores): not drawn
        pts, vals = pts[finite], vals[finite]
        is_density = label.startswith("density")
        uniq = np.unique(vals[: min(len(vals), 5000)])
        binary = not is_density and len(uniq) <= 2 and bool(np.isin(vals, uniq).all())
        if binary:
            cmap = pg.colormap.get("CET-D1")
            lo, hi = float(uniq.min()), float(uniq.max())
            bins = (vals >= hi).astype(np.int64) if hi > lo else np.zeros(len(vals), np.int64)
            colours, nbin = [cmap.map(0.1, mode="qcolor"), cmap.map(0.9, mode="qcolor")], 2
        else:
            cmap = pg.colormap.get("viridis") if is_density else pg.colormap.get("CET-D1")
            lo, hi = np.percentile(vals, [1, 99]) if len(vals) > 10 else (vals.min(), vals.max())
            lo, hi = float(lo), float(max(hi, lo + 1e-9))
            nbin = N_COLOR_BINS
            bins = np.clip(((vals - lo) / (hi - lo) * nbin).astype(np.int64), 0, nbin - 1)
            colours = [cmap.map((k + 0.5) / nbin, mode="qcolor") for k in range(nbin)]
        order = np.argsort(bins, kind="stable")
        groups = np.split(pts[order], np.cumsum(np.bincount(bins, minlength=nbin))[:-1])
        for c in colours:
            c.setAlpha(200)
        self._set_bins(groups, colours)
        self.colorbar.setColorMap(cmap)
        self.colorbar.setLevels((lo, hi))
        self.colorbar.show()
        extra = f" ({lo:g} / {hi:g})" if binary else ""
        shown = len(pts)
        self.info_label.setText(f"colour: {label}{extra}\n{shown:,} of {n:,} points" if shown < n
                                else f"colour: {label}{extra}\n{n:,} points")

    @staticmethod
    def _point_size(n: int) -> tuple[int, str]:
        return (7, "o") if n <= 2_000 else (4, "o") if n <= 20_000 else (3, "s")

    def _set_bins(self, groups: list[np.ndarray], colours: list | None) -> None:
        """One :class:`FastPointsItem` per colour bin (shared style, no per-point objects)."""
        while len(self._bin_items) < len(groups):
            it = FastPointsItem()
            it.setZValue(0)
            it.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.addItem(it)
            self._bin_items.append(it)
        size, symbol = self._point_size(sum(len(g) for g in groups))
        for k, it in enumerate(self._bin_items):
            if k < len(groups) and len(groups[k]):
                it.setStyle(color=colours[k], size=size, symbol=symbol)
                it.setData(groups[k][:, 0], groups[k][:, 1])
                it.show()
            else:
                it.setData([], [])
                it.hide()

    def _update_density_image(self) -> None:
        """2-D histogram of all points over the visible range, as the density image."""
        m = self.model
        if m.z is None or not self.large:
            self.image.hide()
            self.grey_image.hide()
            return
        (x0, x1), (y0, y1) = self.getViewBox().viewRange()
        if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
            return
        nx = int(min(HIST_MAX_BINS, max(64, self.getViewBox().width() / 2)))
        ny = int(min(HIST_MAX_BINS, max(64, self.getViewBox().height() / 2)))
        keep = m.highlight_mask()
        clusters = self._shown_clusters()
        # all points' coordinates only where they are split (filter, clusters): a plain density
        # image asks the model, which gathers and counts a new latent plane in one pass
        pts = m.plane_points() if keep is not None or clusters is not None else None
        if keep is not None:  # the greyed-out points get their own grey density image
            grey = np.log1p(histogram_2d(pts[~keep, 0], pts[~keep, 1], x0, x1, y0, y1, nx, ny))
            lut = np.zeros((2, 4), np.uint8)
            lut[1] = GREY
            self.grey_image.setImage(grey > 0, levels=(0, 1), lut=lut, autoLevels=False)
            self.grey_image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            self.grey_image.show()
            pts = pts[keep]
        else:
            self.grey_image.hide()
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        if clusters is not None:  # each pixel in the colour of its majority cluster
            labels = clusters.labels if keep is None else clusters.labels[keep]
            rgba = cluster_majority_image(pts, labels, cluster_palette(clusters.k), (x0, x1, y0, y1),
                                          nx, ny, max_alpha=CLUSTER_ALPHA)
            self.image.setImage(rgba, levels=None, lut=None, autoLevels=False)
            self.image.setRect(rect)
            self.image.show()
            self.colorbar.hide()
            self.info_label.setText(f"colour: KMeans cluster (k = {clusters.k}), majority per pixel\n"
                                    f"{m.n_points:,} z-points"
                                    + ("" if keep is None else f", {int(keep.sum()):,} highlighted"))
            return
        img = np.log1p(m.plane_histogram((x0, x1), (y0, y1), nx, ny) if pts is None
                       else histogram_2d(pts[:, 0], pts[:, 1], x0, x1, y0, y1, nx, ny))
        attr = m.color_by not in (None, "density")
        cmap = pg.colormap.get("CET-L1" if attr else "viridis")
        lut = cmap.getLookupTable(0.0, 1.0, 256, alpha=True)
        if attr:
            lut = lut[::-1].copy()  # light grey -> dark
            lut[:, 3] = 120
        lut[0, 3] = 0  # empty bins transparent
        top = max(float(img.max()) if img.size else 1.0, 1e-6)
        self.image.setImage(img, levels=(0.0, top), lut=lut, autoLevels=False)
        self.image.setRect(rect)
        self.image.show()
        if not attr:
            self.colorbar.setColorMap(cmap)
            self.colorbar.setLevels((0.0, top))
            self.colorbar.show()
            self.info_label.setText(f"density of {m.n_points:,} z-points\n(colour: log(1+count) per bin)"
                                    + ("" if keep is None else f"\n{int(keep.sum()):,} highlighted"))

    # ------------------------------------------------------------------ clusters
    def _set_cluster_points(self, pts: np.ndarray, labels: np.ndarray, clusters: Clusters) -> None:
        """One point item per cluster, in the cluster's categorical colour."""
        k = clusters.k
        order = np.argsort(labels, kind="stable")
        groups = np.split(pts[order], np.cumsum(np.bincount(labels, minlength=k))[:-1])
        self._set_bins(groups, [QColor(*rgb, CLUSTER_ALPHA) for rgb in cluster_palette(k)])
        self.colorbar.hide()
        n = self.model.n_points
        self.info_label.setText(f"colour: KMeans cluster (k = {k})\n"
                                + (f"{len(pts):,} of {n:,} points" if len(pts) < n else f"{n:,} points"))

    def _cluster_status(self) -> None:
        """The info line while the clusters are being fitted (or cannot be)."""
        m = self.model
        if m.color_by != CLUSTER_COLORING or m.clusters is not None or m.z is None:
            return
        why = (f"k = {m.n_clusters} exceeds the {m.n_points:,} points" if m.n_points < m.n_clusters
               else f"fitting k = {m.n_clusters} clusters …")
        self.info_label.setText(f"colour: KMeans cluster\n{why}")

    def _refresh_cluster_legend(self) -> None:
        c = self._shown_clusters()
        self.cluster_legend.set_clusters(None if c is None else c.counts,
                                         None if c is None else cluster_palette(c.k))

    def _cluster_clicked(self, cluster: int, modifiers) -> None:
        op = ("add" if modifiers & Qt.KeyboardModifier.ShiftModifier else
              "remove" if modifiers & Qt.KeyboardModifier.ControlModifier else "replace")
        try:
            self.model.select_cluster(cluster, op)
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(str(exc))

