"""export.py and settings.py: grids, path strip, plots, z-vectors, remembered folders."""

from __future__ import annotations

import json

import numpy as np
import pyqtgraph as pg
import pytest
from PIL import Image

from latentexplorer.errors import InvalidInputError
from latentexplorer.gui import export
from latentexplorer.gui.settings import Settings


def _images(n: int, size: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _z(n: int, d: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def test_export_grid_png_and_json(tmp_path):
    z, imgs = _z(6), _images(6)
    png, sidecar = export.export_grid(tmp_path / "g.png", z, imgs, generator="uniform",
                                      settings={"b": 1.5}, seed=3, fingerprint="abc123", cols=3)
    assert png == tmp_path / "g.png" and sidecar == tmp_path / "g.json"
    with Image.open(png) as im:
        assert im.format == "PNG"
        # 2 rows x 3 cols of 16 px tiles with 2 px padding around and between them
        assert im.size == (3 * 16 + 4 * 2, 2 * 16 + 3 * 2)
        tile = np.asarray(im.convert("RGB"))[2:18, 2:18]
    np.testing.assert_array_equal(tile, imgs[0])
    data = json.loads(sidecar.read_text())
    assert data["generator"] == "uniform" and data["settings"] == {"b": 1.5} and data["seed"] == 3
    assert data["fingerprint"] == "abc123" and data["n"] == 6 and data["z_dim"] == 5
    np.testing.assert_array_equal(np.asarray(data["z"], np.float32), z)  # every vector, exactly


def test_export_grid_adds_suffix_and_checks_counts(tmp_path):
    png, _ = export.export_grid(tmp_path / "noext", _z(2), _images(2), generator="g", fingerprint="f00d")
    assert png.name == "noext.png" and png.is_file()
    with pytest.raises(InvalidInputError):
        export.export_grid(tmp_path / "bad.png", _z(3), _images(2), generator="g", fingerprint="f00d")
    assert not (tmp_path / "bad.png").exists()


def test_export_path_strip_records_a_plane_path(tmp_path):
    z, imgs = _z(7), _images(7)
    spec = {"kind": "plane", "plane": ["latent", 1, 3], "points": [[0.0, 0.0], [1.0, 2.0]]}
    png, sidecar = export.export_path_strip(tmp_path / "strip.png", z, imgs, fingerprint="f00d",
                                            path_spec=spec, sharpen=0)
    with Image.open(png) as im:
        assert im.size == (7 * 16 + 8 * 2, 16 + 2 * 2)  # one row
    data = json.loads(sidecar.read_text())
    assert data["generator"] == "path" and data["rows"] == 1 and data["cols"] == 7
    assert data["fingerprint"] == "f00d"
    assert data["path"] == spec
    np.testing.assert_array_equal(np.asarray(data["z"], np.float32), z)


def test_export_path_strip_records_a_direction_path(tmp_path):
    from latentexplorer.explore import DirectionPath
    from latentexplorer.explore.paths import path_from_dict
    from latentexplorer.render.images import load_sidecar

    path = DirectionPath.of("smile", np.arange(5.0), -1.5, 2.0)
    _, sidecar = export.export_path_strip(tmp_path / "strip", _z(4), _images(4),
                                          fingerprint="abcd1234", path_spec=path.to_dict(),
                                          sharpen=2.0)
    rec = load_sidecar(sidecar)
    assert rec.generator == "path" and rec.n == 4
    back = path_from_dict(rec.extra["path"])  # what File > Open grid or strip restores
    assert back.name == "smile" and (back.lo, back.hi) == (-1.5, 2.0)
    np.testing.assert_allclose(back.unit, path.unit)
    assert json.loads(sidecar.read_text())["sharpen"] == 2.0


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_vectors_round_trip(tmp_path, suffix):
    z = _z(13, 9, seed=4) * 1e3
    path = export.save_vectors(tmp_path / f"v{suffix}", z)
    back = export.load_vectors(path)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, z)  # float32 exact through 9 significant digits


def test_vectors_single_vector_and_errors(tmp_path):
    v = _z(1, 4)[0]
    export.save_vectors(tmp_path / "one.csv", v)
    assert export.load_vectors(tmp_path / "one.csv").shape == (1, 4)
    assert (tmp_path / "one.csv").read_text().splitlines()[0] == "z0,z1,z2,z3"
    with pytest.raises(InvalidInputError, match="unknown vector format"):
        export.save_vectors(tmp_path / "v.txt", v)
    (tmp_path / "bad.csv").write_text("z0,z1\n1,abc\n")
    with pytest.raises(InvalidInputError):
        export.load_vectors(tmp_path / "bad.csv")
    with pytest.raises(InvalidInputError, match="not found"):
        export.load_vectors(tmp_path / "missing.npy")


def test_export_plot_png_and_svg(qtbot, tmp_path):
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(400, 300)
    w.plot([0, 1, 2], [1, 0, 2])
    png = export.export_plot(w, tmp_path / "p.png")
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 50
    png2 = export.export_plot(w, tmp_path / "wide.png", width=800)
    with Image.open(png2) as im:
        assert im.size[0] == 800
    svg = export.export_plot(w.getPlotItem(), tmp_path / "p.svg")
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    with pytest.raises(InvalidInputError):
        export.export_plot(w, tmp_path / "p.gif")


def test_settings_remember_last_folder(tmp_path, isolated_settings):
    s = Settings()
    assert s.file_name == str(isolated_settings)
    folder = tmp_path / "grids"
    folder.mkdir()
    s.remember_folder(folder / "grid.png", "grids")
    assert Settings().last_folder("grids") == str(folder)  # a new object reads it back
    assert Settings().last_folder("other") == str(folder)  # falls back to the last folder used
    assert isolated_settings.is_file()


def test_settings_skip_vanished_folder(tmp_path):
    s = Settings(tmp_path / "s.ini")
    gone = tmp_path / "gone"
    gone.mkdir()
    s.remember_folder(gone, "x")
    gone.rmdir()
    assert s.last_folder("x", fallback=tmp_path) == str(tmp_path)


def test_save_dialog_starts_in_and_remembers_last_folder(tmp_path, monkeypatch, isolated_settings):
    calls = []
    first = tmp_path / "a"
    first.mkdir()

    def fake(parent, title, start, filt):
        calls.append(start)
        return str(first / "grid"), "PNG image (*.png)"

    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName", fake)
    path = export.ask_save_path(None, "Export", "grids", export.IMAGE_FILTER, "grid.png")
    assert path == first / "grid.png"  # suffix of the chosen filter added
    export.ask_save_path(None, "Export", "grids", export.IMAGE_FILTER, "again.png")
    assert calls[1] == str(first / "again.png")


def test_save_dialog_cancel(monkeypatch, isolated_settings):
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *a: ("", ""))
    assert export.ask_save_path(None, "Export", "grids", export.IMAGE_FILTER) is None


