"""pyqtgraph plot builders for the latent-space analyses, plus PNG/SVG export.

Each ``plot_*`` function takes NumPy arrays and draws into ``plot`` — a ``pg.PlotWidget`` or a
``pg.PlotItem`` (cleared first) — or, when ``plot`` is ``None``, into a new off-screen
``pg.PlotWidget`` of ``size`` pixels. It returns the ``pg.PlotItem`` (for new widgets the item
keeps a reference to its widget in ``item.owner_widget``). :func:`export_png` /
:func:`export_svg` write any of them atomically. Everything works with
``QT_QPA_PLATFORM=offscreen``; :func:`ensure_qapp` creates the ``QApplication`` if needed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) \
        and os.name == "posix" and "QT_QPA_PLATFORM" not in os.environ:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pyqtgraph as pg  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402



from ..fileio import atomic_write_bytes  # noqa: E402

__all__ = ["ensure_qapp", "new_plot", "plot_component_histograms", "plot_histogram_overview",
           "plot_radius_distribution", "plot_correlation_heatmap", "plot_pca_spectrum",
           "plot_kmeans_inertia", "plot_scatter", "export_png", "export_svg", "dispose"]

DEFAULT_SIZE = (900, 600)


def ensure_qapp() -> QtWidgets.QApplication:
    """The running QApplication, created (off-screen when there is no display) if missing."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([])
    return app


def new_plot(size=DEFAULT_SIZE, title: str | None = None) -> pg.PlotItem:
    """A PlotItem in a new, never-shown PlotWidget laid out at ``size`` pixels."""
    ensure_qapp()
    w = pg.PlotWidget(background="w")
    w.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    w.resize(int(size[0]), int(size[1]))
    w.show()                      # off-screen: only triggers the layout at this size
    item = w.getPlotItem()
    item.owner_widget = w         # keep the widget alive as long as the item is used
    if title:
        item.setTitle(title, color="k")
    _style(item)
    return item


def dispose(target) -> None:
    """Close and delete the off-screen widget behind a plot made by :func:`new_plot` now.

    ``item.owner_widget`` forms a reference cycle, so without this the widget would be freed by
    the cyclic garbage collector -- possibly in a worker thread, where destroying a QWidget
    deadlocks against the GUI thread.
    """
    widget = getattr(target, "owner_widget", None)
    if widget is None and isinstance(target, QtWidgets.QWidget):
        widget = target
    if widget is None:
        return
    if hasattr(target, "owner_widget"):
        target.owner_widget = None
    widget.close()
    import shiboken6

    if shiboken6.isValid(widget):
        shiboken6.delete(widget)


def _style(item: pg.PlotItem) -> None:
    item.layout.setContentsMargins(10, 10, 10, 10)
    for name in ("left", "bottom"):
        ax = item.getAxis(name)
        ax.setPen(pg.mkPen("k"))
        ax.setTextPen(pg.mkPen("k"))
        ax.enableAutoSIPrefix(False)
    item.showGrid(x=True, y=True, alpha=0.2)


def _target(plot, title=None, size=DEFAULT_SIZE) -> pg.PlotItem:
    if plot is None:
        return new_plot(size, title)
    if isinstance(plot, pg.PlotWidget):
        plot = plot.getPlotItem()
    if not isinstance(plot, pg.PlotItem):
        raise TypeError(f"plot: expected a pyqtgraph PlotWidget or PlotItem, got {type(plot)}")
    plot.clear()
    if plot.legend is not None:
        plot.legend.clear()
    if title:
        plot.setTitle(title)
    return plot


def _legend(item: pg.PlotItem):
    if item.legend is None:
        item.addLegend(offset=(-10, 10), labelTextColor="k", brush=pg.mkBrush(255, 255, 255, 200))
    return item.legend


def _color(i: int, n: int) -> QtGui.QColor:
    return pg.intColor(i, hues=max(n, 1), values=1, maxValue=220, sat=230)


