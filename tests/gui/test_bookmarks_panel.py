"""The bookmarks panel, driven as a user does: clicks on its buttons, a double-click and Enter on
the list, the Delete key; the name and file dialogs answer through monkeypatched static dialogs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox
from tiny_models import make_store, tiny_config

from latentexplorer.explore.bookmarks import BOOKMARKS_FILE, read_bookmarks
from latentexplorer.explore.plane import Plane
from latentexplorer.gui.bookmarks_panel import MISMATCH_MARK, BookmarksPanel
from latentexplorer.gui.settings import Settings
from latentexplorer.workspace import Workspace

N, Z_DIM = 32, 4
FP = "abcd1234abcd1234"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> Path:
    return make_store(tmp_path_factory.mktemp("bmstore") / "store", n=N)


@pytest.fixture
def dialogs(monkeypatch):
    """Answers for the panel's dialogs (``names`` for the name dialog, ``files`` for the file
    dialogs) and a record of the message boxes shown."""
    class Dialogs:
        names: list[str] = []
        files: list[Path] = []
        shown: list[tuple[str, str]] = []

    d = Dialogs()
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(
        lambda *a, **k: (d.names.pop(0), True) if d.names else ("", False)))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda *a, **k: (str(d.files.pop(0)), "Bookmarks (*.json)")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(
        lambda *a, **k: (str(d.files.pop(0)), "Bookmarks (*.json)")))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.Yes))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *a, **k: d.shown.append((title, text)) or QMessageBox.Ok))
    return d


@pytest.fixture
def panel_for(qtbot, make_state, store_dir, tmp_path, isolated_settings):
    """``panel_for(name, fingerprint)`` → a panel on an AppState with a workspace ``name``."""
    def make(name: str = "ws", fingerprint: str | None = FP) -> BookmarksPanel:
        ws = Workspace.create(tmp_path / name, store_dir, tiny_config())
        state = make_state(np.random.default_rng(0).normal(size=(N, Z_DIM)).astype(np.float32))
        state.set_workspace(ws)
        state.set_decoder(None, fingerprint)
        panel = BookmarksPanel(state, settings=Settings(isolated_settings))
        qtbot.addWidget(panel)
        panel.show()
        return panel
    return make


def _click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.LeftButton)


def _item_pos(panel, row: int):
    return panel.list.visualItemRect(panel.list.item(row)).center()


def _double_click(qtbot, panel, row: int) -> None:
    """Press-release then the double-click, as the window system delivers a double-click."""
    pos = _item_pos(panel, row)
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=pos)
    qtbot.mouseDClick(panel.list.viewport(), Qt.LeftButton, pos=pos)


def test_add_then_double_click_and_enter_restore_the_state(qtbot, panel_for, dialogs):
    panel = panel_for()
    m = panel.model
    m.set_plane(("pca", 1, 2))
    m.set_plane_point(0.8, -0.3)
    m.set_path([[0.0, 0.0], [1.0, 1.0]])
    m.set_selection([2, 5, 9])
    saved = m.current.vector.copy()
    dialogs.names.append("smile")
    _click(qtbot, panel.add_button)
    assert [panel.list.item(k).text() for k in range(panel.list.count())] == ["smile"]
    assert read_bookmarks(panel.state.workspace.path / BOOKMARKS_FILE)[0].decoder_fingerprint == FP

    m.set_plane(("latent", 0, 3))
    m.select_point(7)
    m.set_selection([])
    with qtbot.waitSignal(panel.state.planeChanged, timeout=2000):
        _double_click(qtbot, panel, 0)
    assert m.plane == Plane("pca", 1, 2)
    assert np.array_equal(m.current.vector, saved)
    assert m.selection.tolist() == [2, 5, 9] and len(m.path.points) == 2
    assert "restored: smile" in panel.status.text()

    m.set_plane(("latent", 1, 2))
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=_item_pos(panel, 0))
    assert m.plane == Plane("latent", 1, 2)  # a single click only selects
    with qtbot.waitSignal(panel.state.currentChanged, timeout=2000):
        qtbot.keyClick(panel.list, Qt.Key_Return)
    assert m.plane == Plane("pca", 1, 2) and np.array_equal(m.current.vector, saved)


def test_rename_and_delete_by_button_and_key(qtbot, panel_for, dialogs):
    panel = panel_for()
    dialogs.names += ["one", "two"]
    _click(qtbot, panel.add_button)
    panel.model.select_point(3)
    _click(qtbot, panel.add_button)
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=_item_pos(panel, 1))
    dialogs.names.append("second")
    _click(qtbot, panel.rename_button)
    assert [panel.list.item(k).text() for k in range(2)] == ["one", "second"]
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=_item_pos(panel, 0))
    _click(qtbot, panel.delete_button)
    assert panel.list.count() == 1
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=_item_pos(panel, 0))
    qtbot.keyClick(panel.list, Qt.Key_Delete)
    assert panel.list.count() == 0
    assert json.loads((panel.state.workspace.path / BOOKMARKS_FILE).read_text())["bookmarks"] == []


def test_export_selected_then_import_into_a_workspace_of_another_decoder(qtbot, panel_for, dialogs,
                                                                         tmp_path):
    panel = panel_for("a")
    dialogs.names += ["first", "second"]
    _click(qtbot, panel.add_button)
    panel.model.set_plane(("latent", 2, 3))
    _click(qtbot, panel.add_button)
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=_item_pos(panel, 1))
    out = tmp_path / "exported.json"
    dialogs.files.append(out)
    _click(qtbot, panel.export_button)
    assert [bm.name for bm in read_bookmarks(out)] == ["second"]

    other = panel_for("b", fingerprint="0123456789abcdef")
    dialogs.files.append(out)
    _click(qtbot, other.import_button)
    assert other.list.item(0).text() == MISMATCH_MARK + "second"
    assert dialogs.shown and "another decoder" in dialogs.shown[-1][1]
    with qtbot.waitSignal(other.state.planeChanged, timeout=2000):
        _double_click(qtbot, other, 0)
    assert other.model.plane == Plane("latent", 2, 3)


def test_a_garbled_file_is_named_and_left_alone(qtbot, panel_for, dialogs):
    panel = panel_for()
    path = panel.state.workspace.path / BOOKMARKS_FILE
    path.write_text('{"format": "latentexplorer-bookmarks/1", "bookmarks": [{"name": "x"')
    panel.refresh()
    assert str(path) in panel.status.text() and "not valid JSON" in panel.status.text()
    dialogs.names.append("new")
    _click(qtbot, panel.add_button)
    assert dialogs.shown and str(path) in dialogs.shown[-1][1]
    assert path.read_text().endswith('"x"')


def test_the_generator_settings_go_through_the_hooks(qtbot, panel_for, dialogs):
    from latentexplorer.explore.generate import GeneratorSpec

    panel = panel_for()
    spec = GeneratorSpec.of("uniform", n=5, seed=3, b=1.2)
    applied: list = []
    panel.generator_spec, panel.apply_generator = (lambda: spec), applied.append
    dialogs.names.append("gen")
    _click(qtbot, panel.add_button)
    assert "uniform n=5 seed=3" in panel.list.item(0).toolTip()
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=_item_pos(panel, 0))
    _click(qtbot, panel.restore_button)
    assert applied == [spec]
