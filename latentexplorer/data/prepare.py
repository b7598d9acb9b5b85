"""Import a folder of real face photos into a :mod:`~latentexplorer.data.store` dataset.

Two crop presets (SPEC §2):

* ``"celeba"`` — CelebA aligned images (178×218): the box ``left=0, top=40, right=178, bottom=218``,
  scaled proportionally for other sizes of the same aspect (the 89×109 half-size copies → (0, 20, 89, 109)).
* ``"center"`` — any folder of face photos: the centre square.

Each crop is resized to ``size×size`` with LANCZOS. Decoding runs in worker processes, each handling a
chunk of file paths and writing the uint8 pixels straight into the store's (pre-allocated, still
temporary) memmap at the chunk's rows, so only file names and counts travel between processes. The
parent closes the gaps left by skipped files chunk by chunk, in file order, so the result does not
depend on the number of workers. Bad files are skipped and listed, never fatal, unless nothing at all
is usable.

Images smaller than the target size are **upscaled** (LANCZOS) as long as the crop is at least a
quarter of the output side (:data:`MAX_UPSCALE`, e.g. 24 px for 96 px); smaller ones (icons,
tracking pixels, thumbnails) are skipped as "too small", since a 4x-enlarged blur is no face.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import stat
import time
import warnings
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageOps

from ..errors import InvalidInputError
from ..inputs import printable, read_bytes
from ..progress import ProgressReporter
from .store import StoreWriter

__all__ = ["PRESETS", "IMAGE_EXTENSIONS", "PrepareReport", "celeba_crop_box", "center_crop_box",
           "load_face", "list_images", "read_celeba_attributes", "prepare_dataset"]

PRESETS = ("celeba", "center")
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp",
                              ".ppm", ".pgm", ".pbm"})
CELEBA_SIZE = (178, 218)
CELEBA_BOX = (0, 40, 178, 218)
# A celeba-preset image may deviate this much from 178:218 (rounding of resized copies).
_ASPECT_TOLERANCE = 0.02
# Below this many files per worker, starting processes costs more than it saves.
_MIN_FILES_PER_WORKER = 16
# Small chunks keep both workers busy to the very end (64 images are ~30 ms of work); the
# per-chunk cost is one small message each way now that the pixels do not travel.
_MAX_CHUNK = 64
#: a crop is enlarged at most this much; smaller images are skipped as "too small"
MAX_UPSCALE = 4
#: images with more pixels are skipped as "too large" before their pixels are decoded: 50 megapixels
#: (8,160 x 6,120, more than nearly every camera) decode into 150 MB; a 12,000 x 12,000 PNG of a few
#: kilobytes would take 432 MB per worker
MAX_PIXELS = 50_000_000


@dataclass
class PrepareReport:
    """Outcome of :func:`prepare_dataset`.

    Attributes
    ----------
    written : int
        Images in the store.
    skipped : list of (filename, reason)
        Files that could not be used, in file order.
    store_path : Path
    seconds : float
        Wall time of the whole import.
    """

    written: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    store_path: Path | None = None
    seconds: float = 0.0

    def reason_counts(self) -> dict[str, int]:
        """Number of skipped files per reason, most frequent first."""
        return dict(Counter(reason for _, reason in self.skipped).most_common())

    def summary(self) -> str:
        """One line: images written, where, how long, and skipped files grouped by reason."""
        line = f"wrote {self.written} images to {printable(self.store_path)} in {self.seconds:.1f} s"
        if self.skipped:
            line += f"; skipped {len(self.skipped)} ({_grouped(self.skipped)})"
        else:
            line += "; skipped 0"
        return line


def _grouped(skipped: list[tuple[str, str]]) -> str:
    """'reason: count, ...' most frequent first."""
    return ", ".join(f"{reason}: {k}" for reason, k in Counter(r for _, r in skipped).most_common())



# --------------------------------------------------------------------------------------------- geometry

def celeba_crop_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The CelebA face box ``(left, top, right, bottom)`` scaled to a ``width × height`` image.

    Raises
    ------
    InvalidInputError
        If the aspect ratio is not CelebA's 178:218 (within 2 %).
    """
    ref_w, ref_h = CELEBA_SIZE
    if width <= 0 or height <= 0:
        raise InvalidInputError(f"image size {width}x{height}: expected positive width and height")
    aspect, ref_aspect = width / height, ref_w / ref_h
    if abs(aspect / ref_aspect - 1.0) > _ASPECT_TOLERANCE:
        raise InvalidInputError(
            f"image size {width}x{height}: aspect differs from CelebA's 178x218 (use preset 'center')")
    sx, sy = width / ref_w, height / ref_h
    left, top, right, bottom = CELEBA_BOX
    return (round(left * sx), round(top * sy), round(right * sx), round(bottom * sy))


