"""The directions panel on its own (AppState + a real tiny decoder), driven by clicks and keys."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt

from latentexplorer.analysis.directions import first_dense_kernel, sefa_directions
from latentexplorer.gui.directions_panel import DirectionsPanel
from latentexplorer.gui.workers import TaskRunner
from latentexplorer.models.codec import Decoder

Z_DIM = 8  # the tiny decoder's


@pytest.fixture
def panel(qtbot, make_state, tiny_decoder):
    """z (1500, 8) isotropic; "male" = z1 > 0, "glasses" = z0 + z1 > 0 (entangled by construction)."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((1500, Z_DIM)).astype(np.float32)
    attrs = np.stack([z[:, 0] + z[:, 1] > 0, z[:, 1] > 0], axis=1).astype(np.float32)
    state = make_state(z, attributes=attrs, attribute_names=["glasses", "male"])
    state.set_decoder(Decoder(tiny_decoder), "0123abcd")
    runner = TaskRunner()
    w = DirectionsPanel(state, runner)
    qtbot.addWidget(w)
    w.show()
    yield w
    runner.cancel_all(5000)


def _choose_method(qtbot, w, label):
    """Pick a method with the keyboard, as a user tabbing to the combo box would."""
    w.method_combo.setFocus()
    while w.method_combo.currentText() != label:
        qtbot.keyClick(w.method_combo, Qt.Key_Down)


def _check(qtbot, lst, name):
    """Click the item (selects it), then Space toggles its check box."""
    item = lst.findItems(name, Qt.MatchExactly)[0]
    qtbot.mouseClick(lst.viewport(), Qt.LeftButton, pos=lst.visualItemRect(item).center())
    qtbot.keyClick(lst, Qt.Key_Space)
    assert item.checkState() == Qt.Checked


def test_attribute_sliders_move_the_current_vector_along_the_direction(qtbot, panel):
    w, m = panel, panel.model
    _choose_method(qtbot, w, "Attributes")
    assert w.attr_list.isEnabled() and not w.count.isEnabled()
    _check(qtbot, w.attr_list, "glasses")
    with qtbot.waitSignal(w.directionsChanged):
        qtbot.mouseClick(w.compute_button, Qt.LeftButton)
    assert len(w.sliders) == 1 and w.directions.names == ["glasses"]
    np.testing.assert_allclose(w.directions.vectors[0, :2], [2 ** -0.5] * 2, atol=0.1)
    before = m.current.vector.astype(np.float64)
    slider = w.sliders[0]
    for _ in range(5):
        qtbot.keyClick(slider.slider, Qt.Key_Right)
    moved = m.current.vector.astype(np.float64) - before
    u = w.directions.vectors[0]
    assert np.linalg.norm(moved) > 0
    np.testing.assert_allclose(moved, (moved @ u) * u, atol=1e-5)  # only along the direction
    assert slider.value() == pytest.approx(w.coords()[0], abs=slider._step)


def test_orthogonalise_and_show_the_entanglement_table(qtbot, panel):
    w = panel
    _choose_method(qtbot, w, "Attributes")
    _check(qtbot, w.attr_list, "glasses")
    _check(qtbot, w.ortho_list, "male")
    qtbot.mouseClick(w.compute_button, Qt.LeftButton)
    assert w.export_combo.currentText() == "glasses ⊥ male" and w.original is not None
    assert "orthogonalised" in w.info.text()
    with qtbot.waitSignal(w.reportReady, timeout=60_000):
        qtbot.mouseClick(w.report_button, Qt.LeftButton)
    t = w.table
    assert t.isVisible() and t.rowCount() == 2
    assert [t.verticalHeaderItem(r).text() for r in range(2)] == ["glasses (before)", "glasses ⊥ male"]
    cols = {t.horizontalHeaderItem(c).text(): c for c in range(t.columnCount())}
    male_before = t.item(0, cols["male /σ"]).data(Qt.UserRole)
    male_after = t.item(1, cols["male /σ"]).data(Qt.UserRole)
    glasses_after = t.item(1, cols["glasses /σ"]).data(Qt.UserRole)
    assert male_before > 0.15 and abs(male_after) < 0.08 and glasses_after > 0.1
    assert t.item(0, cols["male /σ"]).text().startswith("+0.")


def test_sefa_directions_come_from_the_decoders_first_dense_layer(qtbot, panel, tiny_decoder):
    w = panel
    _choose_method(qtbot, w, "SeFa (decoder)")
    w.count.setFocus()
    qtbot.keyClick(w.count, Qt.Key_A, Qt.ControlModifier)
    qtbot.keyClicks(w.count, "3")
    qtbot.mouseClick(w.compute_button, Qt.LeftButton)
    expected = sefa_directions(first_dense_kernel(tiny_decoder), 3)
    assert w.directions.names == ["SeFa1", "SeFa2", "SeFa3"] and len(w.sliders) == 3
    np.testing.assert_allclose(w.directions.vectors, expected.vectors, atol=1e-6)


def test_export_grid_writes_png_and_sidecar(qtbot, panel, tmp_path, monkeypatch, isolated_settings):
    from PySide6.QtWidgets import QFileDialog

    w = panel
    qtbot.mouseClick(w.compute_button, Qt.LeftButton)  # PCA, the default method
    assert w.directions.method == "pca" and len(w.sliders) == 4
    w.export_combo.setFocus()
    qtbot.keyClick(w.export_combo, Qt.Key_Down)
    assert w.export_combo.currentText() == "PC2"
    target = tmp_path / "pc2.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PNG image (*.png)"))
    errors = []
    w.state.errorOccurred.connect(errors.append)
    with qtbot.waitSignal(w.state.notice, timeout=10_000):
        qtbot.mouseClick(w.export_button, Qt.LeftButton)
    assert not errors
    side = json.loads(target.with_suffix(".json").read_text())
    assert target.is_file() and side["generator"] == "direction" and side["fingerprint"] == "0123abcd"
    assert (side["rows"], side["cols"]) == (1, 7) and side["settings"]["direction"] == "PC2"
    z = np.asarray(side["z"])
    np.testing.assert_allclose(z[3], w.model.current.vector, atol=1e-5)  # the middle step: t = 0
    steps = np.diff(z, axis=0)
    np.testing.assert_allclose(steps / np.linalg.norm(steps, axis=1)[:, None],
                               np.repeat(w.directions.vectors[1][None], 6, axis=0), atol=1e-4)


def test_errors_are_shown_not_raised(qtbot, panel):
    w = panel
    _choose_method(qtbot, w, "Attributes")
    with qtbot.waitSignal(w.state.errorOccurred) as blocker:
        qtbot.mouseClick(w.compute_button, Qt.LeftButton)  # no attribute checked
    assert "name at least one attribute" in blocker.args[0]
    assert w.directions is None and not w.sliders and not w.report_button.isEnabled()
