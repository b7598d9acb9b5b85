"""Two views of the explorer, driven like a user: colour the scatter by KMeans cluster (the View
combo, the k box, a real background job, the legend's entries clicked on the viewport) and the
t-SNE / UMAP map (method combo, compute button, drawn while it forms, a click makes a point
current). Colours are checked against labels computed independently of the code under test."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget
from sklearn.datasets import make_blobs

from latentexplorer.explore.clusters import cluster_palette
from latentexplorer.gui import scatter as scatter_module
from latentexplorer.gui.analysis_views import AnalysisViews
from latentexplorer.gui.controller import ExplorerController
from latentexplorer.gui.plane_controls import PlaneControls
from latentexplorer.gui.scatter import LatentScatterWidget
from latentexplorer.gui.workers import TaskRunner

K = 4


def blobs(n_per: int = 75, seed: int = 0):
    """Four blobs 12 apart in 6-D (σ = 1): in the plane of z[0], z[1] two of them overlap, the
    clusters still tell them apart. Returns z (n, 6) float32 and the true labels (n,)."""
    z, truth = make_blobs(n_samples=[n_per] * K, centers=12.0 * np.eye(K, 6), cluster_std=1.0,
                          random_state=seed)
    return z.astype(np.float32), truth


@pytest.fixture
def explorer(qtbot, make_state):
    """Plane controls, scatter and analysis views on one state, with a real task runner."""
    z, truth = blobs()
    st = make_state(z, attributes=z[:, [0]], attribute_names=["a0"])
    runner = TaskRunner()
    controller = ExplorerController(st, runner)
    scatter = LatentScatterWidget(st)
    controls = PlaneControls(st, scatter)
    views = AnalysisViews(st, controller)
    win = QWidget()
    lay = QHBoxLayout(win)
    lay.addWidget(controls)
    lay.addWidget(scatter, 1)
    lay.addWidget(views, 1)
    qtbot.addWidget(win)
    win.resize(1500, 700)
    win.show()
    qtbot.waitExposed(win)
    yield SimpleNamespace(state=st, model=st.model, truth=truth, runner=runner, scatter=scatter,
                          controls=controls, views=views)
    runner.cancel_all(wait_ms=30_000)
    controller.close()


def _choose(qtbot, combo, text: str) -> None:
    """Pick ``text`` in a combo box with the keyboard, as a user tabbing to it would."""
    combo.setFocus()
    for key in (Qt.Key_Down, Qt.Key_Up):
        for _ in range(combo.count()):
            if combo.currentText() == text:
                return
            qtbot.keyClick(combo, key)
    assert combo.currentText() == text, [combo.itemText(i) for i in range(combo.count())]


def _type(qtbot, spin, value) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    qtbot.keyClick(spin, Qt.Key_Enter)


def _colour_by_clusters(qtbot, ex, k: int = K) -> None:
    _choose(qtbot, ex.controls.color_by, "KMeans cluster")
    assert ex.model.color_by == "kmeans" and ex.controls.n_clusters.isVisible()
    _type(qtbot, ex.controls.n_clusters, k)
    assert ex.model.n_clusters == k
    qtbot.waitUntil(lambda: ex.model.clusters is not None and ex.model.clusters.k == k, timeout=30_000)
    qtbot.waitUntil(lambda: not ex.runner.busy, timeout=30_000)


def _same_partition(a, b) -> bool:
    pairs = set(zip(np.asarray(a).tolist(), np.asarray(b).tolist()))
    return len(pairs) == len(set(np.asarray(a).tolist())) == len(set(np.asarray(b).tolist()))


def _legend_click(qtbot, scatter, cluster: int, modifier=Qt.NoModifier) -> None:
    """A real click on the viewport, on the legend entry of ``cluster``."""
    legend = scatter.cluster_legend
    scene = legend.mapToScene(legend.entry_rect(cluster).center())
    qtbot.mouseClick(scatter.viewport(), Qt.LeftButton, modifier, scatter.mapFromScene(scene))


# ------------------------------------------------------------------ colour by cluster
def test_scatter_colours_by_kmeans_cluster_and_a_legend_click_selects_one(qtbot, explorer):
    ex = explorer
    m, sc = ex.model, ex.scatter
    _colour_by_clusters(qtbot, ex)
    labels = m.clusters.labels
    assert _same_partition(labels, ex.truth)  # the four blobs, found on all points

    # each point item holds one cluster, in that cluster's categorical colour
    pts = m.plane_points()
    index_of = {(float(x), float(y)): i for i, (x, y) in enumerate(pts)}
    palette = cluster_palette(K)
    drawn = np.full(m.n_points, -1)
    colours = set()
    for it in sc._bin_items:
        if not (it.isVisible() and len(it)):
            continue
        idx = np.array([index_of[(float(x), float(y))] for x, y in zip(*it.getData())])
        assert len(set(ex.truth[idx].tolist())) == 1, "an item mixes true clusters"
        c = int(labels[idx[0]])
        assert (labels[idx] == c).all()
        rgb = it._color.getRgb()[:3]
        assert rgb == tuple(int(v) for v in palette[c])
        colours.add(rgb)
        drawn[idx] = c
    assert (drawn >= 0).all() and len(colours) == K
    assert not sc.colorbar.isVisible()
    assert "KMeans cluster (k = 4)" in sc.info_label.textItem.toPlainText()

    # a legend entry per cluster with its count; a click on one selects exactly that cluster
    legend = sc.cluster_legend
    assert legend.isVisible() and len(legend.items) == K
    for c, (_sample, label) in enumerate(legend.items):
        assert label.text == f"cluster {c + 1}: {int((labels == c).sum()):,}"
    current = m.current.vector.copy()
    with qtbot.waitSignal(ex.state.selectionChanged, timeout=2000):
        _legend_click(qtbot, sc, 2)
    np.testing.assert_array_equal(m.selection, np.flatnonzero(ex.truth == ex.truth[labels == 2][0]))
    np.testing.assert_array_equal(m.current.vector, current)  # the legend took the click
    _legend_click(qtbot, sc, 0, Qt.ShiftModifier)  # Shift adds
    np.testing.assert_array_equal(m.selection, np.flatnonzero((labels == 2) | (labels == 0)))

    # the KMeans tab marks the same clusters on its curve
    mark = ex.views.kmeans.cluster_mark
    x, y = mark.getData()
    assert (x[0], y[0]) == (K, pytest.approx(m.clusters.inertia))

    # another colouring hides the legend; back to clusters needs no new fit
    _choose(qtbot, ex.controls.color_by, "a0")
    assert not legend.isVisible() and not ex.controls.n_clusters.isVisible()
    fitted = m.clusters
    _choose(qtbot, ex.controls.color_by, "KMeans cluster")
    assert m.clusters is fitted and not ex.runner.busy and legend.isVisible()


def test_above_the_density_threshold_each_pixel_takes_its_majority_cluster(qtbot, explorer,
                                                                           monkeypatch):
    ex = explorer
    monkeypatch.setattr(scatter_module, "DENSITY_THRESHOLD", 100)  # the image path, on tiny data
    monkeypatch.setattr(scatter_module, "SUBSET_SIZE", 50)
    m, sc = ex.model, ex.scatter
    m.set_data(m.z.copy())  # the same points again: the scatter switches to its image path
    assert sc.large
    _colour_by_clusters(qtbot, ex)
    img = sc.density_image()
    assert img is not None and img.ndim == 3 and img.shape[2] == 4
    assert len(sc.plotted_points()) == 0  # the image carries the colours
    # independent: per-cluster 2-D histograms over the view range, the largest wins
    (x0, x1), (y0, y1) = sc.getViewBox().viewRange()
    nx, ny = img.shape[:2]
    pts, labels = m.plane_points().astype(np.float64), m.clusters.labels
    hists = np.stack([np.histogram2d(pts[labels == c, 0], pts[labels == c, 1], bins=(nx, ny),
                                     range=((x0, x1), (y0, y1)))[0] for c in range(K)])
    filled = hists.sum(axis=0) > 0
    clear = filled & (np.sort(hists, axis=0)[-1] > np.sort(hists, axis=0)[-2])  # no ties
    assert clear.sum() > 20
    expect = cluster_palette(K)[hists.argmax(axis=0)]
    np.testing.assert_array_equal(img[..., :3][clear], expect[clear])
    assert (img[..., 3][filled] > 0).all() and (img[..., 3][~filled] == 0).all()
    # switching planes redraws the image quickly
    m.set_plane(("latent", 2, 3))
    assert sc.last_update_ms["data"] < 500
    assert sc.density_image() is not None and sc.density_image().shape[2] == 4


# ------------------------------------------------------------------ the t-SNE / UMAP map
def _map_to_widget(tab):
    vb = tab.plot.getPlotItem().getViewBox()
    return lambda x, y: tab.plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))


def _isolated_point(tab) -> int:
    emb = tab.result["embedding"]
    vb = tab.plot.getPlotItem().getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    px, py = (x1 - x0) / vb.width(), (y1 - y0) / vb.height()
    d2 = ((emb[:, None, 0] - emb[None, :, 0]) / px) ** 2 + ((emb[:, None, 1] - emb[None, :, 1]) / py) ** 2
    np.fill_diagonal(d2, np.inf)
    k = int(np.argmax(d2.min(axis=1)))
    assert d2[k].min() > 3 ** 2, "no isolated map point to click"
    return k


def _show_map_tab(qtbot, views):
    bar = views.tabBar()
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(views.indexOf(views.tsne)).center())
    assert views.currentWidget() is views.tsne
    return views.tsne


def test_umap_map_is_coloured_by_cluster_and_a_click_makes_a_point_current(qtbot, explorer, mouse):
    ex = explorer
    _colour_by_clusters(qtbot, ex)
    tab = _show_map_tab(qtbot, ex.views)
    _choose(qtbot, tab.method, "UMAP")
    assert tab.compute_button.text() == "Compute UMAP" and not tab.perplexity.isEnabled()
    _type(qtbot, tab.max_points, 200)
    messages = []
    ex.runner.progress.connect(lambda name, _d, _t, text: messages.append((name, text)))
    qtbot.mouseClick(tab.compute_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.result is not None, timeout=180_000)
    assert any(name == "umap" and "epoch" in text for name, text in messages)  # progress per epoch
    res = tab.result
    assert res["method"] == "UMAP" and res["embedding"].shape == (200, 2)
    x, y = tab.scatter.getData()
    np.testing.assert_array_equal(np.column_stack([x, y]), res["embedding"])
    # coloured like the scatter: each point in its cluster's colour
    palette = cluster_palette(K)
    rgb = np.array([b.color().getRgb()[:3] for b in tab.scatter.data["brush"]])
    np.testing.assert_array_equal(rgb, palette[ex.model.clusters.labels[res["indices"]]])
    assert "coloured by KMeans cluster (k = 4)" in tab.message.text()

    k = _isolated_point(tab)
    emb, idx = res["embedding"], res["indices"]
    with qtbot.waitSignal(ex.state.currentChanged, timeout=2000) as blocker:
        mouse.click(tab.plot, emb[k, 0], emb[k, 1], to_widget=_map_to_widget(tab))
    assert blocker.args[0].index == int(idx[k])
    np.testing.assert_array_equal(ex.model.current.vector, ex.model.z[idx[k]])


def test_tsne_is_drawn_while_it_forms(qtbot, explorer):
    ex = explorer
    tab = _show_map_tab(qtbot, ex.views)
    assert tab.method.currentText() == "t-SNE"
    _type(qtbot, tab.max_points, 150)
    draws = []  # (result still missing, points drawn) at every redraw of the map
    tab.scatter.sigPlotChanged.connect(lambda *_: draws.append((tab.result is None,
                                                                len(tab.scatter.getData()[0]))))
    qtbot.mouseClick(tab.compute_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.result is not None, timeout=60_000)
    live = [n for before, n in draws if before]
    assert len(live) >= 3 and set(live) == {150}  # the layout, again and again while it formed
    assert tab.result["method"] == "t-SNE"


# ------------------------------------------------------------------ in the main window
def test_in_the_main_window_the_clusters_are_fitted_by_its_runner(qtbot, tiny_workspace_copy,
                                                                  isolated_settings):
    from latentexplorer.gui.main_window import MainWindow

    win = MainWindow(workspace=tiny_workspace_copy)
    qtbot.addWidget(win)
    win.interactive = False
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    try:
        m = win.model
        qtbot.waitUntil(lambda: m.z is not None and m.analysis is not None, timeout=60_000)
        assert win.wait_idle(30_000)
        _choose(qtbot, win.controls.color_by, "KMeans cluster")
        _type(qtbot, win.controls.n_clusters, 3)
        qtbot.waitUntil(lambda: m.clusters is not None and m.clusters.k == 3, timeout=30_000)
        # independent: every point's nearest centre, by brute force
        d2 = ((m.z[:, None, :].astype(np.float64) - m.clusters.centers[None]) ** 2).sum(axis=2)
        np.testing.assert_array_equal(m.clusters.labels, d2.argmin(axis=1))
        legend = win.scatter.cluster_legend
        assert legend.isVisible() and len(legend.items) == 3
        with qtbot.waitSignal(win.state.selectionChanged, timeout=2000):
            _legend_click(qtbot, win.scatter, 1)
        np.testing.assert_array_equal(m.selection, np.flatnonzero(m.clusters.labels == 1))
        assert win.selection_panel.count_label.text().startswith(
            f"{int((m.clusters.labels == 1).sum()):,} of {m.n_points:,} points selected")
    finally:
        win.runner.cancel_all(wait_ms=30_000)
        win.controller.close()
