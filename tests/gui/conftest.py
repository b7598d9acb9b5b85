"""GUI test fixtures: a real tiny workspace (64 synthetic 16x16 faces, z_dim 4, 1 epoch).

Built once per session under ``tmp_path_factory`` with the real APIs (StoreWriter,
Workspace.create, models.training.train, Workspace.encode); every test that modifies it gets
a copy (``tiny_workspace_copy``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from latentexplorer.schemas import ModelConfig

TINY_MODEL = dict(image_size=16, z_dim=4, encoder_filters=(4, 8), encoder_kernels=(3, 3),
                  encoder_strides=(2, 2), decoder_filters=(8, 3), decoder_kernels=(3, 3),
                  decoder_strides=(2, 2))
N_IMAGES = 64


def tiny_model_config(**overrides) -> ModelConfig:
    return ModelConfig.from_preset("case1", **{**TINY_MODEL, **overrides})


def write_tiny_store(path: Path, n: int = N_IMAGES, size: int = 16, seed: int = 0) -> Path:
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
    from tiny_models import build_tiny_workspace  # tests/models is on the pytest pythonpath

    root = tmp_path_factory.mktemp("tinyws")
    return build_tiny_workspace(root / "workspace", write_tiny_store(root / "faces"),
                                tiny_model_config())


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


# -- mouse (pyqtgraph reads clicks and drags from the view's viewport) --------------------------
class _Mouse:
    """Simulated clicks and drags in plane coordinates of a LatentScatterWidget."""

    @staticmethod
    def click(w, x, y, modifier=None):
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        pos = w.map_plane_to_widget(x, y)
        QTest.mouseClick(w.viewport(), Qt.LeftButton, modifier or Qt.NoModifier, pos)

    @staticmethod
    def drag(w, points, modifier=None):
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


@pytest.fixture
def mouse() -> _Mouse:
    return _Mouse()
