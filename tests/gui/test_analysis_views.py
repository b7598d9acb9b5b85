"""AnalysisViews: every tab fills with numbers for a synthetic z (the model's analysis provides the
component statistics and the PCA); clicks ask for planes or select points; exports."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QFileDialog

from latentexplorer.explore import Thresholds, compute_analysis
from latentexplorer.gui.analysis_views import (AnalysisViews, correlation_task, kmeans_task,
                                               radius_task, tsne_task, vae_task)
from latentexplorer.gui.controller import ExplorerController
from latentexplorer.gui.workers import TaskRunner

N, D = 2000, 8


def synthetic_z(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((N, D))
    z[:, 2] = 2.0 * z[:, 2] + 1.0            # one wide, shifted (dominant) component
    z[:, 5] = 0.8 * z[:, 2] + 0.3 * z[:, 5]  # strongly correlated with it
    z[:, 1] *= 0.3                            # narrow, not dominant
    return z.astype(np.float32)


@pytest.fixture
def state(make_state):
    z = synthetic_z()
    return make_state(z, attributes=z[:, [2]], attribute_names=["wide"])


def _views(qtbot, state, runner=None, show=True) -> AnalysisViews:
    controller = ExplorerController(state, runner)  # no runner: the tab jobs run synchronously
    v = AnalysisViews(state, controller)
    v._test_controller = controller
    qtbot.addWidget(v)
    v.resize(900, 500)
    if show:
        v.show()
        qtbot.waitExposed(v)
    return v


@pytest.fixture
def views(qtbot, state):
    v = _views(qtbot, state)
    v.refresh_all()
    yield v
    v._test_controller.close()


def _type(qtbot, spin, value) -> None:
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    qtbot.keyClick(spin, Qt.Key_Enter)


def _show_tab(qtbot, views, tab) -> None:
    bar = views.tabBar()
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(views.indexOf(tab)).center())
    assert views.currentWidget() is tab


def _click_row(qtbot, table, row: int, modifier=Qt.NoModifier) -> None:
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, modifier, rect.center())


def _requested(qtbot, views, action):
    with qtbot.waitSignal(views.planeRequested, timeout=2000) as blocker:
        action()
    return blocker.args[0]


# ------------------------------------------------------------------ numbers
def test_worker_functions_give_numbers():
    z = synthetic_z()
    r = radius_task({"z": z, "bin_width": 0.5})
    assert r["counts"].sum() == N and r["n_dim"] == D and r["stats"].mean > 0
    c = correlation_task({"z": z, "threshold": 0.1})
    assert c["r"].shape == (D, D)
    i, j, rv = c["pairs"][0]
    assert (i, j) == (2, 5) and rv > 0.9
    assert c["counts"]["0.5"] >= 1
    k = kmeans_task({"z": z, "k_max": 5, "max_points": 200})
    assert k["k"].tolist() == [2, 3, 4, 5] and np.all(np.diff(k["inertia"]) < 0)
    mu = z[:50]
    d = vae_task({"mu": mu, "logvar": np.full_like(mu, -4.0)})["diagnostics"]
    assert d["logvar_mean"] == pytest.approx(-4.0)


def test_tabs_fill_with_numbers(views, state):
    comp = views.components
    assert comp.cstats is state.model.analysis.stats and comp.cstats.z_dim == D
    dominant = [int(comp.table.item(r, 0).text().lstrip("#")) for r in range(comp.table.rowCount())]
    assert 2 in dominant and 1 not in dominant
    assert dominant == state.model.dominant()
    hw = [float(comp.table.item(r, 2).text().split(" ± ")[0]) for r in range(comp.table.rowCount())]
    assert hw == sorted(hw, reverse=True)  # widest first
    assert all(" ± " in comp.table.item(r, 2).text() for r in range(comp.table.rowCount()))
    assert "dominant" in comp.dominant_label.text()
    assert comp.selected == [2]

    # the data-driven criterion, chosen in the combo box: the model follows, the k box takes over
    box = comp.criterion
    box.setCurrentIndex(box.findData("mad"))
    assert state.model.thresholds.criterion == "mad"
    assert comp.k.isEnabled() and not comp.mu_threshold.isEnabled()
    assert [int(comp.table.item(r, 0).text().lstrip("#")) for r in range(comp.table.rowCount())] == \
        state.model.dominant()
    box.setCurrentIndex(box.findData("fwhm"))

    rad = views.radius
    assert rad.result is not None and rad.result["counts"].sum() == N
    assert "peak" in rad.stats_label.text()
    assert len(rad.plot.getPlotItem().listDataItems()) == 3  # data + N(0,1) + uniform b

    corr = views.correlation
    assert corr.result is not None
    assert corr.table.rowCount() >= 1
    assert corr.table.item(0, 0).text() == "2" and corr.table.item(0, 1).text() == "5"
    assert corr.image.image is not None and corr.image.image.shape == (D, D)
    assert "0.5" in corr.counts_label.text()

    pca = views.pca
    np.testing.assert_allclose(pca.ratio, state.model.analysis.pca.explained_variance_ratio_)
    assert pca.ratio.shape == (D,) and pca.table.rowCount() == D
    assert pca.table.item(0, 0).text() == "PC 1"
    assert float(pca.table.item(0, 1).text()) == pytest.approx(pca.ratio[0], abs=1e-4)
    for plot in (pca.plot, pca.cum_plot):  # the x axes count PC 1, PC 2, ... (1-based)
        x, _ = plot.getPlotItem().listDataItems()[0].getData()
        assert x[0] == 1 and x[-1] == D


def test_samples_appear_in_the_radius_plot(views, state, qtbot):
    _show_tab(qtbot, views, views.radius)
    n_items = len(views.radius.plot.getPlotItem().listDataItems())
    state.model.set_samples(np.zeros((10, D), np.float32) + 0.5)
    assert len(views.radius.result["sample_radii"]) == 10
    assert len(views.radius.plot.getPlotItem().listDataItems()) == n_items + 1


def test_thresholds_change_the_dominant_list_everywhere(views, state, qtbot):
    comp = views.components
    _show_tab(qtbot, views, comp)
    before = comp.table.rowCount()
    for _ in range(3):
        qtbot.keyClick(comp.hw_threshold, Qt.Key_PageUp)  # +1.0 each: 1.5 -> 4.5
    qtbot.keyClick(comp.mu_threshold, Qt.Key_PageUp)  # +0.5: 0.25 -> 0.75
    t = state.model.thresholds  # one criterion for the whole GUI
    assert (t.mu, t.half_width) == (pytest.approx(0.75), pytest.approx(4.5))
    assert comp.table.rowCount() < before
    assert comp.table.rowCount() >= 1  # component 2: mu 1, hw ~ 4.7
    assert comp.hw_line.value() == pytest.approx(4.5)
    state.model.set_thresholds(Thresholds(0.25, 1.5))  # e.g. a restored GUI state
    assert (comp.mu_threshold.value(), comp.hw_threshold.value()) == (0.25, 1.5)
    assert comp.table.rowCount() == before


def test_typing_a_threshold(views, state, qtbot):
    comp = views.components
    _show_tab(qtbot, views, comp)
    _type(qtbot, comp.mu_threshold, 0.9)
    assert state.model.thresholds.mu == pytest.approx(0.9)


# ------------------------------------------------------------------ planes asked for
def test_clicking_a_correlation_pair_asks_for_its_plane(qtbot, views):
    corr = views.correlation
    _show_tab(qtbot, views, corr)
    table = corr.table
    rect = table.visualItemRect(table.item(0, 2))
    plane = _requested(qtbot, views, lambda: qtbot.mouseClick(table.viewport(), Qt.LeftButton,
                                                              pos=rect.center()))
    assert plane == ("latent", 2, 5)


def test_two_selected_components_ask_for_their_plane(qtbot, views):
    comp = views.components
    _show_tab(qtbot, views, comp)
    rows = {int(comp.table.item(r, 0).text().lstrip("#")): r for r in range(comp.table.rowCount())}
    _click_row(qtbot, comp.table, rows[3])
    assert comp.selected == [3] and not comp.plane_button.isEnabled()
    _click_row(qtbot, comp.table, rows[6], Qt.ControlModifier)
    assert sorted(comp.selected) == [3, 6] and comp.plane_button.isEnabled()
    plane = _requested(qtbot, views, lambda: qtbot.mouseClick(comp.plane_button, Qt.LeftButton))
    assert plane[0] == "latent" and sorted(plane[1:]) == [3, 6]


def test_a_pca_row_asks_for_its_pca_plane(qtbot, views):
    _show_tab(qtbot, views, views.pca)
    plane = _requested(qtbot, views, lambda: _click_row(qtbot, views.pca.table, 2))
    assert plane == ("pca", 2, 3)


# ------------------------------------------------------------------ on-demand tabs
def test_tsne_on_demand_and_a_click_selects_the_nearest_point(qtbot, views, state, mouse):
    tab = views.tsne
    _show_tab(qtbot, views, tab)
    _type(qtbot, tab.max_points, 120)
    qtbot.mouseClick(tab.compute_button, Qt.LeftButton)
    assert tab.result is not None and tab.result["embedding"].shape == (120, 2)
    emb, idx = tab.result["embedding"], tab.result["indices"]
    vb = tab.plot.getPlotItem().getViewBox()

    def to_widget(x, y):
        return tab.plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))

    (x0, x1), (y0, y1) = vb.viewRange()
    px, py = (x1 - x0) / vb.width(), (y1 - y0) / vb.height()
    d2 = ((emb[:, None, 0] - emb[None, :, 0]) / px) ** 2 + ((emb[:, None, 1] - emb[None, :, 1]) / py) ** 2
    np.fill_diagonal(d2, np.inf)
    k = int(np.argmax(d2.min(axis=1)))  # the most isolated point
    assert d2[k].min() > 24 ** 2, "no isolated t-SNE point to click next to"
    with qtbot.waitSignal(state.currentChanged, timeout=2000) as blocker:
        mouse.click(tab.plot, emb[k, 0] + 8 * px, emb[k, 1], to_widget=to_widget)  # 8 px off
    assert blocker.args[0].index == int(idx[k])  # it need not hit the point
    np.testing.assert_array_equal(state.model.current.vector, state.model.z[idx[k]])
    mx, my = tab.marker.getData()
    assert (mx[0], my[0]) == pytest.approx((emb[k, 0], emb[k, 1]))
    assert f"point #{int(idx[k])}" in tab.info_label.text()

    far = (x0 + 0.5 * (x1 - x0), y0 + 0.5 * (y1 - y0))
    if (((emb[:, 0] - far[0]) / px) ** 2 + ((emb[:, 1] - far[1]) / py) ** 2).min() > 20 ** 2:
        with qtbot.assertNotEmitted(state.currentChanged):
            mouse.click(tab.plot, *far, to_widget=to_widget)  # nothing within 15 px

    state.model.set_color_by("wide")  # the map follows the explorer's colouring
    assert "coloured by wide" in tab.message.text()


def test_kmeans_on_demand(qtbot, views):
    tab = views.kmeans
    _show_tab(qtbot, views, tab)
    _type(qtbot, tab.k_max, 6)
    _type(qtbot, tab.max_points, 200)
    qtbot.mouseClick(tab.compute_button, Qt.LeftButton)
    assert tab.result["k"].tolist() == [2, 3, 4, 5, 6]
    assert len(tab.plot.getPlotItem().listDataItems()) == 1


def test_vae_tab(qtbot, views):
    tab = views.vae
    _show_tab(qtbot, views, tab)  # no workspace: explains itself
    assert "VAE" in tab.message.text()
    z = synthetic_z()
    tab.set_arrays(z, np.full_like(z, -13.7))
    assert tab.table.rowCount() >= 5
    names = [tab.table.item(r, 0).text() for r in range(tab.table.rowCount())]
    assert "mean logvar" in names


def test_new_points_invalidate_and_recompute(qtbot, views, state):
    _show_tab(qtbot, views, views.tsne)
    _type(qtbot, views.tsne.max_points, 100)
    qtbot.mouseClick(views.tsne.compute_button, Qt.LeftButton)
    assert views.tsne.result is not None
    m = state.model
    m.set_data(synthetic_z(1)[:, :6])
    assert views.tsne.result is None  # dropped with the old points
    m.set_analysis(compute_analysis(m.z))  # what the controller's analysis job hands in
    views.refresh_all()
    assert views.correlation.result["r"].shape == (6, 6)
    assert views.components.cstats.z_dim == 6
    assert views.pca.ratio.shape == (6,)


def test_heavy_jobs_run_in_the_worker(qtbot, state):
    """With a runner the radius / correlation jobs run in background threads."""
    runner = TaskRunner()
    v = _views(qtbot, state, runner)
    try:
        _show_tab(qtbot, v, v.correlation)
        assert v.correlation.busy or v.correlation.result is not None
        qtbot.waitUntil(lambda: v.correlation.result is not None, timeout=30_000)
        _show_tab(qtbot, v, v.radius)
        qtbot.waitUntil(lambda: v.radius.result is not None, timeout=30_000)
        assert v.correlation.pairs()[0][:2] == (2, 5)
    finally:
        runner.cancel_all(wait_ms=10_000)
        v._test_controller.close()


# ------------------------------------------------------------------ export
def test_export_the_current_plot(qtbot, views, state, tmp_path, monkeypatch, isolated_settings):
    from PIL import Image

    from latentexplorer.gui import export

    target = tmp_path / "radius.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), export.PLOT_FILTER)))
    _show_tab(qtbot, views, views.radius)
    assert views.export_button.isEnabled()
    with qtbot.waitSignal(state.notice, timeout=5000) as blocker:
        qtbot.mouseClick(views.export_button, Qt.LeftButton)
    assert str(target) in blocker.args[0]
    with Image.open(target) as im:
        assert im.format == "PNG" and im.width > 50
    _show_tab(qtbot, views, views.vae)
    assert not views.export_button.isEnabled()  # a table, no plot


def test_export_actions_in_the_context_menu(qtbot, views, state, tmp_path, monkeypatch,
                                            isolated_settings):
    menu = views.radius.plot.getPlotItem().getViewBox().menu
    actions = {a.text(): a for a in menu.actions()}
    assert "Export as PNG…" in actions and "Export as SVG…" in actions
    target = tmp_path / "radius.svg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "SVG vector graphics (*.svg)")))
    with qtbot.waitSignal(state.notice, timeout=5000) as blocker:
        actions["Export as SVG…"].trigger()
    assert "Plot saved" in blocker.args[0]
    assert "<svg" in target.read_text()


def test_tsne_task_subset_is_seeded():
    z = synthetic_z()
    a = tsne_task({"z": z, "max_points": 50, "seed": 1, "n_iter": 50, "early_exaggeration_iter": 20})
    b = tsne_task({"z": z, "max_points": 50, "seed": 1, "n_iter": 50, "early_exaggeration_iter": 20})
    np.testing.assert_array_equal(a["indices"], b["indices"])
    assert a["embedding"].shape == (50, 2)
