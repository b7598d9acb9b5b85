"""Image post-processing, grids, and PNG + JSON sidecar export that can be decoded again.

A grid ``GRID.png`` is always written together with ``GRID.json`` (same stem) holding every
z-vector, the generator name and settings, the seed, the decoder's weights fingerprint, optional
face-likeness scores, the layout and the sharpening factor, so :func:`redecode_sidecar` can
rebuild exactly the same images from the same decoder (and refuses another decoder).

Sharpening uses PIL's ``ImageEnhance.Sharpness`` (the seeds' post-processing). Its factor:
``1`` returns the image unchanged, ``> 1`` sharpens (the seeds used 3 … 7), ``0 < f < 1``
softens and ``0`` gives PIL's smoothed image. In :func:`save_grid`, the sidecar and the CLI flag
``--sharpen``, however, ``0`` (the default) means **no post-processing at all**, not PIL's blur.

No TensorFlow at import time (Keras is only touched through the decoder passed in).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from ..errors import InvalidInputError
from ..fileio import atomic_files, json_text
from ..inputs import read_json
from ..schemas import GRID_FORMAT, MAX_SHARPEN, GridSidecar, parse

__all__ = ["sharpen", "make_grid", "grid_shape", "save_grid", "load_sidecar", "redecode_sidecar",
           "render_sidecar_grid", "weights_fingerprint", "GridRecord", "SIDECAR_FORMAT"]

SIDECAR_FORMAT = GRID_FORMAT
#: largest grid image (about 600 MB of RGB pixels before PNG compression)
MAX_GRID_PIXELS = 200_000_000


# --------------------------------------------------------------------------- fingerprint

def weights_fingerprint(model) -> str:
    """Weights fingerprint of a Keras model, :func:`latentexplorer.models.io.weights_fingerprint`
    (sha256 over shapes and bytes of the weights, first 16 hex digits); imported lazily so this
    module does not load TensorFlow."""
    from ..models.io import weights_fingerprint as _fingerprint

    return _fingerprint(model)


# --------------------------------------------------------------------------- images

def _as_images(images: Any) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise InvalidInputError(f"images: expected shape (n, H, W, 3), got {np.shape(images)}")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating):
            arr = np.round(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)
        else:
            raise InvalidInputError(f"images: expected uint8 (or float in [0, 1]), got {arr.dtype}")
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return arr


def _check_factor(factor: Any) -> float:
    try:
        f = float(factor)
    except (TypeError, ValueError):
        raise InvalidInputError(f"sharpen: expected a number, got {factor!r}") from None
    if not math.isfinite(f) or not 0 <= f <= MAX_SHARPEN:
        raise InvalidInputError(f"sharpen: expected a factor from 0 to {MAX_SHARPEN:g}, got {factor!r}")
    return f


def sharpen(images: Any, factor: float) -> np.ndarray:
    """PIL ``ImageEnhance.Sharpness`` with ``factor`` applied to each image (uint8 in and out).

    ``factor == 1`` returns an unchanged copy; ``> 1`` sharpens (seed: 3 … 7); ``0`` is PIL's
    smoothed image (use ``sharpen=0`` in :func:`save_grid` / ``--sharpen 0`` for "no processing").
    Accepts ``(H, W, 3)`` or ``(n, H, W, 3)`` and returns the same shape.
    """
    f = _check_factor(factor)
    single = np.asarray(images).ndim == 3
    arr = _as_images(images)
    if f == 1.0:
        out = arr.copy()
    else:
        out = np.empty_like(arr)
        for i, img in enumerate(arr):
            out[i] = np.asarray(ImageEnhance.Sharpness(Image.fromarray(img)).enhance(f))
    return out[0] if single else out


def _post_process(images: np.ndarray, sharpen_factor: float) -> np.ndarray:
    """Sidecar/CLI semantics: 0 = no processing; otherwise PIL sharpness factor."""
    f = _check_factor(sharpen_factor)
    return images if f == 0.0 else sharpen(images, f)


def grid_shape(n: int, rows: int | None = None, cols: int | None = None) -> tuple[int, int]:
    """Rows and columns for ``n`` tiles; missing values are derived (default: near-square)."""
    if n < 1:
        raise InvalidInputError("grid: no images")
    for name, v in (("rows", rows), ("cols", cols)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise InvalidInputError(f"grid: {name} must be an integer >= 1, got {v!r}")
    if rows is None and cols is None:
        cols = int(math.ceil(math.sqrt(n)))
    if rows is None:
        rows = int(math.ceil(n / cols))
    elif cols is None:
        cols = int(math.ceil(n / rows))
    if rows * cols < n:
        raise InvalidInputError(f"grid: {rows}x{cols} = {rows * cols} tiles cannot hold {n} images")
    return int(rows), int(cols)


def make_grid(images: Any, rows: int | None = None, cols: int | None = None,
              labels: Sequence[str] | None = None, pad: int = 2, scale: int = 1,
              background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Tile images ``(n, H, W, 3)`` row by row into one RGB :class:`PIL.Image.Image`.

    ``pad`` pixels separate the tiles (and frame the grid); ``scale`` enlarges each tile by an
    integer factor (nearest neighbour, pixels stay crisp); ``labels`` (one short string per image,
    or None) are written in a strip under each tile. Unused tiles stay background-coloured.
    """
    arr = _as_images(images)
    n, h, w, _ = arr.shape
    rows, cols = grid_shape(n, rows, cols)
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise InvalidInputError(f"grid: scale must be an integer >= 1, got {scale!r}")
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise InvalidInputError(f"grid: pad must be an integer >= 0, got {pad!r}")
    if labels is not None and len(labels) != n:
        raise InvalidInputError(f"grid: {len(labels)} labels for {n} images")
    th, tw = h * scale, w * scale
    pixels = (rows * (th + 12 + pad) + pad) * (cols * (tw + pad) + pad)
    if pixels > MAX_GRID_PIXELS:
        raise InvalidInputError(
            f"grid: {n} tiles of {tw}x{th} px (scale {scale}) make a {pixels / 1e6:,.0f}-megapixel "
            f"image; at most {MAX_GRID_PIXELS / 1e6:,.0f} megapixels (fewer images or a smaller scale)")
    font = label_h = None
    if labels is not None:
        font = ImageFont.load_default()
        label_h = 12
    cell_h = th + (label_h or 0)
    canvas = np.empty((rows * (cell_h + pad) + pad, cols * (tw + pad) + pad, 3), np.uint8)
    canvas[...] = np.asarray(background, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = pad + r * (cell_h + pad), pad + c * (tw + pad)
        tile = arr[i] if scale == 1 else arr[i].repeat(scale, axis=0).repeat(scale, axis=1)
        canvas[y:y + th, x:x + tw] = tile
    img = Image.fromarray(canvas, "RGB")
    if labels is not None:
        draw = ImageDraw.Draw(img)
        for i, text in enumerate(labels):
            if not text:
                continue
            r, c = divmod(i, cols)
            y, x = pad + r * (cell_h + pad) + th, pad + c * (tw + pad)
            draw.text((x + 1, y), str(text), fill=(0, 0, 0), font=font)
    return img


# --------------------------------------------------------------------------- sidecar

@dataclass
class GridRecord:
    """A validated grid sidecar (see :func:`save_grid` for the fields)."""

    z: np.ndarray
    generator: str
    settings: dict
    seed: int | None
    fingerprint: str
    rows: int
    cols: int
    sharpen: float
    scores: Any = None
    labels: list[str] | None = None
    created: str = ""
    png: str = ""
    pad: int = 2
    scale: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.z.shape[0])

    @property
    def z_dim(self) -> int:
        return int(self.z.shape[1])


