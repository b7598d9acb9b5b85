"""Exports from the explorer: image grids, the path strip, plots, z-vectors.

All files are written atomically (:mod:`latentexplorer.fileio`): a crash never leaves a half-written
PNG or JSON. The ``export_*`` / ``save_*`` functions take plain arrays and paths (usable from tests
and scripts); :func:`ask_save_path` is the file dialog that remembers the last folder per kind
(:class:`~latentexplorer.gui.settings.Settings`).

Formats
-------
* Grids: PNG + JSON sidecar of :func:`latentexplorer.render.images.save_grid` (every z-vector, the
  generator and its settings, the seed and the decoder fingerprint) so a grid can be decoded again.
* Path strip: the same, one row, generator ``"path"``; the sidecar's ``"path"`` entry holds the plane
  and the path's plane points.
* Plots: PNG or SVG (:func:`latentexplorer.gui.analysis_plots.export_png` / ``export_svg``), chosen
  by the file suffix.
* z-vectors: ``.npy`` (float32, no pickles) or ``.csv`` (header ``z0,z1,...``, one vector a row).
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import InvalidInputError
from ..fileio import atomic_save_npy, atomic_write_bytes
from ..inputs import load_npy

log = logging.getLogger(__name__)

VECTOR_FILTER = "NumPy array (*.npy);;CSV table (*.csv)"
IMAGE_FILTER = "PNG image (*.png)"
PLOT_FILTER = "PNG image (*.png);;SVG vector graphics (*.svg)"


# ------------------------------------------------------------------------------------------------
# z-vectors
# ------------------------------------------------------------------------------------------------
def _check_vectors(z: Any) -> np.ndarray:
    z = np.asarray(z)
    if z.ndim == 1:
        z = z[None, :]
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise InvalidInputError(f"z-vectors: expected an array of shape (n, z_dim), got {z.shape}")
    if not np.issubdtype(z.dtype, np.number):
        raise InvalidInputError(f"z-vectors: expected numbers, got dtype {z.dtype}")
    return z.astype(np.float32)


def save_vectors(path: str | os.PathLike, z: np.ndarray) -> Path:
    """Write z-vectors (n, z_dim) as ``.npy`` (float32) or ``.csv`` (by suffix), atomically."""
    path = Path(path)
    z = _check_vectors(z)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        atomic_save_npy(path, z)
    elif suffix == ".csv":
        buf = io.StringIO()
        header = ",".join(f"z{i}" for i in range(z.shape[1]))
        # 9 significant digits round-trip float32 exactly
        np.savetxt(buf, z, delimiter=",", fmt="%.9g", header=header, comments="")
        atomic_write_bytes(path, buf.getvalue().encode("utf-8"))
    else:
        raise InvalidInputError(f"{path}: unknown vector format {suffix!r}, use .npy or .csv")
    return path


def load_vectors(path: str | os.PathLike) -> np.ndarray:
    """Read z-vectors written by :func:`save_vectors` (float32, shape (n, z_dim))."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        z = load_npy(path)
    elif suffix == ".csv":
        try:
            with open(path, encoding="utf-8") as fh:
                first = fh.readline()
            skip = 1 if first and not first.lstrip().lstrip("-+").replace(".", "", 1)[:1].isdigit() else 0
            z = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2, dtype=np.float64)
        except FileNotFoundError:
            raise InvalidInputError(f"{path}: file not found") from None
        except ValueError as exc:
            raise InvalidInputError(f"{path}: not a CSV table of numbers ({exc})") from None
    else:
        raise InvalidInputError(f"{path}: unknown vector format {suffix!r}, use .npy or .csv")
    return _check_vectors(z)


# ------------------------------------------------------------------------------------------------
# plots
# ------------------------------------------------------------------------------------------------
def export_plot(target, path: str | os.PathLike, width: int | None = None) -> Path:
    """Save a pyqtgraph plot (widget or item) as PNG or SVG, chosen by the suffix of ``path``."""
    from .analysis_plots import export_png, export_svg

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        return export_png(target, path, width=width)
    if suffix == ".svg":
        return export_svg(target, path)
    raise InvalidInputError(f"{path}: unknown plot format {suffix!r}, use .png or .svg")


# ------------------------------------------------------------------------------------------------
# grids and the path strip
# ------------------------------------------------------------------------------------------------
def export_grid(path: str | os.PathLike, z: np.ndarray, images: np.ndarray, *,
                generator: str, settings: dict | None = None, seed: int | None = None,
                fingerprint: str, scores: Any = None, labels: Sequence[str] | None = None,
                rows: int | None = None, cols: int | None = None, sharpen: float = 0,
                scale: int = 1, extra: dict | None = None) -> tuple[Path, Path]:
    """Write decoded ``images`` (n, h, w, 3) uint8 as a grid PNG plus its JSON sidecar.

    ``z`` (n, z_dim) are the vectors the images were decoded from; ``images`` are the raw decoded
    images (``sharpen`` is applied when writing and recorded). The sidecar is that of
    :func:`latentexplorer.render.images.save_grid` (``GRID.json`` next to ``GRID.png``), so
    :func:`~latentexplorer.render.images.redecode_sidecar` can rebuild the grid. A path without
    ``.png`` gets it. Returns ``(png, json)``.
    """
    from ..render.images import save_grid

    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_name(path.name + ".png")
    z = _check_vectors(z)
    imgs = np.asarray(images)
    if imgs.ndim != 4 or imgs.shape[0] != z.shape[0]:
        raise InvalidInputError(f"grid: {imgs.shape[0] if imgs.ndim == 4 else imgs.shape} images "
                                f"for {z.shape[0]} z-vectors")
    if cols is not None:
        cols = int(max(1, min(cols, z.shape[0])))
    sidecar = save_grid(path, imgs, z, generator=generator, settings=dict(settings or {}), seed=seed,
                        fingerprint=fingerprint, scores=scores, rows=rows, cols=cols,
                        labels=list(labels) if labels is not None else None, sharpen=sharpen,
                        scale=scale, extra=extra)
    return path, Path(sidecar)