def test_save_dialog_starts_in_the_workspaces_results(tmp_path, monkeypatch, isolated_settings,
                                                      tiny_workspace_copy):
    from latentexplorer.workspace import Workspace

    ws = Workspace.open(tiny_workspace_copy)
    other = tmp_path / "elsewhere"
    other.mkdir()
    Settings().remember_folder(other / "x.png", "grids")  # the workspace wins over the last folder
    calls = []
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda parent, title, start, filt: calls.append(start) or ("", ""))
    assert export.ask_save_path(None, "Export", "grids", export.IMAGE_FILTER, "grid.png",
                                workspace=ws) is None
    assert calls == [str(tiny_workspace_copy / "results" / "grid.png")]
    assert (tiny_workspace_copy / "results").is_dir()


def test_export_plot_dialog(qtbot, tmp_path, monkeypatch, isolated_settings):
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(300, 200)
    w.plot([0, 1], [1, 0])
    ws = type("WS", (), {"results_dir": tmp_path})()
    calls = []
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda parent, title, start, filt: calls.append(start) or
                        (str(tmp_path / "plot"), "SVG vector graphics (*.svg)"))
    out = export.export_plot_dialog(None, w, "radius", workspace=ws)
    assert out == tmp_path / "plot.svg" and "<svg" in out.read_text()  # the chosen filter's suffix
    assert calls == [str(tmp_path / "radius.png")]


def test_plot_context_menu_exports_and_confirms(qtbot, tmp_path, monkeypatch, isolated_settings):
    from PySide6.QtWidgets import QMessageBox

    from latentexplorer.gui.state import AppState

    state = AppState()
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(300, 200)
    w.plot([0, 1, 2], [1, 0, 2])
    actions = {a.text(): a for a in export.add_export_actions(w, "curve", w, state=state)}
    assert set(actions) == {"Export as PNG…", "Export as SVG…"}
    assert all(a in w.getPlotItem().getViewBox().menu.actions() for a in actions.values())
    target = tmp_path / "curve.png"
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda *a: (str(target), export.IMAGE_FILTER))
    with qtbot.waitSignal(state.notice, timeout=2000) as blocker:
        actions["Export as PNG…"].trigger()
    assert blocker.args == [f"Plot saved: {target}"]
    with Image.open(target) as im:
        assert im.format == "PNG"
    # a failing export ends in a dialog, not in an exception
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *a, **k: shown.append(text) or QMessageBox.Ok))
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda *a: (str(tmp_path / "curve.gif"), export.IMAGE_FILTER))
    with qtbot.assertNotEmitted(state.notice):
        actions["Export as PNG…"].trigger()
    assert shown and "unknown plot format" in shown[-1]
