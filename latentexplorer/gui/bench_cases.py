"""Cases 8 and 9: the explorer's scatter with 200,000 points (offscreen Qt, child process).

Runs only inside ``python -m latentexplorer.bench.child gui`` (``QT_QPA_PLATFORM=offscreen``
is set before Qt is imported). (Folded in from the plane-switch part of
``tests/gui/bench_explorer.py``.)
"""

from __future__ import annotations

import os
import time

import numpy as np

from ..bench.data import latent_cloud
from ..bench.runner import Context, Result, median, percentile, speedup

PLANES = [(0, 1), (2, 3), (4, 5), (6, 7), (1, 8), (3, 9), (10, 11), (12, 13), (5, 14)]


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


class _PaintCounter:
    """Counts paint events of widgets (to check that a timed step rendered exactly once)."""

    def __init__(self, *widgets) -> None:
        from PySide6.QtCore import QEvent, QObject

        counter = self

        class Filter(QObject):
            def eventFilter(self, obj, ev):  # noqa: N802
                if ev.type() == QEvent.Type.Paint:
                    counter.count += 1
                return False

        self.count = 0
        self._filter = Filter()
        for w in widgets:
            w.installEventFilter(self._filter)


def _render(app) -> None:
    """Deliver the pending events: the changed widgets paint once, as in the running app."""
    app.processEvents()


