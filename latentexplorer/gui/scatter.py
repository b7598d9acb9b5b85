"""The central scatter: all z-points of the model's plane, with overlays and mouse interaction.

* Up to :data:`DENSITY_THRESHOLD` points: the points are split into at most :data:`N_COLOR_BINS`
  colour bins (density or attribute value), one :class:`FastPointsItem` per bin.
* More points: a density image (2-D histogram over the visible range, recomputed after pan/zoom,
  so zooming in shows single points); coloured by an attribute, a random subset of
  :data:`SUBSET_SIZE` points is drawn on top over a grey density image.
* Coloured by KMeans cluster: each cluster in its own categorical colour (above the threshold:
  each pixel in its majority cluster's colour) and a legend entry per cluster with its count;
  clicking an entry selects the cluster. The colouring code is :mod:`.scatter_colors`.

Overlays: the confidence ellipse at the σ level, the fact-scaled sampling ellipse, sampled vectors,
the origin, the path and the current point. Mouse (see :data:`SCATTER_TOOLTIP`): click, Ctrl+click
(snap), drag the current point (scrub), Shift+drag (path), hover (coordinates, nearest image).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal

from ..errors import InvalidInputError
from ..explore.paths import PlanePath
from .hover_card import HoverCard
from .scatter_colors import (
    GREY,
    HIST_MAX_BINS,
    N_COLOR_BINS,
    ClusterLegend,
    ScatterColoring,
)
from .scatter_items import FastPointsItem, PassiveScatter, robust_range
from .scatter_mouse import SELECTED_COLOR, PlaneViewBox, SelectionKeys
from .state import AppState
from .widgets import configure_pyqtgraph

DENSITY_THRESHOLD = 50_000
SUBSET_SIZE = 20_000
SNAP_PIXELS = 12
GRAB_PIXELS = 10
#: below this size of the plot area the legend is hidden at first (View > Show legend shows it)
LEGEND_MIN_SIZE = (560, 420)

SCATTER_TOOLTIP = (
    "Latent-space scatter of the z-points in the chosen plane.\n"
    "Click: move the current z-vector here (only the two plane coordinates change).\n"
    "Drag the red current point: scrub through the plane, decoding as you go.\n"
    "Ctrl+click: select the nearest data point's own z-vector.\n"
    "Shift+drag: draw a path (decoded as a strip below). Drag: pan. Wheel: zoom.\n"
    "Hover: coordinates and the nearest training image. Right-click: view menu.\n"
    "R / L: rectangle / lasso selection (Shift adds, Ctrl removes); Esc clears it.\n"
    "Coloured by KMeans cluster: click a cluster in its legend to select its points.")

__all__ = ["LatentScatterWidget", "DENSITY_THRESHOLD", "SUBSET_SIZE", "N_COLOR_BINS", "HIST_MAX_BINS",
           "GREY", "SCATTER_TOOLTIP"]


class LatentScatterWidget(SelectionKeys, ScatterColoring, pg.PlotWidget):
    """Scatter of the z-points in ``state.model.plane`` (see the module docstring).

    Signals
    -------
    planeClicked(x, y) : plane coordinates of a click, after the model was updated
    hovered(index, x, y) : the data point nearest to the mouse (index -1: none within reach)
    """

    planeClicked = Signal(float, float)
    hovered = Signal(int, float, float)

    def __init__(self, state: AppState, parent=None) -> None:
        configure_pyqtgraph()
        vb = PlaneViewBox(self)
        super().__init__(parent=parent, viewBox=vb)
        self.state = state
        self.model = state.model
        self._drag_path: list[tuple[float, float]] = []
        self._subset: np.ndarray | None = None
        self._full_range: tuple[float, float, float, float] | None = None
        self._setting_range = False
        self._legend_auto = True
        self.last_update_ms: dict[str, float] = {}

        pi = self.getPlotItem()
        pi.setMenuEnabled(True)
        pi.hideButtons()
        for side in ("bottom", "left"):  # plain numbers (an SI prefix on a z-coordinate misleads;
            pi.getAxis(side).enableAutoSIPrefix(False)  # and its re-layout cost 2 ms a switch)
        self.setToolTip(SCATTER_TOOLTIP)
        self.setMinimumSize(300, 250)

        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.image.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.addItem(self.image)
        self._bin_items: list[FastPointsItem] = []
        self.grey_image = pg.ImageItem()  # large sets: density of the greyed-out points
        self.grey_image.setZValue(-11)
        self.grey_item = FastPointsItem(color=GREY, size=3)  # greyed-out points, under the others
        self.selected_item = FastPointsItem(color=SELECTED_COLOR, size=5, symbol="o")
        for z, it in ((-11, self.grey_image), (-1, self.grey_item), (12, self.selected_item)):
            it.setZValue(z)
            it.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.addItem(it)
        self.hover_card = HoverCard(state, self)

        self.conf_curve = pg.PlotCurveItem(pen=pg.mkPen((200, 30, 30), width=2))
        self.samp_curve = pg.PlotCurveItem(pen=pg.mkPen((20, 20, 20), width=2, style=Qt.PenStyle.DashLine))
        self.samples_item = FastPointsItem(color=(235, 110, 0, 255), size=9, symbol="x")
        self.path_curve = pg.PlotCurveItem(pen=pg.mkPen((170, 0, 170), width=2.5))
        self.path_marks = PassiveScatter(size=6, symbol="o", pen=None, brush=pg.mkBrush(170, 0, 170),
                                         pxMode=True)
        self.origin_item = PassiveScatter(size=16, symbol="+", pen=pg.mkPen("k", width=2),
                                          brush=pg.mkBrush("k"), pxMode=True)
        self.current_item = PassiveScatter(size=15, symbol="o", pen=pg.mkPen("w", width=2),
                                           brush=pg.mkBrush(220, 0, 0), pxMode=True)
        self.hover_item = PassiveScatter(size=11, symbol="o", pen=pg.mkPen((255, 160, 0), width=2),
                                         brush=None, pxMode=True)
        for z, it in ((10, self.conf_curve), (11, self.samp_curve), (15, self.samples_item),
                      (18, self.path_curve), (18, self.path_marks), (19, self.origin_item),
                      (20, self.current_item), (21, self.hover_item)):
            it.setZValue(z)
            it.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks go to the plane
            self.addItem(it)

        self.legend = pg.LegendItem(offset=(-6, 4), labelTextSize="7pt", verSpacing=-6,
                                    brush=pg.mkBrush(255, 255, 255, 190), pen=pg.mkPen(200, 200, 200))
        self.legend.setParentItem(self.getViewBox())
        self.legend.addItem(self.conf_curve, "confidence ellipse (σ level)")
        self.legend.addItem(self.samp_curve, "sampling ellipse (σ × fact)")
        self.legend.addItem(self.current_item, "current z-vector")
        self.legend.addItem(self.origin_item, "origin z = 0")
        self.legend.addItem(pg.ScatterPlotItem(size=8, symbol="x", pen=pg.mkPen((235, 110, 0), width=1.5)),
                            "generated vectors")

        self.cluster_legend = ClusterLegend()  # "KMeans cluster" colouring: click selects a cluster
        self.cluster_legend.setParentItem(self.getViewBox())
        self.cluster_legend.setZValue(25)
        self.cluster_legend.hide()
        self.cluster_legend.clusterClicked.connect(self._cluster_clicked)

        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"),
                                        interactive=False, width=12, colorMapMenu=False)
        pi.layout.addItem(self.colorbar, 2, 5)
        pi.layout.setColumnFixedWidth(4, 5)
        self.info_label = pg.TextItem("", color=(40, 40, 40), anchor=(0, 0),
                                      fill=pg.mkBrush(255, 255, 255, 190))
        self.info_label.setZValue(30)
        self.info_label.setParentItem(self.getViewBox())
        self.info_label.setPos(6, 4)

        self._hist_timer = QTimer(self, singleShot=True, interval=40)
        self._hist_timer.timeout.connect(self._update_density_image)
        self.getViewBox().sigRangeChanged.connect(self._on_range_changed)
        self._hover_proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved)

        state.dataChanged.connect(self._on_data)
        state.planeChanged.connect(lambda _p: self.refresh_data())
        state.colorByChanged.connect(lambda _c: self.redraw_points())  # (keeps the zoom)
        state.analysisChanged.connect(lambda _a: self.refresh_overlays())
        state.overlayChanged.connect(lambda *_: self.refresh_overlays())
        state.currentChanged.connect(lambda _c: self.refresh_current())
        state.samplesChanged.connect(lambda _s: self.refresh_samples())
        state.pathChanged.connect(lambda _p: self.refresh_path())
        state.selectionChanged.connect(lambda _s: self.redraw_points())
        state.filterChanged.connect(lambda _f: self.redraw_points())
        state.toolChanged.connect(self._on_tool)
        self._on_data()

    # ------------------------------------------------------------------ data
    def _on_data(self, *_) -> None:
        n = self.model.n_points
        self._subset = None
        if n > DENSITY_THRESHOLD:
            self._subset = np.sort(np.random.default_rng(0).choice(n, SUBSET_SIZE, replace=False))
        self.refresh_data()

    @property
    def large(self) -> bool:
        return self.model.n_points > DENSITY_THRESHOLD

    def refresh_data(self) -> None:
        """Redraw the points for the current plane / colouring (and the overlays)."""
        t0 = time.perf_counter()
        m = self.model
        pi = self.getPlotItem()
        pi.setLabel("bottom", m.plane.label(0) if m.z_dim else "")
        pi.setLabel("left", m.plane.label(1) if m.z_dim else "")
        self.hover_item.setData([], [])
        if m.z is None:
            self._set_bins([], None)
            self.image.hide()
            self.info_label.setText("no z-points loaded")
            self.refresh_overlays()
            return
        # the range from the subset's rows alone: on a latent plane the one pass over all points
        # is the density image's (gathering and counting together)
        self._full_range = robust_range(m.plane_points(rows=self._subset))
        x0, x1, y0, y1 = self._full_range
        self._setting_range = True  # the density image is redrawn below, not by the range signal
        try:
            self.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        finally:
            self._setting_range = False
        self.redraw_points()
        self.refresh_overlays()
        self.last_update_ms["data"] = (time.perf_counter() - t0) * 1000

    def redraw_points(self) -> None:
        """Draw the points in the current view range: the highlighted ones (all, or the
        filter's matches / the isolated selection) coloured, the rest grey; the selection marked."""
        m = self.model
        self._refresh_cluster_legend()
        if m.z is None or self._full_range is None:
            return
        if self.large:
            self._update_density_image()
        pts = m.plane_points()
        values, label = self._colour_values(pts)
        clusters = self._shown_clusters()
        keep = m.highlight_mask()
        shown = np.ones(m.n_points, bool) if keep is None else keep
        sub = np.arange(m.n_points) if self._subset is None else self._subset
        sub_shown, sub_grey = sub[shown[sub]], sub[~shown[sub]]
        if self.large:
            if values is None:
                self._set_bins([], None)
            else:
                self._set_binned_points(pts[sub_shown], values[sub_shown], label)
            self.grey_item.setData([], [])
        else:
            self.image.hide()
            if clusters is not None:
                self._set_cluster_points(pts[sub_shown], clusters.labels[sub_shown], clusters)
            else:
                self._set_binned_points(pts[sub_shown], None if values is None else values[sub_shown], label)
            self.grey_item.setStyle(size=self._point_size(m.n_points)[0])
            self.grey_item.setData(pts[sub_grey, 0], pts[sub_grey, 1])
        self._cluster_status()
        self._mark_selection(pts, keep, self._point_size(m.n_points)[0] + 2)

    def _on_range_changed(self, *_):
        if self.large and self.model.z is not None and not self._setting_range:
            self._hist_timer.start()

    # ------------------------------------------------------------------ overlays
    def refresh_overlays(self) -> None:
        m = self.model
        conf = m.confidence_ellipse() if m.z is not None else None
        samp = m.sampling_ellipse() if m.z is not None else None
        for item, e in ((self.conf_curve, conf), (self.samp_curve, samp)):
            poly = None if e is None else e.polyline(128)
            item.setData([] if poly is None else poly[:, 0], [] if poly is None else poly[:, 1])
        if m.z_dim:
            try:
                o = m.origin_point()
                self.origin_item.setData([o[0]], [o[1]])
            except InvalidInputError:
                self.origin_item.setData([], [])
        else:
            self.origin_item.setData([], [])
        self.refresh_current()
        self.refresh_samples()
        self.refresh_path()

    def refresh_current(self) -> None:
        m = self.model
        try:
            c = None if m.current is None or not m.z_dim else m.plane_coords(m.current.vector)
        except InvalidInputError:
            c = None
        self.current_item.setData([] if c is None else [c[0]], [] if c is None else [c[1]])

    def refresh_samples(self) -> None:
        m = self.model
        if m.samples is None or len(m.samples) == 0 or m.z is None:
            self.samples_item.setData([], [])
            return
        n = len(m.samples)
        # a few: big crosses; thousands: small dots that leave the cloud visible
        self.samples_item.setStyle(size=9 if n <= 200 else 5 if n <= 2000 else 3,
                                   symbol="x" if n <= 200 else "o")
        try:
            s = m.plane_coords(m.samples)
        except InvalidInputError:
            self.samples_item.setData([], [])
            return
        self.samples_item.setData(s[:, 0], s[:, 1])

    def refresh_path(self) -> None:
        path = self.model.path
        if not isinstance(path, PlanePath) or path.plane != self.model.plane:
            self.path_curve.setData([], [])
            self.path_marks.setData([], [])
            return
        p = path.points
        self.path_curve.setData(p[:, 0], p[:, 1])
        ends = p[[0, -1]] if len(p) > 1 else p
        self.path_marks.setData(ends[:, 0], ends[:, 1])

    def resizeEvent(self, ev) -> None:  # noqa: N802
        super().resizeEvent(ev)
        if self.plotItem is None:  # closing: pyqtgraph has already dropped the plot
            return
        if getattr(self, "legend", None) is not None and self.__dict__.get("_legend_auto", True):
            vb = self.getViewBox()
            self.legend.setVisible(vb.width() >= LEGEND_MIN_SIZE[0] and vb.height() >= LEGEND_MIN_SIZE[1])

    def set_legend_visible(self, on: bool) -> None:
        """The user's choice (View > Show legend) overrides the automatic hiding."""
        self._legend_auto = False
        self.legend.setVisible(bool(on))

    # ------------------------------------------------------------------ mouse
    def _pixel_size(self) -> tuple[float, float]:
        vb = self.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        return (x1 - x0) / max(vb.width(), 1.0), (y1 - y0) / max(vb.height(), 1.0)

    def _nearest_in_pixels(self, x: float, y: float, reach: float) -> int | None:
        px, py = self._pixel_size()
        pts = self.model.plane_points()
        if not len(pts):
            return None
        d2 = ((pts[:, 0] - x) / px) ** 2 + ((pts[:, 1] - y) / py) ** 2
        k = int(np.argmin(d2))
        return k if d2[k] <= reach ** 2 else None

    def _near_current(self, x: float, y: float) -> bool:
        m = self.model
        if m.current is None or not m.z_dim:
            return False
        try:
            c = m.plane_coords(m.current.vector)
        except InvalidInputError:
            return False
        px, py = self._pixel_size()
        return ((c[0] - x) / px) ** 2 + ((c[1] - y) / py) ** 2 <= GRAB_PIXELS ** 2

    def _on_click(self, x: float, y: float, modifiers) -> None:
        m = self.model
        if m.current is None:
            return
        try:
            if m.path_mode:
                old = self.model.path
                pts = list(map(tuple, old.points)) if isinstance(old, PlanePath) and old.plane == m.plane else []
                m.set_path(np.array(pts + [(x, y)]))
                return
            if m.snap or modifiers & Qt.KeyboardModifier.ControlModifier:
                k = self._nearest_in_pixels(x, y, SNAP_PIXELS)
                if k is not None:
                    m.select_point(k)
                    pts = m.plane_points()
                    self.planeClicked.emit(float(pts[k, 0]), float(pts[k, 1]))
                    return
            m.set_plane_point(x, y)
            self.planeClicked.emit(x, y)
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(str(exc))

    def _scrub(self, x: float, y: float) -> None:
        try:
            self.model.set_plane_point(x, y)
        except InvalidInputError as exc:
            self.state.errorOccurred.emit(str(exc))

    def _path_begin(self, x: float, y: float) -> None:
        self._drag_path = [(x, y)]

    def _path_extend(self, x: float, y: float, final: bool = False) -> None:
        px, py = self._pixel_size()
        last = self._drag_path[-1] if self._drag_path else None
        if last is None or final or abs(x - last[0]) / px + abs(y - last[1]) / py >= 3:
            self._drag_path.append((x, y))
            if len(self._drag_path) >= 2:
                self.model.set_path(np.array(self._drag_path))

    def _on_mouse_moved(self, args) -> None:
        pos = args[0]
        vb = self.getViewBox()
        if self.model.z is None or not vb.sceneBoundingRect().contains(pos):
            self.hover_card.hide()
            return
        p = vb.mapSceneToView(pos)
        k = self._nearest_in_pixels(p.x(), p.y(), SNAP_PIXELS)
        if k is None:
            self.hover_item.setData([], [])
        else:
            q = self.model.plane_points()[k]
            self.hover_item.setData([q[0]], [q[1]])
        self.hover_card.show_at(self.mapFromScene(pos), -1 if k is None else k, p.x(), p.y())
        self.hovered.emit(-1 if k is None else k, p.x(), p.y())

    def leaveEvent(self, ev) -> None:  # noqa: N802
        self.hover_card.hide()
        super().leaveEvent(ev)

    # ------------------------------------------------------------------ for tests and tools
    def map_plane_to_widget(self, x: float, y: float):
        """Viewport position (QPoint) of plane coordinates (x, y)."""
        return self.mapFromScene(self.getViewBox().mapViewToScene(QPointF(x, y)))

    def plotted_points(self) -> np.ndarray:
        """All point coordinates currently drawn by the point items (m, 2)."""
        parts = [np.column_stack(it.getData()) for it in self._bin_items if it.isVisible() and len(it)]
        return np.concatenate(parts) if parts else np.zeros((0, 2))

    def density_image(self) -> np.ndarray | None:
        return self.image.image if self.image.isVisible() else None

    def ellipse_curves(self) -> tuple[np.ndarray, np.ndarray]:
        """(confidence, sampling) outlines as drawn, each (k, 2)."""
        out = []
        for c in (self.conf_curve, self.samp_curve):
            x, y = c.getData()
            out.append(np.zeros((0, 2)) if x is None else np.column_stack([x, y]))
        return out[0], out[1]
