"""Case 13: the explorer at two million points against the same steps at 200,000 (offscreen Qt).

Runs only inside ``python -m latentexplorer.bench.child scale``. Each row times one interaction
on the real widgets at 2,000,000 synthetic latent points (``latent_cloud``; 2 GB of float32) and,
as its baseline in the same run, the same interaction at 200,000 points: the ratio says what ten
times the points cost, the budget is the absolute one of a frame-rate interaction.
"""

from __future__ import annotations

import time

import numpy as np

from ..bench.data import latent_cloud
from ..bench.runner import Context, Result, median, percentile
from .bench_cases import PLANES, _app, _render

FRAME_MS = 1000.0 / 60.0


def _explorer(app, n: int):
    """A scatter widget of ``n`` points with its analysis, shown offscreen at 900 x 650."""
    from ..explore.analysis import compute_analysis
    from .scatter import LatentScatterWidget
    from .state import AppState

    z = latent_cloud(n, 256, seed=4)
    t0 = time.perf_counter()
    analysis = compute_analysis(z)
    analysis_s = time.perf_counter() - t0
    st = AppState()
    st.model.set_data(z)
    st.model.set_analysis(analysis)
    w = LatentScatterWidget(st)
    w.resize(900, 650)
    w.show()
    app.processEvents()
    return st, w, analysis_s


def _plane_switch_ms(app, st, reps: int) -> list[float]:
    out = []
    for k in range(reps + 1):
        i, j = PLANES[k % len(PLANES)]
        t0 = time.perf_counter()
        st.model.set_plane(("latent", i, j))
        _render(app)
        out.append((time.perf_counter() - t0) * 1000)
    return out[1:]  # the first switch also builds caches


def _hover_ms(st, reps: int, seed: int = 0) -> tuple[list[float], list[float]]:
    """Hovering: the data point nearest to a plane position (its name and thumbnail are shown);
    and, separately, the 8 nearest data points in z of a vector (the neighbour list)."""
    m = st.model
    pts = m.plane_points()
    rng = np.random.default_rng(seed)
    targets = pts[rng.integers(0, len(pts), reps)] + rng.normal(0, 0.05, (reps, 2)).astype(np.float32)
    hover, knn = [], []
    for x, y in targets:
        t0 = time.perf_counter()
        k = m.nearest_plane_point(float(x), float(y))
        t1 = time.perf_counter()
        m.nearest_points(8, m.z[k])
        hover.append((t1 - t0) * 1000)
        knn.append((time.perf_counter() - t1) * 1000)
    return hover, knn


def _click_face_ms(app, st, w, controller, reps: int, seed: int = 1) -> list[float]:
    """A real mouse click on the viewport -> current vector -> decoded face -> painted (the
    exact nearest data point is searched in the background meanwhile and shown when found)."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    rng = np.random.default_rng(seed)
    vp = w.viewport()
    out = []
    for _ in range(reps):
        pos = QPoint(int(rng.integers(200, 700)), int(rng.integers(150, 500)))
        t0 = time.perf_counter()
        QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
        controller.decoding.wait_idle()
        _render(app)
        out.append((time.perf_counter() - t0) * 1000)
        controller.wait_idle()  # the nearest point's search, shown a moment later, off the clock
    return out


def bench_scale(ctx: Context) -> list[Result]:
    app = _app()
    from .. import _env  # noqa: F401
    from ..models.autoencoder import build_decoder
    from ..models.codec import Decoder
    from ..schemas import ModelConfig
    from .controller import ExplorerController
    from .face_view import FaceView
    from .workers import TaskRunner

    big, small = (200_000, 20_000) if ctx.quick else (2_000_000, 200_000)
    reps = 5 if ctx.quick else 15
    decoder = Decoder(build_decoder(ModelConfig.from_preset("case1")))
    figures = {}
    for n in (small, big):
        st, w, analysis_s = _explorer(app, n)
        switch = _plane_switch_ms(app, st, reps)
        st.model.set_plane(("pca", 0, 1))
        _render(app)
        hover, knn = _hover_ms(st, reps * 4)
        controller = ExplorerController(st, TaskRunner())
        st.set_decoder(decoder)
        face = FaceView(st, controller.neighbours)
        face.show()
        _click_face_ms(app, st, w, controller, 3)  # warm-up: first decode builds the function
        click = _click_face_ms(app, st, w, controller, reps)
        controller.close()
        face.close()
        w.close()
        figures[n] = {"switch": switch, "hover": hover, "knn": knn, "click": click,
                      "analysis_s": analysis_s}
        del st, w
    b, s = figures[big], figures[small]

    def row(name, title, key, stat, budget_ms, budget):
        ours = stat(b[key])
        base = stat(s[key])
        return Result(name, title, ours, base, "ms", ratio=ours / base if base else None,
                      ratio_def="ours/baseline", budget=budget, passed=ours < budget_ms,
                      quick=ctx.quick,
                      notes=f"{big:,} vs {small:,} points x 256 (latent_cloud), offscreen 900x650; "
                            f"ratio = time at {big:,} / time at {small:,}",
                      details={f"ms_{big}": b[key], f"ms_{small}": s[key],
                               f"knn8_ms_{big}": b["knn"], f"knn8_ms_{small}": s["knn"],
                               f"analysis_s_{big}": b["analysis_s"],
                               f"analysis_s_{small}": s["analysis_s"]})

    return [
        row("gui_plane_switch_2m", f"GUI: switch latent plane, {big:,} points", "switch", median,
            50.0, "< 50 ms"),
        row("gui_hover_2m", f"GUI: hover -> nearest data point on the plane, {big:,} points",
            "hover", lambda v: percentile(v, 95), FRAME_MS, "p95 < 16 ms"),
        row("gui_click_face_2m", f"GUI: click -> decoded face painted, {big:,} points", "click",
            median, FRAME_MS, "< one 60 Hz frame (16.7 ms)"),
    ]