def export_path_strip(path: str | os.PathLike, z: np.ndarray, images: np.ndarray, *,
                      fingerprint: str, path_spec: dict | None = None, sharpen: float = 0,
                      labels: Sequence[str] | None = None) -> tuple[Path, Path]:
    """Write the path strip (one row of decoded images) as PNG plus its JSON sidecar.

    The sidecar (format of :func:`~latentexplorer.render.images.save_grid`, generator ``"path"``)
    holds every z-vector along the path and, under ``"path"``, what the path was: ``{"kind":
    "plane", "plane", "points"}`` or ``{"kind": "direction", "name", "unit", "lo", "hi"}`` (an
    attribute direction and its range).
    """
    z = _check_vectors(z)
    return export_grid(path, z, images, generator="path", settings={"n": int(z.shape[0])},
                       seed=None, fingerprint=fingerprint, rows=1, cols=int(z.shape[0]),
                       sharpen=sharpen, labels=labels, extra={"path": dict(path_spec or {})})


# ------------------------------------------------------------------------------------------------
# dialogs
# ------------------------------------------------------------------------------------------------
def ask_save_path(parent, title: str, kind: str, file_filter: str, default_name: str = "",
                  settings=None, workspace=None) -> Path | None:
    """A save-file dialog starting in the open workspace's ``results/`` folder (else the last
    folder used for ``kind``); remembers the choice.

    Returns the chosen path (with the filter's suffix added when none was typed) or ``None``.
    """
    from PySide6.QtWidgets import QFileDialog

    from .settings import Settings

    settings = settings or Settings()
    folder = str(workspace.results_dir) if workspace is not None else settings.last_folder(kind)
    start = str(Path(folder) / default_name) if default_name else folder
    name, selected = QFileDialog.getSaveFileName(parent, title, start, file_filter)
    if not name:
        return None
    path = Path(name)
    if not path.suffix:
        suffix = _suffix_of(selected or file_filter)
        if suffix:
            path = path.with_suffix(suffix)
    settings.remember_folder(path, kind)
    return path


def _suffix_of(file_filter: str) -> str:
    """``".png"`` from ``"PNG image (*.png)"`` (the first pattern of the first filter)."""
    start = file_filter.find("(*")
    if start < 0:
        return ""
    end = file_filter.find(")", start)
    pattern = file_filter[start + 2:end].split()[0]
    return pattern if pattern.startswith(".") else ""


def export_plot_dialog(parent, target, name: str = "plot", settings=None,
                       workspace=None) -> Path | None:
    """Ask for a PNG/SVG file name (in the workspace's results/) and export ``target`` there."""
    path = ask_save_path(parent, "Export plot", "plots", PLOT_FILTER, f"{name}.png", settings=settings,
                         workspace=workspace)
    if path is None:
        return None
    return export_plot(target, path)


def add_export_actions(plot_widget, name: str = "plot", parent=None, settings=None, state=None) -> list:
    """Add "Export as PNG/SVG…" to the right-click menu of a pyqtgraph ``PlotWidget``.

    The dialog starts in the open workspace's results/ (``state.workspace``) and the saved file is
    confirmed through ``state.notice``. (pyqtgraph's own "Export..." dialog stays available in the
    same menu.) Returns the actions.
    """
    vb = plot_widget.getPlotItem().getViewBox()
    menu = vb.menu
    menu.addSeparator()
    actions = []
    for suffix, label in ((".png", "Export as PNG…"), (".svg", "Export as SVG…")):
        act = menu.addAction(label)
        filt = IMAGE_FILTER if suffix == ".png" else "SVG vector graphics (*.svg)"

        def run(_checked=False, suffix=suffix, filt=filt):
            try:
                path = ask_save_path(parent or plot_widget, "Export plot", "plots", filt,
                                     f"{name}{suffix}", settings=settings,
                                     workspace=None if state is None else state.workspace)
                if path is not None:
                    export_plot(plot_widget, path)
                    if state is not None:
                        state.notice.emit(f"Plot saved: {path}")
            except (InvalidInputError, OSError, ValueError) as exc:
                from .widgets import show_error

                show_error(parent or plot_widget, "Export", str(exc))

        act.triggered.connect(run)
        actions.append(act)
    return actions