def _sidecar_path(path_png: Path) -> Path:
    return path_png.with_suffix(".json")


def check_grid_output(path_png: str | Path, option: str = "--out") -> Path:
    """Refuse a grid path that cannot or must not be written (:func:`outputs.check_output`): a
    folder, a path through a file, a workspace's or store's own files, or a ``GRID.json`` next
    to it that is not an earlier grid sidecar. Commands call it before they do any work."""
    from ..outputs import check_output

    path_png = Path(path_png)
    return check_output(path_png, kind="file", option=option,
                        derived=[(_sidecar_path(path_png), GRID_FORMAT)])


def save_grid(path_png: str | Path, images: Any, z: Any, *, generator: str, settings: dict,
              seed: int | None, fingerprint: str, scores: Any = None, rows: int | None = None,
              cols: int | None = None, labels: Sequence[str] | None = None, sharpen: float = 0,
              pad: int = 2, scale: int = 1, extra: dict | None = None, staged: bool = False) -> Path:
    """Write ``path_png`` (the grid) and its sidecar ``<stem>.json``, committed as one unit.

    Parameters
    ----------
    images : ndarray (n, H, W, 3) uint8
        The decoded images *before* sharpening (the factor is applied here and recorded).
    z : ndarray (n, z_dim)
        The z-vectors the images were decoded from (stored as float32 values).
    generator, settings, seed : the generator name, its parameters and the random seed.
    fingerprint : str
        Weights fingerprint of the decoder (:func:`weights_fingerprint`).
    scores : JSON-serialisable, optional
        E.g. face-likeness per vector and summary.
    sharpen : float
        PIL sharpness factor; ``0`` = no post-processing.
    extra : dict, optional
        More JSON entries (e.g. the workspace path).
    staged : bool
        ``path_png`` lies in a folder that is itself being staged and committed as a whole (a
        sweep): the two files are written plainly.

    Returns
    -------
    Path of the sidecar.

    The sidecar: ``format``, ``created``, ``png``, ``generator``, ``settings``, ``seed``,
    ``fingerprint``, ``n``, ``z_dim``, ``image_shape``, ``rows``, ``cols``, ``pad``, ``scale``,
    ``labels``, ``sharpen``, ``scores``, ``z`` (list of n lists), plus ``extra`` entries.
    """
    path_png = Path(path_png)
    if path_png.suffix.lower() != ".png":
        raise InvalidInputError(f"{path_png}: the grid file must end in .png")
    if not staged:  # a folder, a workspace's or store's files, someone's JSON: before any work
        check_grid_output(path_png)
    arr = _as_images(images)
    zz = np.asarray(z, dtype=np.float32)
    if zz.ndim != 2 or zz.shape[0] != arr.shape[0]:
        raise InvalidInputError(f"save_grid: {arr.shape[0]} images but z has shape {np.shape(z)}")
    if not np.all(np.isfinite(zz)):
        raise InvalidInputError("save_grid: z contains NaN or infinite values")
    rows, cols = grid_shape(arr.shape[0], rows, cols)
    factor = _check_factor(sharpen)
    img = make_grid(_post_process(arr, factor), rows, cols, labels=labels, pad=pad, scale=scale)
    record = {
        "format": SIDECAR_FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "png": path_png.name,
        "generator": str(generator),
        "settings": dict(settings or {}),
        "seed": None if seed is None else int(seed),
        "fingerprint": fingerprint,
        "n": int(zz.shape[0]),
        "z_dim": int(zz.shape[1]),
        "image_shape": list(arr.shape[1:]),
        "rows": rows, "cols": cols, "pad": int(pad), "scale": int(scale),
        "labels": None if labels is None else [str(s) for s in labels],
        "sharpen": factor,
        "scores": scores,
        "z": [[float(x) for x in row] for row in zz],  # float32 values are exact in JSON doubles
    }
    for key, value in (extra or {}).items():
        if key in record:
            raise InvalidInputError(f"save_grid: extra entry {key!r} would overwrite a sidecar field")
        record[key] = value
    sidecar = _sidecar_path(path_png)
    # what is written must read back: the sidecar passes the reader's schema before anything is written
    parse(GridSidecar, json.loads(json_text(record)), f"{sidecar} (to be written)")
    # PNG and sidecar are one unit: both are staged, then committed together (a crash at any
    # point leaves the old pair or the new pair, never one of each)
    with contextlib.nullcontext((path_png, sidecar)) if staged else \
            atomic_files(path_png, sidecar) as (tmp_png, tmp_json):
        img.save(tmp_png, format="PNG")
        record["png_sha256"] = hashlib.sha256(tmp_png.read_bytes()).hexdigest()
        tmp_json.write_text(json_text(record), encoding="utf-8")
    return sidecar


