"""GUI test fixtures: a real tiny workspace (64 synthetic 16x16 faces, z_dim 4, 1 epoch), an
AppState factory, QSettings in tmp_path and a mouse that clicks, drags and hovers in the scatter.

The workspace uses the one tiny-model recipe of ``tests/models/tiny_models.py``
(:func:`tiny_config`, :func:`build_tiny_workspace`); only its store differs: synthetic faces whose
generator factors ("smile", "male", ...) are the attributes. Built once per session; a test that
writes into it gets a copy (``tiny_workspace_copy``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from tiny_models import TINY, build_tiny_workspace, tiny_config  # on the pytest pythonpath

N_IMAGES = 64
SIZE = TINY["image_size"]
Z_DIM = TINY["z_dim"]


def write_tiny_store(path: Path, n: int = N_IMAGES, size: int = SIZE, seed: int = 0) -> Path:
    """A store of ``n`` synthetic faces with the generator's factors as attributes."""
    from latentexplorer.data.store import StoreWriter
    from latentexplorer.data.synth import FACTOR_NAMES, generate_faces

    images, factors = generate_faces(n, size=size, seed=seed)
    with StoreWriter(path, n, size) as w:
        w.images[:] = images
        w.set_filenames([f"synth_{i:03d}.png" for i in range(n)])
        w.set_attributes(factors.astype(np.float32), list(FACTOR_NAMES))
        w.finish({"source": "synthetic", "preset": "synthetic"})
    return path


@pytest.fixture(scope="session")
def tiny_workspace(tmp_path_factory) -> Path:
    """Path of a trained (1 epoch) and encoded tiny workspace. Treat as read-only."""
    root = tmp_path_factory.mktemp("tinyws")
    return build_tiny_workspace(root / "workspace", write_tiny_store(root / "faces"), tiny_config())


@pytest.fixture
def tiny_workspace_copy(tiny_workspace, tmp_path) -> Path:
    """A private copy of the tiny workspace (for tests that write gui_state.json etc.)."""
    dst = tmp_path / "workspace"
    shutil.copytree(tiny_workspace, dst)
    return dst


@pytest.fixture
def isolated_settings(tmp_path, monkeypatch):
    """QSettings redirected into tmp_path (no writes to the real home folder)."""
    from latentexplorer.gui import settings

    monkeypatch.setenv(settings.ENV_VAR, str(tmp_path / "settings.ini"))
    settings.set_settings_path(tmp_path / "settings.ini")
    yield tmp_path / "settings.ini"
    settings.set_settings_path(None)


# -- application state ----------------------------------------------------------------------------
def _make_state(z: np.ndarray | None = None, *, analysis: bool = True, decoder=None, **data):
    """An AppState holding ``z`` (and ``data``: attributes, attribute_names, ...), with the
    analysis computed synchronously (what the controller's "analysis" job hands in)."""
    from latentexplorer.explore import compute_analysis
    from latentexplorer.gui.state import AppState

    st = AppState()
    if z is not None:
        st.model.set_data(z, **data)
        if analysis:
            st.model.set_analysis(compute_analysis(st.model.z))
    if decoder is not None:
        st.set_decoder(decoder)
    return st


@pytest.fixture
def make_state():
    """``make_state(z, analysis=True, decoder=None, **data)`` → an AppState (see _make_state)."""
    return _make_state


# -- mouse (pyqtgraph reads clicks and drags from the view's viewport) --------------------------
class _Mouse:
    """Simulated clicks, drags and hovers in plane coordinates of a LatentScatterWidget (or any
    pyqtgraph PlotWidget given ``to_widget``, a function (x, y) → viewport QPoint)."""

    @staticmethod
    def _pos(w, x, y, to_widget=None):
        if to_widget is not None:
            return to_widget(x, y)
        return w.map_plane_to_widget(x, y)

    def click(self, w, x, y, modifier=None, to_widget=None):
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.mouseClick(w.viewport(), Qt.LeftButton, modifier or Qt.NoModifier,
                         self._pos(w, x, y, to_widget))

    def drag(self, w, points, modifier=None):
        """Press at the first point, move through the others, release at the last (default
        modifier: Shift, the path gesture; pass ``Qt.NoModifier`` for a plain drag)."""
        from PySide6.QtCore import QEvent, QPointF, Qt
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        modifier = Qt.ShiftModifier if modifier is None else modifier
        vp = w.viewport()
        pix = [QPointF(w.map_plane_to_widget(x, y)) for x, y in points]
        glob = [QPointF(vp.mapToGlobal(p.toPoint())) for p in pix]

        def send(kind, k, button, buttons):
            QApplication.sendEvent(vp, QMouseEvent(kind, pix[k], glob[k], button, buttons, modifier))

        send(QEvent.MouseButtonPress, 0, Qt.LeftButton, Qt.LeftButton)
        for k in range(1, len(pix)):
            send(QEvent.MouseMove, k, Qt.NoButton, Qt.LeftButton)
        send(QEvent.MouseButtonRelease, len(pix) - 1, Qt.LeftButton, Qt.NoButton)
        QApplication.processEvents()

    @staticmethod
    def click_checkbox(box):
        """Click a QCheckBox on its indicator (its centre may lie right of the short label)."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QStyle, QStyleOptionButton

        opt = QStyleOptionButton()
        box.initStyleOption(opt)
        rect = box.style().subElementRect(QStyle.SE_CheckBoxIndicator, opt, box)
        QTest.mouseClick(box, Qt.LeftButton, Qt.NoModifier, rect.center())

    def move(self, w, x, y):
        """Move the mouse (no button pressed) to plane coordinates (x, y)."""
        from PySide6.QtCore import QEvent, QPointF, Qt
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        vp = w.viewport()
        p = QPointF(w.map_plane_to_widget(x, y))
        g = QPointF(vp.mapToGlobal(p.toPoint()))
        QApplication.sendEvent(vp, QMouseEvent(QEvent.MouseMove, p, g, Qt.NoButton, Qt.NoButton,
                                               Qt.NoModifier))


@pytest.fixture
def mouse():
    """The simulated mouse. pyqtgraph drops move events closer than 1/mouseRateLimit seconds
    apart; a drag's synthetic moves arrive back to back, so the limit is off meanwhile."""
    import pyqtgraph as pg

    old = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", -1)
    yield _Mouse()
    pg.setConfigOption("mouseRateLimit", old)
