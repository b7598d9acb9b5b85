"""Benchmark: the explorer with 200,000 z-points (not collected by pytest).

Run:  QT_QPA_PLATFORM=offscreen python tests/gui/bench_explorer.py [N] [--baseline]
      [--no-training-hook]

1. Builds (once, under /tmp/le_bench) a workspace with N z-points (z_dim 256, untrained case1
   decoder at 96x96; a 16x16 store would not match, so the store holds N tiny images and the
   decoder is saved separately -- only the latents and a decoder matter for the explorer).
2. Opens it in the MainWindow and measures the GUI thread with a 2 ms watchdog timer: the
   longest event-loop stall and the total time until latents, PCA, statistics and the
   nearest-neighbour index are ready.
3. Plane switches (data + render), slider moves, clicks (state + decode + nearest + render).
4. ``--baseline``: the same plane switch with one ScatterPlotItem and one QBrush per point.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

ROOT = Path("/tmp/le_bench")


def build_workspace(n: int) -> Path:
    from latentexplorer import _env  # noqa: F401
    from latentexplorer.data.store import StoreWriter
    from latentexplorer.schemas import ModelConfig
    from latentexplorer.workspace import Workspace

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
    from tiny_models import commit_untrained_epoch

    ws_dir = ROOT / f"ws{n}"
    if (ws_dir / "latents" / "meta.json").is_file():
        return ws_dir
    size = 16
    store = ROOT / f"store{n}"
    if not (store / "meta.json").is_file():
        rng = np.random.default_rng(0)
        with StoreWriter(store, n, size) as w:
            for s in range(0, n, 20000):
                k = min(20000, n - s)
                w.images[s:s + k] = rng.integers(0, 255, (k, size, size, 3), dtype=np.uint8)
            w.set_attributes(np.sign(rng.normal(size=(n, 2))).astype(np.float32), ["A", "B"])
            w.finish({"source": "bench", "preset": "synthetic"})
    cfg = ModelConfig.from_preset("case1", image_size=size, z_dim=256)
    ws = Workspace.create(ws_dir, store, cfg)
    commit_untrained_epoch(ws)
    rng = np.random.default_rng(1)
    scales = (np.exp(-np.arange(256) / 40.0) * 3).astype(np.float32)
    z = np.empty((n, 256), np.float32)
    mix = rng.normal(size=(256, 256)).astype(np.float32) / 16
    for s in range(0, n, 20000):
        k = min(20000, n - s)
        z[s:s + k] = (rng.normal(size=(k, 256)).astype(np.float32) * scales) @ mix + 0.3
    ws.write_latents(z)
    return ws_dir


class Watchdog:
    """Longest gap between ticks of a 2 ms timer = the longest GUI-thread stall."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.gaps = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(2)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self):
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def report(self, label):
        g = np.array(self.gaps) * 1000
        if len(g) == 0:
            return f"{label}: no ticks"
        return (f"{label}: longest GUI-thread stall {g.max():.0f} ms, "
                f"stalls > 100 ms: {(g > 100).sum()}, p99 {np.percentile(g, 99):.0f} ms")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 200_000
    t = time.perf_counter()
    ws_dir = build_workspace(n)
    print(f"workspace with {n:,} z-points ready ({time.perf_counter() - t:.0f} s)")

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from latentexplorer.gui.main_window import MainWindow

    win = MainWindow()
    win.resize(1366, 768)
    win.show()
    app.processEvents()
    st = win.state
    if "--no-training-hook" in sys.argv and win.training_view is not None:
        # isolate the explorer's own GUI-thread work from the Training tab's reaction
        st.latentsChanged.disconnect(win.training_view._show_current_latents)
    marks = {}
    st.latentsChanged.connect(lambda: marks.setdefault("latents", time.perf_counter()))
    st.decoderChanged.connect(lambda: marks.setdefault("decoder", time.perf_counter()))
    st.analysisChanged.connect(lambda: marks.setdefault("analysis", time.perf_counter()))
    wd = Watchdog()
    t0 = time.perf_counter()
    win.open_workspace(ws_dir)
    while win.runner.busy or st.pca is None or st.decoder is None:
        app.processEvents()
        time.sleep(0.001)
    app.processEvents()
    win.grab()
    total = time.perf_counter() - t0
    wd.timer.stop()
    print(f"open workspace: latents shown after {marks['latents'] - t0:.2f} s, decoder after "
          f"{marks['decoder'] - t0:.2f} s, PCA/stats/nearest index after {marks['analysis'] - t0:.2f} s, "
          f"total {total:.2f} s")
    print(wd.report("  during loading"))
    print(f"  scatter refresh of {n:,} points (GUI thread): {win.scatter.last_update_ms['data']:.0f} ms")

    def timed(label, fn, reps=6):
        ts = []
        for k in range(reps):
            t = time.perf_counter()
            fn(k)
            app.processEvents()
            win.scatter.grab()
            ts.append(time.perf_counter() - t)
        ts = np.array(ts) * 1000
        print(f"{label}: median {np.median(ts):.0f} ms, max {ts.max():.0f} ms")

    planes = [("latent", 0, 1), ("pca", 0, 1), ("latent", 5, 9), ("pca", 2, 3), ("latent", 100, 7),
              ("pca", 0, 4)]
    timed("plane switch (set data + render)", lambda k: st.set_plane(*planes[k % len(planes)]))
    timed("sigma slider (ellipses + render)", lambda k: st.set_sigma_level(1.5 + 0.2 * k))
    st.set_plane("latent", 0, 1)

    def click(k):
        st.set_plane_point(0.2 * k, -0.1 * k)
        win.face_view._timer.stop()
        win.face_view._update_now()

    timed("click (plane point + decode 16x16 + nearest + render)", click)
    print(f"  nearest training image: {win.face_view.last_nearest_ms:.1f} ms, "
          f"decode_one: {win.face_view.last_decode_ms:.1f} ms")
    st.set_color_by("A")
    timed("plane switch coloured by a binary attribute", lambda k: st.set_plane(*planes[k % len(planes)]))

    if "--baseline" in sys.argv:
        import pyqtgraph as pg

        pw = pg.PlotWidget()
        pw.resize(1000, 600)
        pw.show()
        sp = pg.ScatterPlotItem(pxMode=True, size=3)
        pw.addItem(sp)
        cmap = pg.colormap.get("viridis")
        ts = []
        for k in range(2):
            t = time.perf_counter()
            x, y = st.z[:, 2 * k], st.z[:, 2 * k + 1]
            sp.setData(x=x, y=y, brush=[pg.mkBrush(cmap.map(float(v), mode="qcolor"))
                                        for v in (st.attributes[:, 0] * 0.4 + 0.5)])
            app.processEvents()
            pw.grab()
            ts.append(time.perf_counter() - t)
        print(f"baseline, ScatterPlotItem with a QBrush per point: plane switch "
              f"{np.median(ts) * 1000:.0f} ms")
    win.close()
    os._exit(0)  # skip interpreter teardown of Qt/TF objects


if __name__ == "__main__":
    main()