def load_sidecar(path: str | Path) -> GridRecord:
    """Read and validate a grid sidecar (``GRID.json``; ``GRID.png`` is accepted too)."""
    path = Path(path)
    if path.suffix.lower() == ".png":
        path = _sidecar_path(path)
    data = read_json(path, GridSidecar)
    known = set(GridSidecar.model_fields)
    return GridRecord(
        z=np.asarray(data.z, dtype=np.float32).reshape(data.n, data.z_dim), generator=data.generator,
        settings=data.settings, seed=data.seed, fingerprint=data.fingerprint, rows=data.rows,
        cols=data.cols, sharpen=data.sharpen, scores=data.scores, labels=data.labels,
        created=data.created, png=data.png, pad=data.pad, scale=data.scale,
        extra={k: v for k, v in (data.model_extra or {}).items() if k not in known})


def redecode_sidecar(json_path: str | Path, decoder, fingerprint: str) -> np.ndarray:
    """Decode the z-vectors of a sidecar again: uint8 images ``(n, H, W, 3)``, sharpened as recorded.

    ``decoder`` is a :class:`~latentexplorer.render.decode.Decoder` or a Keras decoder;
    ``fingerprint`` is its weights fingerprint. A different fingerprint than the one recorded
    raises :class:`InvalidInputError` (other weights would give other images).
    """
    rec = load_sidecar(json_path)
    if fingerprint != rec.fingerprint:
        raise InvalidInputError(
            f"{json_path}: grid was made with decoder {rec.fingerprint}, but this decoder is "
            f"{fingerprint}; open the workspace/model that produced it")
    from ..models.codec import Decoder

    dec = decoder if isinstance(decoder, Decoder) else Decoder(decoder)
    if dec.z_dim != rec.z_dim:
        raise InvalidInputError(f"{json_path}: z_dim {rec.z_dim}, the decoder expects {dec.z_dim}")
    return _post_process(dec.decode(rec.z), rec.sharpen)


def render_sidecar_grid(json_path: str | Path, decoder, fingerprint: str) -> Image.Image:
    """The grid image of a sidecar, rebuilt from its z-vectors (same layout as the PNG)."""
    rec = load_sidecar(json_path)
    images = redecode_sidecar(json_path, decoder, fingerprint)
    return make_grid(images, rec.rows, rec.cols, labels=rec.labels, pad=rec.pad, scale=rec.scale)