def bench_gui(ctx: Context) -> list[Result]:
    app = _app()
    import pyqtgraph as pg
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from ..analysis._kernels import histogram_2d
    from ..explore.analysis import compute_analysis
    from ..gui.scatter import LatentScatterWidget
    from ..gui.scatter_items import robust_range
    from ..gui.state import AppState

    n = 20_000 if ctx.quick else 200_000
    z = latent_cloud(n, 256, seed=4)
    t = time.perf_counter()
    analysis = compute_analysis(z)
    analysis_s = time.perf_counter() - t
    st = AppState()
    m = st.model
    m.set_data(z)
    m.set_analysis(analysis)

    # ------------------------------------------------------------------ 8: plane switch
    ours_w = LatentScatterWidget(st)
    ours_w.resize(900, 650)
    ours_w.show()
    base_w = pg.PlotWidget()
    base_w.resize(900, 650)
    base_w.show()
    base_item = pg.ScatterPlotItem(pxMode=True, size=3, pen=None)
    base_w.addItem(base_item)
    cmap = pg.colormap.get("viridis")
    lut_brushes = np.empty(256, dtype=object)
    for k in range(256):
        lut_brushes[k] = pg.mkBrush(cmap.map(k / 255.0, mode="qcolor"))
    app.processEvents()
    paints_o = _PaintCounter(ours_w.viewport())
    paints_b = _PaintCounter(base_w.viewport())

    def ours(k: int) -> float:
        i, j = PLANES[k % len(PLANES)]
        t0 = time.perf_counter()
        m.set_plane(("latent", i, j))
        _render(app)
        return time.perf_counter() - t0

    def baseline(k: int) -> float:
        i, j = PLANES[k % len(PLANES)]
        t0 = time.perf_counter()
        x = np.ascontiguousarray(z[:, i])
        y = np.ascontiguousarray(z[:, j])
        # density colouring (what ours shows), one brush per point
        x0, x1, y0, y1 = robust_range(np.column_stack([x, y]))
        h = np.log1p(histogram_2d(x, y, x0, x1, y0, y1, 64, 64))
        ix = np.clip(((x - x0) / (x1 - x0) * 64).astype(np.int64), 0, 63)
        iy = np.clip(((y - y0) / (y1 - y0) * 64).astype(np.int64), 0, 63)
        v = h[ix, iy] / max(float(h.max()), 1e-9)
        brushes = lut_brushes[(v * 255).astype(np.int64)]
        base_item.setData(x=x, y=y, brush=brushes)
        _render(app)
        return time.perf_counter() - t0

    ours(len(PLANES) - 1)
    baseline(len(PLANES) - 1)
    paints_o.count = paints_b.count = 0
    reps_o, reps_b = (5, 2) if ctx.quick else (9, 3)
    o_t: list[float] = []
    b_t: list[float] = []
    for r in range(reps_o):
        o_t.append(ours(r))
        if r % 3 == 1 and len(b_t) < reps_b:
            b_t.append(baseline(r))
    while len(b_t) < reps_b:
        b_t.append(baseline(len(b_t)))
    # PCA planes (cached leading coordinates) for the details
    pca_t = []
    for k in range(3 if ctx.quick else 5):
        t0 = time.perf_counter()
        m.set_plane(("pca", k, k + 1))
        _render(app)
        pca_t.append(time.perf_counter() - t0)
    om, bm = median(o_t) * 1000, median(b_t) * 1000
    paints = {"ours_per_switch": paints_o.count / reps_o, "baseline_per_switch": paints_b.count / reps_b}
    base_w.close()
    rows = [Result(
        "gui_plane_switch", f"GUI: switch plane with {n:,} points (set data + render)", om, bm, "ms",
        ratio=speedup(om, bm), budget=">= 5x faster and < 50 ms", passed=(bm / om >= 5 and om < 50),
        quick=ctx.quick,
        notes=f"offscreen, 900x650; ours: ExplorationModel.set_plane -> LatentScatterWidget (density image "
              f"above 50,000 points) + the paint it triggers; baseline: pyqtgraph ScatterPlotItem, "
              f"one brush per point (density colours), setData + its paint; latent planes; "
              f"{reps_o}/{reps_b} runs",
        details={"ours_ms": [x * 1000 for x in o_t], "baseline_ms": [x * 1000 for x in b_t],
                 "ours_pca_planes_ms": [x * 1000 for x in pca_t], "paint_events": paints,
                 "analysis_s (PCA, stats, nearest index; worker thread in the app)": analysis_s})]

    # ------------------------------------------------------------------ 9: slider step
    from .. import _env  # noqa: F401
    from ..gui.controller import ExplorerController
    from ..gui.face_view import FaceView
    from ..gui.plane_controls import PlaneControls
    from ..gui.workers import TaskRunner
    from ..models.autoencoder import build_decoder
    from ..models.codec import Decoder
    from ..schemas import ModelConfig

    controller = ExplorerController(st, TaskRunner())
    m.set_plane(("pca", 0, 1))
    st.set_decoder(Decoder(build_decoder(ModelConfig.from_preset("case1"))))
    m.set_sharpen(3.0)
    win = QWidget()
    lay = QHBoxLayout(win)
    controls = PlaneControls(st, ours_w)
    face = FaceView(st)
    lay.addWidget(controls)
    lay.addWidget(ours_w, 1)
    lay.addWidget(face)
    win.resize(1366, 768)
    win.show()
    app.processEvents()
    paints_w = _PaintCounter(ours_w.viewport(), face.image)
    slider = controls.sigma.slider
    steps = 15 if ctx.quick else 60
    start = slider.value()

    def step(k: int) -> float:
        t0 = time.perf_counter()
        slider.setValue(start + (k % 20) - 10 if k % 40 < 20 else start - (k % 20) + 10)
        # the decoded face follows: decode_one in the decoding thread, then nearest point,
        # Mahalanobis, sharpen and pixmap in the GUI thread
        controller.decode_current()
        controller.wait_idle()
        _render(app)
        return time.perf_counter() - t0

    for k in range(3):
        step(k)
    paints_w.count = 0
    s_t = [step(k) * 1000 for k in range(steps)]
    paints_step = paints_w.count / steps
    sigma_values = m.sigma_level
    win.close()
    controller.close()
    sm = median(s_t)
    rows.append(Result(
        "gui_slider_step", "GUI: slider drag step -> overlays + decoded image updated", sm, None, "ms",
        budget="< 30 ms per step", passed=sm < 30, quick=ctx.quick,
        notes=f"offscreen 1366x768 (plane controls + scatter of {n:,} points in a PCA plane + face "
              f"view); one step = sigma slider tick (ellipses recomputed and redrawn) + face view "
              f"update (Decoder.decode_one of the case1 decoder 96x96 in the decoding thread, "
              f"nearest data point, sharpen 3) + the paints this triggers (scatter and face); median "
              f"of {steps} steps; no baseline",
        details={"step_ms": s_t, "p95_ms": percentile(s_t, 95), "last_decode_ms": controller.last_decode_ms,
                 "last_nearest_ms": face.last_nearest_ms, "sigma_level_end": sigma_values,
                 "paint_events_per_step (scatter viewport + face image)": paints_step}))
    return rows
