import numpy as np
import pytest

ap = pytest.importorskip("latentexplorer.gui.analysis_plots")

from latentexplorer.analysis.ellipse import confidence_ellipse  # noqa: E402
from latentexplorer.analysis.statistics import component_stats  # noqa: E402


def test_builders_export_png_and_svg(tmp_path):
    import pyqtgraph as pg

    rng = np.random.default_rng(0)
    z = rng.normal(size=(500, 6))
    st = component_stats(z)
    item = ap.plot_component_histograms(st.edges, st.counts, [0, 2], mu=st.mu,
                                        half_width=st.half_width,
                                        half_max_left=st.half_max_left,
                                        half_max_right=st.half_max_right)
    assert isinstance(item, pg.PlotItem)
    png = ap.export_png(item, tmp_path / "h.png", width=400)
    assert png.read_bytes()[:4] == b"\x89PNG"
    svg = ap.export_svg(item, tmp_path / "h.svg")
    assert b"<svg" in svg.read_bytes()[:400]
    # fill a given PlotWidget (what the GUI does) and export the widget
    w = pg.PlotWidget()
    pts = z[:, :2]
    it2 = ap.plot_scatter(pts, values=z[:, 2], ellipses=[confidence_ellipse(pts)], plot=w)
    assert it2 is w.getPlotItem()
    ap.export_png(w, tmp_path / "s.png")
    ap.plot_pca_spectrum(np.array([0.6, 0.3, 0.1]), plot=it2)     # reuse: cleared first
    assert ap.export_png(it2, tmp_path / "p.png").stat().st_size > 1000
    for it in (ap.plot_kmeans_inertia([2, 3, 4], [9.0, 5.0, 4.0]),
               ap.plot_correlation_heatmap(np.corrcoef(z, rowvar=False)),
               ap.plot_histogram_overview(st.edges, st.counts),
               ap.plot_radius_distribution(*np.histogram(np.linalg.norm(z, axis=1), 20)[::-1],
                                           n_dim=6)):
        assert isinstance(it, pg.PlotItem)
    assert not list(tmp_path.glob("*.partial"))