def plot_component_histograms(edges, counts, indices, *, mu=None, half_width=None,
                              half_max_left=None, half_max_right=None, density: bool = False,
                              plot=None, title: str | None = "Component distributions",
                              size=DEFAULT_SIZE) -> pg.PlotItem:
    """Step histograms of selected components with μ and half-width marks.

    Parameters
    ----------
    edges : ndarray of shape (n_bins + 1,)
    counts : ndarray of shape (z_dim, n_bins)
    indices : sequence of int
        Components to draw (one colour each).
    mu, half_width : ndarray of shape (z_dim,), optional
        μ is drawn as a dashed vertical line; the half-width as a horizontal bar at half
        maximum from ``half_max_left`` to ``half_max_right`` (or centred on μ if those are
        not given).
    density : bool
        Normalise each histogram to unit area.
    """
    item = _target(plot, title, size)
    edges = np.asarray(edges, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    indices = [int(i) for i in indices]
    legend = _legend(item)
    bw = np.diff(edges)
    for n, i in enumerate(indices):
        c = counts[i] / max(counts[i].sum(), 1) / bw if density else counts[i]
        col = _color(n, len(indices))
        label = f"#{i}"
        if mu is not None:
            label += f" μ={mu[i]:.2f}"
        if half_width is not None:
            label += f" FWHM={half_width[i]:.2f}"  # the full width at half maximum
        curve = item.plot(edges, c, stepMode="center", pen=pg.mkPen(col, width=2))
        legend.addItem(curve, label)
        peak = float(c.max()) if c.size else 0.0
        if mu is not None:
            item.plot([mu[i], mu[i]], [0, peak], pen=pg.mkPen(col, width=1,
                                                                style=QtCore.Qt.PenStyle.DashLine))
        if half_width is not None and peak > 0:
            if half_max_left is not None and half_max_right is not None:
                a, b = half_max_left[i], half_max_right[i]
            else:
                centre = mu[i] if mu is not None else 0.5 * (edges[0] + edges[-1])
                a, b = centre - half_width[i] / 2, centre + half_width[i] / 2
            item.plot([a, b], [peak / 2, peak / 2], pen=pg.mkPen(col, width=3))
    item.setLabel("bottom", "component value", color="k")
    item.setLabel("left", "density" if density else "count", color="k")
    return item


def plot_histogram_overview(edges, counts, *, log: bool = True, plot=None,
                            title: str | None = "All component distributions",
                            size=DEFAULT_SIZE) -> pg.PlotItem:
    """Image of all histograms: x = component value, y = component index, colour = count."""
    item = _target(plot, title, size)
    edges = np.asarray(edges, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    img = np.log1p(c) if log else c
    image = pg.ImageItem(img.T, axisOrder="col-major")
    image.setColorMap(pg.colormap.get("viridis"))
    image.setRect(QtCore.QRectF(edges[0], 0, edges[-1] - edges[0], c.shape[0]))
    item.addItem(image)
    item.setLabel("bottom", "component value", color="k")
    item.setLabel("left", "component index", color="k")
    return item


def plot_radius_distribution(edges, counts, *, n_dim: int | None = None,
                             normal_sigma: float | None = 1.0, uniform_b=(1.5,), plot=None,
                             title: str | None = "Radius distribution",
                             size=DEFAULT_SIZE) -> pg.PlotItem:
    """Radius histogram as a density with theory curves for N(0, σ²) and uniform [-b, b].

    Parameters
    ----------
    edges : ndarray of shape (n_bins + 1,)
    counts : ndarray of shape (n_bins,)
    n_dim : int, optional
        Dimension for the theory curves (no curves when ``None``).
    normal_sigma : float or None
    uniform_b : sequence of float
    """
    from ..analysis.radius import normal_radius_theory, uniform_radius_theory

    item = _target(plot, title, size)
    edges = np.asarray(edges, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    dens = counts / max(counts.sum(), 1) / np.diff(edges)
    legend = _legend(item)
    legend.addItem(item.plot(edges, dens, stepMode="center", fillLevel=0,
                             brush=pg.mkBrush(80, 120, 200, 120), pen=pg.mkPen("b", width=2)),
                   "latent vectors")
    if n_dim:
        theories = []
        if normal_sigma:
            theories.append(normal_radius_theory(n_dim, normal_sigma))
        theories += [uniform_radius_theory(n_dim, b) for b in uniform_b]
        lo = min([edges[0]] + [max(t.mean - 6 * t.std, 0) for t in theories])
        hi = max([edges[-1]] + [t.mean + 6 * t.std for t in theories])
        x = np.linspace(lo, hi, 600)
        for n, t in enumerate(theories):
            name = (f"N(0, {t.scale:g}²)" if t.kind == "normal" else f"U[-{t.scale:g}, {t.scale:g}]")
            pen = pg.mkPen(["r", (0, 150, 0), (150, 0, 150), (200, 120, 0)][n % 4], width=2,
                           style=QtCore.Qt.PenStyle.DashLine)
            legend.addItem(item.plot(x, t.pdf(x), pen=pen),
                           f"{name} in {n_dim} dims: mean {t.mean:.2f}, std {t.std:.2f}")
    item.setLabel("bottom", "radius (L2 norm)", color="k")
    item.setLabel("left", "density", color="k")
    return item


def plot_correlation_heatmap(r, *, plot=None, title: str | None = "Pearson correlation",
                             size=(800, 700), colorbar: bool = True) -> pg.PlotItem:
    """Heat map of a correlation matrix (levels fixed to [-1, 1], diverging colours)."""
    item = _target(plot, title, size)
    r = np.asarray(r, dtype=np.float64)
    image = pg.ImageItem(r, axisOrder="row-major")
    cmap = pg.colormap.get("CET-D1")
    image.setColorMap(cmap)
    image.setLevels((-1.0, 1.0))
    item.addItem(image)
    item.invertY(True)
    item.setAspectLocked(True)
    if colorbar:
        item.addColorBar(image, colorMap=cmap, values=(-1, 1), interactive=False)
    item.setLabel("bottom", "component j", color="k")
    item.setLabel("left", "component i", color="k")
    return item


def plot_pca_spectrum(ratio, *, log: bool = True, plot=None,
                      title: str | None = "PCA explained variance ratio",
                      size=DEFAULT_SIZE) -> pg.PlotItem:
    """Explained variance ratio per PCA axis (log y) and, in the legend, the cumulative share."""
    item = _target(plot, title, size)
    ratio = np.asarray(ratio, dtype=np.float64)
    x = np.arange(1, ratio.size + 1)  # PC 1, PC 2, ... as everywhere else
    y = np.clip(ratio, 1e-12, None) if log else ratio
    legend = _legend(item)
    cum = np.cumsum(ratio)
    k90 = int(np.searchsorted(cum, 0.9) + 1) if cum.size and cum[-1] > 0 else 0
    legend.addItem(item.plot(x, y, pen=pg.mkPen("b", width=2), symbol="o", symbolSize=4,
                             symbolBrush="b"),
                   f"ratio (first 10: {cum[min(9, cum.size - 1)] if cum.size else 0:.1%}; "
                   f"90% needs {k90} axes)")
    item.setLogMode(False, log)
    item.setLabel("bottom", "PCA axis (PC 1 = largest variance)", color="k")
    item.setLabel("left", "explained variance ratio", color="k")
    return item


def plot_kmeans_inertia(k, inertia, *, plot=None, title: str | None = "KMeans inertia",
                        size=DEFAULT_SIZE) -> pg.PlotItem:
    """Inertia against the number of clusters (look for an elbow)."""
    item = _target(plot, title, size)
    item.plot(np.asarray(k, dtype=np.float64), np.asarray(inertia, dtype=np.float64),
              pen=pg.mkPen("b", width=2), symbol="o", symbolSize=5, symbolBrush="b")
    item.setLabel("bottom", "k (clusters)", color="k")
    item.setLabel("left", "inertia", color="k")
    return item


def plot_scatter(points, *, values=None, ellipses=(), point_size: float = 2.0,
                 max_points: int | None = 50_000, random_state: int = 0, plot=None,
                 title: str | None = None, size=(800, 800)) -> pg.PlotItem:
    """Scatter of 2-D points (t-SNE, a latent or PCA plane), optionally coloured and with ellipses.

    Parameters
    ----------
    points : ndarray of shape (n, 2)
    values : ndarray of shape (n,), optional
        Colour by value (e.g. an attribute), viridis.
    ellipses : sequence of Ellipse
        Drawn with their ``polyline()``.
    max_points : int or None
        Draw a seeded random subset of at most this many points.
    """
    item = _target(plot, title, size)
    p = np.asarray(points, dtype=np.float64)
    v = None if values is None else np.asarray(values, dtype=np.float64)
    if max_points is not None and p.shape[0] > max_points:
        idx = np.sort(np.random.default_rng(random_state).choice(p.shape[0], max_points,
                                                                  replace=False))
        p = p[idx]
        v = None if v is None else v[idx]
    if v is None:
        brush = pg.mkBrush(40, 80, 200, 120)
    else:
        lo, hi = float(v.min()), float(v.max())
        t = (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)
        rgba = pg.colormap.get("viridis").map(t, mode="byte")
        brush = [pg.mkBrush(*c[:3], 160) for c in rgba]
    scatter = pg.ScatterPlotItem(p[:, 0], p[:, 1], size=point_size, pen=None, brush=brush)
    item.addItem(scatter)
    for n, e in enumerate(ellipses):
        line = e.polyline(128)
        item.plot(line[:, 0], line[:, 1], pen=pg.mkPen(["r", (0, 150, 0), "m", "k"][n % 4], width=2))
    item.setAspectLocked(True)
    return item


def _graphics_item(target):
    if isinstance(target, (pg.PlotWidget,)):
        return target.getPlotItem()
    if isinstance(target, pg.GraphicsLayoutWidget):
        return target.ci
    if isinstance(target, QtWidgets.QGraphicsView):
        return target.scene()
    return target


def _settle(item) -> None:
    """Let pending layout requests (titles, colour bars) take effect before rendering."""
    app = ensure_qapp()
    for _ in range(3):
        app.processEvents()
    layout = getattr(item, "layout", None)
    if isinstance(layout, QtWidgets.QGraphicsLayout):
        layout.activate()


def _render_image(target, width: int | None) -> QtGui.QImage:
    """Render with pyqtgraph's ImageExporter (white background) to a QImage."""
    import pyqtgraph.exporters as pgex

    ensure_qapp()
    item = _graphics_item(target)
    scene = item if isinstance(item, QtWidgets.QGraphicsScene) else item.scene()
    if scene is None:
        raise ValueError("export: the item is not in a scene (add it to a PlotWidget first)")
    _settle(item)
    exporter = pgex.ImageExporter(item)
    params = exporter.parameters()
    params["background"] = QtGui.QColor("white")
    if width:
        params["width"] = int(width)
    img = exporter.export(toBytes=True)
    if img is None or img.isNull():
        raise ValueError("export: rendering produced an empty image")
    return img


def export_png(target, path, *, width: int | None = None) -> Path:
    """Write a PlotItem / PlotWidget / GraphicsLayoutWidget / scene as PNG (atomically).

    Parameters
    ----------
    target : pg.PlotItem, pg.PlotWidget, pg.GraphicsLayoutWidget or QGraphicsScene
    path : str or Path
    width : int, optional
        Output width in pixels (height keeps the aspect ratio); default the item's size.
    """
    img = _render_image(target, width)
    buf = QtCore.QBuffer()
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not img.save(buf, "PNG"):
        raise OSError(f"{path}: could not encode PNG")
    buf.close()
    path = Path(path)
    atomic_write_bytes(path, bytes(buf.data()))
    return path


def export_svg(target, path) -> Path:
    """Write a PlotItem / PlotWidget / scene as SVG (atomically) via QSvgGenerator.

    (pyqtgraph's own SVGExporter cannot parse the path syntax of current Qt SVG output.)
    """
    from PySide6.QtSvg import QSvgGenerator

    ensure_qapp()
    item = _graphics_item(target)
    if isinstance(item, QtWidgets.QGraphicsScene):
        source, scene = item.sceneRect(), item
    else:
        source, scene = item.sceneBoundingRect(), item.scene()
    if scene is None:
        raise ValueError("export: the item is not in a scene (add it to a PlotWidget first)")
    _settle(item)
    buf = QtCore.QBuffer()
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(QtCore.QSize(int(source.width()), int(source.height())))
    gen.setViewBox(QtCore.QRectF(0, 0, source.width(), source.height()))
    painter = QtGui.QPainter(gen)
    try:
        scene.render(painter, QtCore.QRectF(0, 0, source.width(), source.height()), source)
    finally:
        painter.end()
    buf.close()
    path = Path(path)
    atomic_write_bytes(path, bytes(buf.data()))
    return path
