"""The images ``latentexplorer score`` judges: a folder of photos, a grid PNG with its sidecar, or a
sweep folder (one set per grid).

A grid's tiles are cut out of its PNG with the layout its sidecar records (``rows``, ``cols``,
``pad``, ``scale``, ``image_shape``; labels add a 12-px strip under each tile, as
:func:`~latentexplorer.render.images.make_grid` draws them), so what is judged is what the
user sees, sharpening included. A PNG whose SHA-256 differs from the one its sidecar recorded is
refused: the tiles would not be the z-vectors' images. Photos are cropped to a square and
resized like an import (:func:`~latentexplorer.data.prepare.load_face`, preset ``center`` by
default); unusable files are skipped and listed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import InvalidInputError
from ..inputs import check_regular_file, printable, read_json

__all__ = ["ImageSet", "load_image_sets", "grid_tiles", "LABEL_STRIP"]

#: height of the label strip under each tile when a grid has labels (see make_grid)
LABEL_STRIP = 12
#: largest grid PNG read (the limit make_grid writes)
MAX_GRID_PIXELS = 200_000_000


@dataclass
class ImageSet:
    """A named set of images to judge.

    Attributes
    ----------
    name : str
        The grid's file name, a sweep entry (``b=1.5``) or the folder's name.
    images : ndarray of shape (n, H, W, 3), uint8
    source : dict
        Where the images came from (path, kind, the grid's generator and settings ...).
    skipped : list of (str, str)
        Files of a folder that could not be used, with the reason.
    """

    name: str
    images: np.ndarray
    source: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)


def _read_png(path: Path) -> np.ndarray:
    check_regular_file(path, "grid image")
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_GRID_PIXELS:
                raise InvalidInputError(f"{printable(path)}: {img.width}x{img.height} px is larger "
                                        f"than a grid can be ({MAX_GRID_PIXELS // 1_000_000} megapixels)")
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except InvalidInputError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInputError(f"{printable(path)}: not a readable image ({exc})") from None


def _tile_side(total: int, count: int, pad: int, extra: int) -> int | None:
    """Tile side from ``total = count * (side + extra + pad) + pad``, or None if it does not fit."""
    inner = total - pad
    if inner <= 0 or inner % count:
        return None
    side = inner // count - pad - extra
    return side if side > 0 else None


def grid_tiles(png: str | Path, sidecar: str | Path | None = None) -> tuple[np.ndarray, dict]:
    """The ``n`` tiles of a grid PNG, at their original size (the grid's ``scale`` undone).

    Parameters
    ----------
    png : path of ``GRID.png`` (or of its sidecar ``GRID.json``)
    sidecar : path of the sidecar, default ``GRID.json`` next to the PNG

    Returns
    -------
    tiles : ndarray of shape (n, h, w, 3), uint8
    source : dict
        ``kind``, ``png``, ``generator``, ``settings``, ``seed``, ``fingerprint``, ``n``.
    """
    from ..schemas import GridSidecar

    png = Path(png)
    if png.suffix.lower() == ".json":
        sidecar, png = png, png.with_suffix(".png")
    sidecar = Path(sidecar) if sidecar is not None else png.with_suffix(".json")
    rec = read_json(sidecar, GridSidecar)      # validated: layout, n, labels
    pixels = _read_png(png)
    where = printable(png)
    expected = rec.png_sha256
    if expected is not None and hashlib.sha256(png.read_bytes()).hexdigest() != expected:
        raise InvalidInputError(f"{where}: does not match its sidecar {printable(sidecar.name)} "
                                "(a different image; its tiles are not the recorded z-vectors)")
    height, width, _ = pixels.shape
    strip = LABEL_STRIP if rec.labels is not None else 0
    shape = rec.image_shape
    if shape:
        th, tw = int(shape[0]) * rec.scale, int(shape[1]) * rec.scale
    else:
        th, tw = _tile_side(height, rec.rows, rec.pad, strip), _tile_side(width, rec.cols, rec.pad, 0)
    if not th or not tw or rec.rows * (th + strip + rec.pad) + rec.pad != height \
            or rec.cols * (tw + rec.pad) + rec.pad != width:
        raise InvalidInputError(
            f"{where}: {width}x{height} px does not fit the sidecar's layout ({rec.rows} x {rec.cols} "
            f"tiles, pad {rec.pad}, scale {rec.scale}{', labels' if strip else ''})")
    tiles = np.empty((rec.n, th // rec.scale, tw // rec.scale, 3), np.uint8)
    for i in range(rec.n):
        r, c = divmod(i, rec.cols)
        y, x = rec.pad + r * (th + strip + rec.pad), rec.pad + c * (tw + rec.pad)
        # nearest-neighbour enlargement repeats each pixel scale x scale times: take one of each
        tiles[i] = pixels[y:y + th:rec.scale, x:x + tw:rec.scale]
    source = {"kind": "grid", "png": str(png), "generator": rec.generator, "settings": rec.settings,
              "seed": rec.seed, "fingerprint": rec.fingerprint, "n": rec.n}
    return tiles, source


def _folder_set(folder: Path, preset: str, size: int, limit: int | None, progress) -> ImageSet:
    from ..data.prepare import list_images, load_face

    files = list_images(folder, limit=limit)
    images, skipped = [], []
    for i, f in enumerate(files):
        if progress is not None and i % 64 == 0:
            progress.raise_if_cancelled()
            progress.update(i, len(files), "reading images")
        try:
            images.append(load_face(f, preset, size))
        except InvalidInputError as exc:
            skipped.append((f.name, str(exc).split(": ", 1)[-1]))
    if not images:
        raise InvalidInputError(f"{printable(folder)}: none of its {len(files)} image files could be "
                                f"read (first: {printable(skipped[0][0])}: {skipped[0][1]})")
    return ImageSet(name=folder.name or str(folder), images=np.stack(images),
                    source={"kind": "folder", "path": str(folder), "preset": preset, "size": size,
                            "n_files": len(files)}, skipped=skipped)


def load_image_sets(path: str | Path, *, preset: str = "center", size: int = 96,
                    limit: int | None = None, progress=None) -> list[ImageSet]:
    """The image sets under ``path``.

    Parameters
    ----------
    path : a folder of images, a grid ``GRID.png`` / ``GRID.json``, or a sweep folder
        (one holding the ``summary.json`` of ``latentexplorer sweep``)
    preset : {"center", "celeba"}, keyword-only
        Crop of photos in a folder (SPEC §2).
    size : int, keyword-only
        Side photos are resized to.
    limit : int, optional, keyword-only
        At most this many photos of a folder (sorted by name).

    Returns
    -------
    list of ImageSet
        One for a folder or a grid; one per grid of a sweep, in the sweep's order.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"{printable(path)}: not found (expected a folder of images, a grid "
                                "PNG with its sidecar, or a sweep folder)")
    if path.is_dir() and (path / "summary.json").is_file():
        from ..schemas import SweepSummary

        summary = read_json(path / "summary.json", SweepSummary)
        sets = []
        for entry in summary.entries:
            tiles, source = grid_tiles(path / entry.grid)
            value = (entry.model_extra or {}).get(summary.parameter)
            name = f"{summary.parameter}={value:g}" if isinstance(value, (int, float)) else entry.grid
            sets.append(ImageSet(name=name, images=tiles, source={**source, "sweep": str(path)}))
        return sets
    if path.is_dir():
        return [_folder_set(path, preset, size, limit, progress)]
    if path.suffix.lower() in (".png", ".json"):
        tiles, source = grid_tiles(path)
        return [ImageSet(name=Path(source["png"]).name, images=tiles, source=source)]
    raise InvalidInputError(f"{printable(path)}: expected a folder of images, a grid .png with its "
                            ".json sidecar, or a sweep folder")
