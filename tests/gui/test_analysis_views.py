"""AnalysisViews: every tab fills with numbers for a synthetic z; clicks reach the state."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from latentexplorer.gui.analysis_views import (AnalysisViews, correlation_task, kmeans_task,
                                               radius_task, tsne_task, vae_task)
from latentexplorer.gui.state import AppState
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
def state():
    st = AppState()  # no runner: PCA and statistics synchronously
    st.set_latents(synthetic_z())
    return st


@pytest.fixture
def views(qtbot, state):
    v = AnalysisViews(state, None)  # no runner: the tab jobs run synchronously
    qtbot.addWidget(v)
    v.refresh_all()
    return v


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
    assert comp.cstats is not None and comp.cstats.z_dim == D
    dominant = [int(comp.table.item(r, 0).text().lstrip("#")) for r in range(comp.table.rowCount())]
    assert 2 in dominant and 1 not in dominant
    hw = [float(comp.table.item(r, 2).text()) for r in range(comp.table.rowCount())]
    assert hw == sorted(hw, reverse=True)  # widest first
    assert "dominant" in comp.dominant_label.text()
    assert comp.selected == [2]

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
    assert pca.ratio is not None and pca.ratio.shape == (D,)
    assert pca.table.rowCount() == D
    assert float(pca.table.item(0, 1).text()) == pytest.approx(pca.ratio[0], abs=1e-4)


def test_threshold_changes_dominant_list(views):
    comp = views.components
    before = comp.table.rowCount()
    comp.hw_threshold.setValue(4.0)
    comp.mu_threshold.setValue(0.9)
    assert comp.table.rowCount() < before
    assert comp.table.rowCount() >= 1  # component 2: mu 1, hw ~ 4.7


def test_clicking_a_correlation_pair_sets_the_plane(qtbot, views, state):
    corr = views.correlation
    views.setCurrentWidget(corr)
    views.resize(900, 500)
    views.show()
    qtbot.waitExposed(views)
    table = corr.table
    rect = table.visualItemRect(table.item(0, 2))
    with qtbot.waitSignal(state.planeChanged, timeout=2000):
        qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())
    assert state.plane == ("latent", 2, 5)


def test_two_components_show_plane(views, state):
    comp = views.components
    comp.select([3, 6])
    assert comp.plane_button.isEnabled()
    comp.plane_button.click()
    assert state.plane == ("latent", 3, 6)


def test_pca_row_click_sets_pca_plane(views, state):
    views.pca._axis_clicked(2, 0)
    assert state.plane == ("pca", 2, 3)


def test_tsne_on_demand_and_click_selects_point(qtbot, views, state):
    tab = views.tsne
    tab.max_points.setValue(120)
    tab.compute()
    assert tab.result is not None
    assert tab.result["embedding"].shape == (120, 2)
    idx = int(tab.result["indices"][7])
    with qtbot.waitSignal(state.currentChanged, timeout=2000):
        tab.show_point(idx)
    assert state.current_index == idx
    np.testing.assert_array_equal(state.current, state.z[idx])
    assert tab.marker.data.size == 1
    # a click on a scatter point maps back to its data point
    spot = tab.scatter.points()[11]
    with qtbot.waitSignal(state.currentChanged, timeout=2000):
        tab.scatter.sigClicked.emit(tab.scatter, [spot], None)
    assert state.current_index == int(tab.result["indices"][11])


def test_kmeans_on_demand(views):
    tab = views.kmeans
    tab.k_max.setValue(6)
    tab.max_points.setValue(200)
    tab.compute()
    assert tab.result["k"].tolist() == [2, 3, 4, 5, 6]
    assert len(tab.plot.getPlotItem().listDataItems()) == 1


def test_vae_tab(views):
    tab = views.vae
    tab.refresh()  # no workspace: explains itself
    assert "VAE" in tab.message.text()
    z = synthetic_z()
    tab.set_arrays(z, np.full_like(z, -13.7))
    assert tab.table.rowCount() >= 5
    names = [tab.table.item(r, 0).text() for r in range(tab.table.rowCount())]
    assert "mean logvar" in names


def test_new_latents_invalidate_and_recompute(views, state):
    views.tsne.max_points.setValue(60)
    views.tsne.compute()
    state.set_latents(synthetic_z(1)[:, :6])
    assert views.tsne.result is None  # dropped with the old points
    views.refresh_all()
    assert views.correlation.result["r"].shape == (6, 6)
    assert views.components.cstats.z_dim == 6


def test_heavy_jobs_run_in_the_worker(qtbot):
    """With a runner the radius / correlation jobs run in background threads."""
    runner = TaskRunner()
    st = AppState(runner)
    with qtbot.waitSignal(st.analysisChanged, timeout=30_000):
        st.set_latents(synthetic_z())
    v = AnalysisViews(st, runner)
    qtbot.addWidget(v)
    v.setCurrentWidget(v.correlation)
    v.show()
    qtbot.waitUntil(lambda: v.correlation.result is not None, timeout=30_000)
    v.setCurrentWidget(v.radius)
    qtbot.waitUntil(lambda: v.radius.result is not None, timeout=30_000)
    assert v.correlation.pairs()[0][:2] == (2, 5)
    runner.cancel_all(wait_ms=10_000)


def test_export_current_plot(qtbot, views, tmp_path, monkeypatch, isolated_settings):
    from PIL import Image

    from latentexplorer.gui import export

    target = tmp_path / "radius.png"
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), export.PLOT_FILTER))
    views.resize(800, 500)
    views.setCurrentWidget(views.radius)
    out = views.export_current()
    assert out == target
    with Image.open(target) as im:
        assert im.format == "PNG" and im.width > 50


def test_export_actions_in_context_menu(views):
    labels = [a.text() for a in views.radius.plot.getPlotItem().getViewBox().menu.actions()]
    assert "Export as PNG…" in labels and "Export as SVG…" in labels


def test_tsne_task_subset_is_seeded():
    z = synthetic_z()
    a = tsne_task({"z": z, "max_points": 50, "seed": 1, "n_iter": 50, "early_exaggeration_iter": 20})
    b = tsne_task({"z": z, "max_points": 50, "seed": 1, "n_iter": 50, "early_exaggeration_iter": 20})
    np.testing.assert_array_equal(a["indices"], b["indices"])
    assert a["embedding"].shape == (50, 2)
