"""Radius tab: the radius (L2 norm) distribution with the N(0,1) and uniform-box theory curves."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QVBoxLayout

from ...progress import ProgressReporter
from .. import analysis_plots as ap
from ..export import add_export_actions
from .base import _plot_widget, _Tab


def radius_task(params, reporter: ProgressReporter | None = None) -> dict:
    """Radii of ``params["z"]``: histogram (bin width ``params["bin_width"]``) and summary, plus the
    radii of ``params["samples"]`` (generated vectors) when given. ``params["cached"]``: an earlier
    result for the same points (only the samples are then computed)."""
    from ...analysis.radius import radii, radius_histogram, radius_stats

    bw = float(params.get("bin_width", 0.5))
    cached = params.get("cached")
    if cached is not None and cached.get("bin_width") == bw:
        out = {k: v for k, v in cached.items() if k != "sample_radii"}
    else:
        if reporter is not None:
            reporter.update(0, 2, "radii")
        r = radii(params["z"])
        if reporter is not None:
            reporter.raise_if_cancelled()
            reporter.update(1, 2, "radius histogram")
        edges, counts = radius_histogram(r, bin_width=bw)
        out = {"edges": edges, "counts": counts, "stats": radius_stats(r, bin_width=bw),
               "n_dim": int(params["z"].shape[1]), "bin_width": bw}
    samples = params.get("samples")
    if samples is not None and len(samples):
        out["sample_radii"] = radii(samples)
    if reporter is not None:
        reporter.update(2, 2, "radius distribution ready")
    return out


class RadiusTab(_Tab):
    """Radius (L2 norm) distribution with the N(0,1) and uniform-box theory curves."""

    title = "Radius"
    JOB = "analysis-radius"

    def __init__(self, views) -> None:
        super().__init__(views)
        self.result: dict | None = None
        self._result_z = None
        self.plot = _plot_widget("Radius distribution")
        self.bin_width = QComboBox()
        self.bin_width.addItems(["0.5", "0.05"])
        self.bin_width.setToolTip("Histogram bin width")
        self.bin_width.currentTextChanged.connect(lambda _t: self.invalidate())
        self.b = QDoubleSpinBox()
        self.b.setRange(0.05, 20.0)
        self.b.setSingleStep(0.25)
        self.b.setValue(1.5)
        self.b.setToolTip("Half-width b of the uniform box [-b, b] for the theory curve")
        self.b.valueChanged.connect(self._draw)
        self.sigma = QDoubleSpinBox()
        self.sigma.setRange(0.05, 20.0)
        self.sigma.setSingleStep(0.1)
        self.sigma.setValue(1.0)
        self.sigma.setToolTip("σ of the normal N(0, σ²) theory curve")
        self.sigma.valueChanged.connect(self._draw)
        self.stats_label = QLabel("")
        self.stats_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Bin width", self.bin_width)
        form.addRow("Normal σ", self.sigma)
        form.addRow("Uniform b", self.b)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.stats_label)
        side.addWidget(self.message)
        side.addStretch(1)
        self._side_by_side(self.plot, side, 260)
        add_export_actions(self.plot, "radius", self, state=self.state)

    def refresh(self) -> None:
        self.stale = False
        z = self.model.z
        if z is None:
            self.result = None
            self.plot.getPlotItem().clear()
            self.message.setText("No z-points loaded")
            return
        bw = float(self.bin_width.currentText())
        cached = self.result if self.result is not None and self._result_z is z else None
        params = {"z": z, "bin_width": bw, "samples": self.model.samples, "cached": cached}
        self._run(self.JOB, radius_task, params,
                  lambda res, z=z: self._set_result(res, z) if self.model.z is z else None,
                  "computing radii …")

    def _set_result(self, res: dict, z=None) -> None:
        self.result = res
        self._result_z = z
        s = res["stats"]
        self.stats_label.setText(
            f"<b>{int(np.sum(res['counts'])):,}</b> points in {res['n_dim']} dims<br>"
            f"mean {s.mean:.2f} ± {s.std:.2f}<br>"
            f"peak {s.peak:.2f} ± {s.peak_se:.2f} (smoothed mode; highest bin {s.peak_hist:.2f})<br>"
            f"1 % … 99 %: {s.p01:.2f} … {s.p99:.2f}<br>min {s.min:.2f}, max {s.max:.2f}")
        self.message.setText("")
        self._draw()

    def _draw(self) -> None:
        res = self.result
        if res is None:
            return
        item = ap.plot_radius_distribution(res["edges"], res["counts"], n_dim=res["n_dim"],
                                           normal_sigma=float(self.sigma.value()),
                                           uniform_b=(float(self.b.value()),), plot=self.plot,
                                           title="Radius distribution")
        sr = res.get("sample_radii")
        if sr is not None and len(sr):
            edges = np.asarray(res["edges"])
            bw = float(res["bin_width"])
            hi = max(edges[-1], float(np.max(sr)) + bw)
            e2 = np.arange(0.0, hi + bw, bw)
            c2, _ = np.histogram(sr, bins=e2)
            dens = c2 / max(c2.sum(), 1) / bw
            item.legend.addItem(item.plot(e2, dens, stepMode="center",
                                          pen=pg.mkPen((230, 120, 0), width=2)),
                                f"generated samples ({len(sr)})")