def center_crop_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The largest centred square ``(left, top, right, bottom)`` of a ``width × height`` image."""
    if width <= 0 or height <= 0:
        raise InvalidInputError(f"image size {width}x{height}: expected positive width and height")
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return (left, top, left + side, top + side)


def crop_box(preset: str, width: int, height: int) -> tuple[int, int, int, int]:
    if preset == "celeba":
        return celeba_crop_box(width, height)
    if preset == "center":
        return center_crop_box(width, height)
    raise InvalidInputError(f"preset {preset!r}: expected one of {', '.join(PRESETS)}")


# --------------------------------------------------------------------------------------------- decoding

def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode → 8-bit RGB; transparency is composited onto white."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I;16") or mode in ("I", "F"):
        # convert("RGB") clips these to 0..255 (a 16-bit photo would come out white): rescale first.
        a = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16") or (mode == "I" and a.max(initial=0) > 255):
            a = a / 257.0
        elif mode == "F" and a.max(initial=0) <= 1.0:
            a = a * 255.0
        g = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(g[:, :, None], 3, axis=2), "RGB")
    if mode == "P" and "transparency" in img.info:
        img, mode = img.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    try:
        return img.convert("RGB")  # L, 1, P, CMYK, YCbCr, ...
    except ValueError:
        raise InvalidInputError(f"unsupported colour mode {mode}") from None


def _decode(path: Path, preset: str, size: int) -> np.ndarray:
    """Open, orient, crop, resize one file. Raises InvalidInputError(reason) for unusable files."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the import forever
            raise InvalidInputError("not a regular file (a folder, FIFO or device)")
        if st.st_size == 0:
            raise InvalidInputError("empty file")
        with warnings.catch_warnings():
            # Pillow warns about images over its own pixel limit; ours (MAX_PIXELS, below) is
            # stricter and names the file in the skip list, so its warning would only add noise
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
        with img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                # one wording per import (no per-file size) so the summary groups these files
                raise InvalidInputError(f"too large (over {MAX_PIXELS // 1_000_000} megapixels)")
            # EXIF orientations 5..8 swap width and height; decide the crop on the upright image.
            try:
                orientation = img.getexif().get(0x0112, 1)
            except Exception:  # a broken EXIF block must not cost the image
                orientation = 1
            uw, uh = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
            try:
                box = crop_box(preset, uw, uh)
            except InvalidInputError:
                # one fixed wording (no per-file size) so the summary groups these files together
                raise InvalidInputError("aspect is not CelebA's 178:218 (use preset 'center')") from None
            side = min(box[2] - box[0], box[3] - box[1])
            min_side = math.ceil(size / MAX_UPSCALE)
            if side < min_side:
                # one wording per import (no per-file size) so the summary groups these files
                raise InvalidInputError(f"too small (crop under {min_side} px for {size} px output)")
            if img.format == "JPEG" and side >= 4 * size:
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale (big phone photos), keeping at least
                # twice the output resolution in the crop so LANCZOS still does the final filtering.
                scale = side / (2 * size)
                img.draft(None, (math.ceil(w / scale), math.ceil(h / scale)))
            img.load()
            try:
                img = ImageOps.exif_transpose(img)
            except Exception:
                pass  # keep the stored orientation rather than lose the image
            img = _to_rgb(img)
            # the draft may have shrunk the image: recompute the box on the actual pixels
            box = crop_box(preset, *img.size)
            # crop first: resize(box=...) would let the filter reach pixels outside the box
            out = img.crop(box).resize((size, size), Image.Resampling.LANCZOS)
            arr = np.asarray(out, dtype=np.uint8)
    except InvalidInputError:
        raise
    except PermissionError:
        raise InvalidInputError("unreadable (permission denied)") from None
    except FileNotFoundError:
        raise InvalidInputError("file not found (removed during the import?)") from None
    except Image.DecompressionBombError:
        raise InvalidInputError("too many pixels (possible decompression bomb)") from None
    except Image.UnidentifiedImageError:
        raise InvalidInputError("not an image (unrecognised format)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, MemoryError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:  # EIO and friends, not bad data
            raise InvalidInputError(f"unreadable ({exc.strerror})") from None
        # Pillow reports damaged data through a zoo of exception types; they all mean the same here.
        raise InvalidInputError("corrupt or truncated image") from None
    if arr.shape != (size, size, 3):
        raise InvalidInputError(f"decoded to shape {arr.shape}, expected ({size}, {size}, 3)")
    return arr


def load_face(path: str | os.PathLike, preset: str = "celeba", size: int = 96) -> np.ndarray:
    """Load one photo as a face crop.

    Parameters
    ----------
    path : path of an image file
    preset : {"celeba", "center"}
    size : output side in pixels

    Returns
    -------
    ndarray of uint8, shape (size, size, 3)

    Raises
    ------
    InvalidInputError
        Naming the file and why it is unusable (empty, not an image, corrupt, wrong aspect, ...).
    """
    path = Path(path)
    _check_params(preset, size)
    try:
        return _decode(path, preset, size)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{printable(path)}: {exc}") from None


def _decode_into(images: np.ndarray, start: int, paths: Sequence[str], preset: str, size: int
                 ) -> tuple[int, list[tuple[int, str]]]:
    """Decode ``paths`` into ``images[start:]``, the good ones packed in file order.

    Returns (number written, [(position in ``paths``, reason)] of the skipped ones).
    """
    k = 0
    bad: list[tuple[int, str]] = []
    for i, p in enumerate(paths):
        try:
            images[start + k] = _decode(Path(p), preset, size)
            k += 1
        except InvalidInputError as exc:
            bad.append((i, str(exc)))
    return k, bad


#: the store memmap a worker process writes into (opened once per import, not per chunk)
_worker_images: dict[str, np.ndarray] = {}


def _decode_chunk_to_file(images_path: str, start: int, paths: Sequence[str], preset: str,
                          size: int) -> tuple[int, list[tuple[int, str]]]:
    """Worker: :func:`_decode_into` the store file ``images_path`` (a ``.npy`` memmap)."""
    images = _worker_images.get(images_path)
    if images is None:
        _worker_images.clear()
        images = _worker_images[images_path] = np.load(images_path, mmap_mode="r+")
    return _decode_into(images, start, paths, preset, size)


def _start_worker() -> None:
    """Worker warm-up task: makes the pool start its processes while the parent prepares."""


# --------------------------------------------------------------------------------------------- attributes

def read_celeba_attributes(path: str | os.PathLike) -> tuple[list[str], list[str], np.ndarray]:
    """Read a CelebA ``list_attr_celeba.txt``.

    Format: line 1 the row count, line 2 the attribute names, then ``filename v1 ... vK`` with
    values ±1, whitespace separated.

    Returns
    -------
    names : list of str, length K (40 for CelebA)
    filenames : list of str, length n
    matrix : ndarray of int8, shape (n, K), values -1 / +1

    Raises
    ------
    InvalidInputError
        Naming the file and line: missing file, bad count, wrong number of columns, a value other
        than ±1, a duplicated file name, or a count that does not match the rows.
    """
    path = Path(path)
    try:
        text = read_bytes(path, "attribute file").decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{printable(path)}: not a text file (expected CelebA "
                                "list_attr_celeba.txt)") from None
    lines = text.splitlines()
    if len(lines) < 2:
        raise InvalidInputError(f"{printable(path)}: expected a count line and an attribute-name line "
                                "(CelebA list_attr_celeba.txt format)")
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise InvalidInputError(f"{printable(path)}, line 1: {lines[0].strip()[:40]!r} is not the row count") from None
    names = lines[1].split()
    if not names:
        raise InvalidInputError(f"{printable(path)}, line 2: expected the attribute names, found an empty line")
    if len(set(names)) != len(names):
        raise InvalidInputError(f"{printable(path)}, line 2: attribute names repeat")
    k = len(names)
    filenames: list[str] = []
    rows: list[list[int]] = []
    seen: set[str] = set()
    for lineno, line in enumerate(lines[2:], start=3):
        parts = line.split()
        if not parts:
            continue  # blank (trailing) lines
        if len(parts) != k + 1:
            raise InvalidInputError(
                f"{printable(path)}, line {lineno}: {len(parts)} columns, expected {k + 1} (file name and {k} values)")
        values = parts[1:]
        for j, v in enumerate(values):
            if v not in ("1", "-1", "+1"):
                raise InvalidInputError(
                    f"{printable(path)}, line {lineno}: value {v!r} for {names[j]}, expected 1 or -1")
        if parts[0] in seen:
            raise InvalidInputError(f"{printable(path)}, line {lineno}: file name {parts[0]} appears twice")
        seen.add(parts[0])
        filenames.append(parts[0])
        rows.append([-1 if v == "-1" else 1 for v in values])
    if count != len(rows):
        raise InvalidInputError(f"{printable(path)}, line 1: says {count} rows but the file has {len(rows)}")
    matrix = np.asarray(rows, dtype=np.int8).reshape(len(rows), k)
    return names, filenames, matrix


# --------------------------------------------------------------------------------------------- the import

def list_images(src: str | os.PathLike, limit: int | None = None) -> list[Path]:
    """Image files directly inside ``src`` (by extension, case-insensitive), sorted by name.

    Raises
    ------
    InvalidInputError
        If ``src`` is missing, not a folder, or holds no image files.
    """
    src = Path(src)
    if not src.exists():
        raise InvalidInputError(f"{printable(src)}: folder not found")
    if not src.is_dir():
        raise InvalidInputError(f"{printable(src)}: not a folder (expected a folder of face photos)")
    files, subdirs = [], 0
    with os.scandir(src) as it:
        for entry in it:
            if entry.name.startswith("."):
                continue  # .DS_Store, editor droppings, our own partial folders
            if entry.is_dir():
                subdirs += 1
            elif os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS:
                files.append(entry.name)
    if not files:
        hint = f" (it has {subdirs} subfolders: point at the folder that holds the images)" if subdirs else ""
        raise InvalidInputError(
            f"{printable(src)}: no image files ({', '.join(sorted(IMAGE_EXTENSIONS))}){hint}")
    files.sort()
    if limit is not None:
        files = files[:limit]
    return [src / f for f in files]


def _check_params(preset: str, size: int) -> None:
    if preset not in PRESETS:
        raise InvalidInputError(f"preset {preset!r}: expected one of {', '.join(PRESETS)}")
    if not isinstance(size, (int, np.integer)) or not 8 <= size <= 1024:
        raise InvalidInputError(f"size={size!r}: expected an integer from 8 to 1024")


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))  # respects container / taskset limits
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _match_attributes(files: list[Path], attributes: Path) -> tuple[list[str], np.ndarray]:
    """Attribute rows for ``files`` (by file name, else by stem). Raises if any file has no row."""
    names, row_files, matrix = read_celeba_attributes(attributes)
    by_name = {f: i for i, f in enumerate(row_files)}
    stems = Counter(Path(f).stem for f in row_files)
    by_stem = {Path(f).stem: i for i, f in enumerate(row_files) if stems[Path(f).stem] == 1}
    rows, missing = [], []
    for p in files:
        i = by_name.get(p.name, by_stem.get(p.stem))
        if i is None:
            missing.append(p.name)
        else:
            rows.append(i)
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise InvalidInputError(
            f"{printable(attributes)}: no attribute row for {len(missing)} of {len(files)} images ({shown}); "
            "use the attribute file that belongs to these images or leave attributes out")
    return names, matrix[np.asarray(rows, dtype=np.int64)]


def prepare_dataset(src: str | os.PathLike, out: str | os.PathLike, preset: str = "celeba",
                    attributes: str | os.PathLike | None = None, size: int = 96, limit: int | None = None,
                    workers: int | None = None, progress: ProgressReporter | None = None,
                    overwrite: bool = False, wait: float | None = 0.0) -> PrepareReport:
    """Import the photos in ``src`` into a dataset store at ``out``.

    Parameters
    ----------
    src : folder of images (not searched recursively); files are taken in sorted name order
    out : store folder to create (replaced only with ``overwrite``, and only once complete)
    preset : {"celeba", "center"}
        Crop: the CelebA face box, or the centre square.
    attributes : path of a CelebA ``list_attr_celeba.txt``, optional
        Rows are matched to images by file name; every imported file needs a row.
    size : output side; images are stored as uint8 (n, size, size, 3)
    limit : use only the first ``limit`` files (sorted)
    workers : decoding processes (default: CPUs available; 1 decodes in this process)
    progress : ProgressReporter, optional (cancellable between chunks)
    overwrite : replace an existing store at ``out``
    wait : seconds to wait for another writer of ``out`` (None: as long as it takes)

    Returns
    -------
    PrepareReport

    Raises
    ------
    InvalidInputError
        ``src`` missing / empty / nothing usable, bad parameters, bad attribute file, ``out`` exists.
    """
    t0 = time.monotonic()
    _check_params(preset, size)
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit < 1):
        raise InvalidInputError(f"limit={limit!r}: expected a positive integer")
    if workers is not None and (not isinstance(workers, (int, np.integer)) or workers < 1):
        raise InvalidInputError(f"workers={workers!r}: expected a positive integer")
    src, out = Path(src).resolve(), Path(out)
    files = list_images(src, limit)
    attr_names, attr_matrix = ([], None) if attributes is None else _match_attributes(files, Path(attributes))

    n = len(files)
    workers = min(workers or _default_workers(), max(1, n // _MIN_FILES_PER_WORKER))
    # several chunks per worker keep them all busy to the end
    chunk = max(1, min(_MAX_CHUNK, math.ceil(n / (workers * 8))))
    chunks = [files[s:s + chunk] for s in range(0, n, chunk)]

    skipped: list[tuple[str, str]] = []
    kept: list[int] = []  # file positions written, in store order
    written = 0
    # the pool starts its processes while the store file is allocated; closing() shuts it down
    # at once if anything below raises (cancel, disk full)
    with contextlib.closing(_WorkerPool(workers)) as pool, \
            StoreWriter(out, n, size, overwrite=overwrite, wait=wait) as writer:
        try:
            results = pool.run(chunks, writer.images, writer.images_path, preset, size, progress)
            for c, (n_good, bad) in enumerate(results):
                base = c * chunk
                if written != base and n_good:
                    # close the gap left by skipped files (rare); rows before `base` are all final
                    writer.images[written:written + n_good] = writer.images[base:base + n_good]
                bad_pos = {i for i, _ in bad}
                kept.extend(base + i for i in range(len(chunks[c])) if i not in bad_pos)
                skipped.extend((files[base + i].name, reason) for i, reason in bad)
                written += n_good
                if progress is not None:
                    progress.update(min(n, base + len(chunks[c])), n,
                                    f"{written} written, {len(skipped)} skipped")
        finally:
            pool.close()  # stop the workers before the store folder is finished or removed
        if written == 0:
            raise InvalidInputError(f"{printable(src)}: no usable images among {n} files ({_grouped(skipped)})")
        writer.set_filenames([files[i].name for i in kept])
        if attr_matrix is not None:
            writer.set_attributes(attr_matrix[np.asarray(kept, dtype=np.int64)], attr_names)
        meta = {"source": str(src), "preset": preset, "size": int(size),
                "attributes_file": None if attributes is None else str(Path(attributes).resolve()),
                "skipped": len(skipped)}
        writer.finish(meta, n_written=written)
    return PrepareReport(written=written, skipped=skipped, store_path=out,
                         seconds=time.monotonic() - t0)


class _WorkerPool:
    """Decoding processes for one import (none for ``workers == 1``: decode in this process)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            # spawn, not fork: the GUI calls this from a thread while TensorFlow's threads are
            # running, and forking a multi-threaded process can deadlock the child.
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
            for _ in range(workers):   # start the processes now, not at the first chunk
                self._pool.submit(_start_worker)

    def run(self, chunks: list[list[Path]], images: np.ndarray, images_path: Path, preset: str,
            size: int, progress: ProgressReporter | None):
        """Yield ``(n_written, bad)`` per chunk, in chunk order; chunk ``c`` fills rows from
        ``c * len(chunks[0])`` of ``images`` (the memmap of ``images_path``)."""
        step = len(chunks[0]) if chunks else 0
        if self._pool is None:
            for c, ch in enumerate(chunks):
                if progress is not None:
                    progress.raise_if_cancelled()
                yield _decode_into(images, c * step, [str(p) for p in ch], preset, size)
            return
        path = str(images_path)
        pending: list[Future] = []
        window = 4 * self.workers  # bounded look-ahead: cancel stops within a few chunks
        nxt = 0
        for _ in range(len(chunks)):
            while nxt < len(chunks) and len(pending) < window:
                pending.append(self._pool.submit(_decode_chunk_to_file, path, nxt * step,
                                                 [str(p) for p in chunks[nxt]], preset, size))
                nxt += 1
            if progress is not None:
                progress.raise_if_cancelled()
            try:
                result = pending.pop(0).result()
            except BrokenProcessPool:
                # a worker was killed (out of memory, by hand) or crashed inside an image library
                raise ChildProcessError(
                    "import: a decoding worker process ended unexpectedly (killed, out of memory, "
                    "or crashed on a file); nothing was written. Try again, or with one worker "
                    "(--workers 1) to decode in this process") from None
            yield result

    def close(self) -> None:
        """Stop the processes (they hold the store file open); on cancel or error drop the
        queued chunks and wait only for the few already running."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
