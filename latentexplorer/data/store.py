"""The dataset store: one folder per dataset holding uint8 images that can be memory-mapped.

Layout (``meta.json`` is written last and marks a complete store)::

    images.npy             uint8, shape (n, size, size, 3)  -- np.load(..., mmap_mode="r")
    filenames.json         list of n source file names
    attributes.npy         float32, shape (n, n_attr)       -- optional (CelebA's 40, synthetic factors)
    attribute_names.json   list of n_attr names             -- optional
    meta.json              {"format", "source", "preset", "size", "count", "created", ...}

CelebA at 96x96 is 5.6 GB as uint8; training reads it batch by batch, never as one float copy.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InvalidInputError, WriteFailedError
from ..fileio import atomic_directory, replace, restore_replaced, save_npy, write_json
from ..inputs import load_npy, printable, read_json
from ..locks import output_lock
from ..schemas import MAX_IMAGE_SIZE, NAME_LIST, STORE_FORMAT, StoreFingerprint, StoreMeta
DEFAULT_TEST_FRACTION = 1.0 / 18.0  # the seeds: 10,000 test images of 180,000
DEFAULT_SPLIT_SEED = 0


def _advise_random(images: np.ndarray) -> None:
    """Tell the kernel that batches read the memmap at random (no read-ahead around each image).

    Training reads shuffled batches; read-ahead would pull (and map) far more of the file than
    the batches need and inflate the process's resident size.
    """
    import mmap

    raw = getattr(images, "_mmap", None)
    if raw is not None and hasattr(raw, "madvise") and hasattr(mmap, "MADV_RANDOM"):
        try:
            raw.madvise(mmap.MADV_RANDOM)
        except (OSError, ValueError):
            pass


class DatasetStore:
    """A complete dataset folder opened read-only (images memory-mapped).

    Attributes
    ----------
    images : np.memmap of uint8, shape (n, size, size, 3)
    filenames : list of str, length n
    attributes : ndarray of shape (n, n_attr), float32, or None
    attribute_names : list of str
    meta : dict
    """

    def __init__(self, path: Path, images: np.ndarray, filenames: list[str],
                 attributes: np.ndarray | None, attribute_names: list[str], meta: dict) -> None:
        self.path = path
        self.images = images
        self.filenames = filenames
        self.attributes = attributes
        self.attribute_names = attribute_names
        self.meta = meta
        self._fingerprint: StoreFingerprint | None = None

    @classmethod
    def open(cls, path: str | Path) -> "DatasetStore":
        """Open a complete store read-only; every file is checked against ``meta.json``.

        Raises
        ------
        InvalidInputError
            Naming the file and what is wrong (missing meta.json: an interrupted import).
        """
        path = Path(path)
        where = printable(path)
        restore_replaced(path)
        if not path.is_dir():
            raise InvalidInputError(f"{where}: dataset folder not found")
        if not (path / "meta.json").exists():
            raise InvalidInputError(
                f"{where}: not a complete dataset store (meta.json missing; an import may have been "
                "interrupted — run 'latentexplorer prepare' or 'synth' again)")
        meta = read_json(path / "meta.json", StoreMeta)
        n, size = meta.count, meta.size
        images = load_npy(path / "images.npy", mmap=True, kinds="u", shape=(n, size, size, 3),
                          what="image array")
        if images.dtype != np.uint8:
            raise InvalidInputError(f"{where}/images.npy: dtype {images.dtype}, expected uint8")
        _advise_random(images)
        if (path / "filenames.json").exists():
            filenames = read_json(path / "filenames.json", NAME_LIST)
            if len(filenames) != n:
                raise InvalidInputError(f"{where}/filenames.json: {len(filenames)} names, expected "
                                        f"{n} (meta.json count)")
        else:
            filenames = [f"{i:06d}" for i in range(n)]
        attributes, names = None, []
        if (path / "attributes.npy").exists() or (path / "attribute_names.json").exists():
            names = read_json(path / "attribute_names.json", NAME_LIST)
            # NaN marks an unknown attribute (merged stores); infinity is never valid
            attributes = load_npy(path / "attributes.npy", kinds="fiub", shape=(n, None),
                                  finite=False, what="attribute array").astype(np.float32, copy=False)
            if attributes.shape[1] != len(names):
                raise InvalidInputError(f"{where}/attributes.npy: {attributes.shape[1]} columns, but "
                                        f"{where}/attribute_names.json lists {len(names)} names")
            if np.isinf(attributes).any():
                raise InvalidInputError(f"{where}/attributes.npy: infinite values (expected numbers "
                                        "or NaN for unknown)")
        store = cls(path, images, list(filenames), attributes, list(names), meta.model_dump())
        # batch() reads through this descriptor of the same file the map shows (see batch)
        store._file = (os.open(path / "images.npy", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)),
                       int(images.offset))
        return store

    def fingerprint(self) -> StoreFingerprint:
        """Count, image size and a digest of 64 sampled images and the file names (milliseconds
        even for 200,000 images), recorded with latents and checkpoints to notice a changed store."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            rows = np.unique(np.linspace(0, self.n - 1, min(self.n, 64)).astype(np.int64))
            h.update(np.ascontiguousarray(self.images[rows]).tobytes())
            h.update("\n".join(self.filenames).encode("utf-8", "surrogatepass"))
            self._fingerprint = StoreFingerprint(count=self.n, size=self.size,
                                                 digest=h.hexdigest()[:16])
        return self._fingerprint

    @property
    def n(self) -> int:
        return int(self.images.shape[0])

    @property
    def size(self) -> int:
        return int(self.images.shape[1])

    def __len__(self) -> int:
        return self.n

    def split(self, test_fraction: float | None = None, seed: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        """Deterministic train/test split.

        Returns
        -------
        train_idx, test_idx : ndarray of int64, sorted
        """
        frac = self.meta.get("test_fraction", DEFAULT_TEST_FRACTION) if test_fraction is None else test_fraction
        seed = self.meta.get("split_seed", DEFAULT_SPLIT_SEED) if seed is None else seed
        if not 0.0 <= frac < 1.0:
            raise InvalidInputError(f"test_fraction={frac}: expected 0 <= value < 1")
        perm = np.random.default_rng(seed).permutation(self.n)
        n_test = int(round(self.n * frac))
        return np.sort(perm[n_test:]), np.sort(perm[:n_test])

    def batch(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """uint8 images for ``indices``, read with ``pread`` in file order.

        Not through the memory map: every page a process touches through a map stays in its
        resident set until the map goes, so one epoch over a 200,000-image store would count
        all 5.5 GB of it (measured: +1 GB after 120 batches of 128 at 96 px). Reads copy into
        the batch only; the kernel's page cache still serves repeated reads.
        """
        idx = np.asarray(indices, dtype=np.int64)
        shape = self.images.shape[1:]
        out = np.empty((len(idx),) + shape, dtype=np.uint8)
        order = np.argsort(idx, kind="stable")
        source = getattr(self, "_file", None)
        if source is None:  # a store built around an array in memory
            out[order] = self.images[idx[order]]
            return out
        if len(idx) and (idx.min() < 0 or idx.max() >= self.n):
            raise IndexError(f"image index out of range 0..{self.n - 1}")
        fd, offset = source
        row = int(np.prod(shape))
        for pos in order:
            got = os.preadv(fd, [memoryview(out[pos]).cast("B")], offset + int(idx[pos]) * row)
            if got != row:
                raise InvalidInputError(f"{printable(self.path)}/images.npy: image {int(idx[pos])} could "
                                        f"not be read in full ({got} of {row} bytes; truncated file?)")
        return out

    def __del__(self) -> None:
        source = getattr(self, "_file", None)
        if source is not None:
            with contextlib.suppress(OSError):
                os.close(source[0])

    def attribute(self, name: str) -> np.ndarray:
        if self.attributes is None or name not in self.attribute_names:
            raise InvalidInputError(f"attribute {name!r} not in this dataset (have: {self.attribute_names})")
        return self.attributes[:, self.attribute_names.index(name)]


def _amount(size: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9)):
        if size >= scale / 10:
            return f"{size / scale:,.2f} {unit}"
    return f"{size / 1e6:.1f} MB"


def check_disk_space(out_dir: str | Path, n: int, size: int) -> None:
    """Refuse a store whose images cannot fit on the disk of ``out_dir`` (exit 1, one line naming
    the need), before a memory-mapped file of that size is even asked for (a file beyond what the
    file system allows would otherwise end in a bare "[Errno 22] Invalid argument")."""
    need = int(n) * int(size) * int(size) * 3
    folder = Path(out_dir).absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    except OSError:
        return  # cannot tell: the allocation will say
    if need > free:
        raise WriteFailedError(errno.ENOSPC, f"{printable(out_dir)}: {n:,} images of {size}x{size} px "
                                             f"need {_amount(need)} of disk space, {printable(folder)} "
                                             f"has {_amount(free)} free")


class StoreWriter:
    """Write a store atomically: everything goes to a temporary folder renamed on :meth:`finish`.

    Usage::

        with StoreWriter(out, n, size) as w:
            w.images[i] = ...            # uint8 memmap (n, size, size, 3)
            w.set_filenames(names)
            w.finish({"source": ..., "preset": ...}, n_written=k)
    """

    def __init__(self, out_dir: str | Path, n: int, size: int, *, overwrite: bool = False,
                 wait: float | None = 0.0) -> None:
        if n <= 0:
            raise InvalidInputError(f"n={n}: a dataset needs at least one image")
        if not 1 <= size <= MAX_IMAGE_SIZE:
            raise InvalidInputError(f"size={size}: expected an image side from 1 to {MAX_IMAGE_SIZE} px")
        self.out_dir = Path(out_dir)
        self.wait = wait
        self._lock = output_lock(self.out_dir)
        self.n = int(n)
        self.size = int(size)
        check_disk_space(self.out_dir, self.n, self.size)  # before anything is allocated
        self.overwrite = overwrite
        self._ctx = None
        self._tmp: Path | None = None
        self.images: np.ndarray | None = None
        self._filenames: list[str] | None = None
        self._attributes: np.ndarray | None = None
        self._attribute_names: list[str] = []
        self._finished = False

    def __enter__(self) -> "StoreWriter":
        self._lock.acquire(self.wait)  # one writer per store; released in __exit__
        try:
            self._refuse_replacing_foreign_folder()
            self._ctx = atomic_directory(self.out_dir, overwrite=self.overwrite)
            self._tmp = self._ctx.__enter__()
        except BaseException:
            self._lock.release()
            raise
        try:
            try:
                self.images = np.lib.format.open_memmap(
                    self._tmp / "images.npy", mode="w+", dtype=np.uint8,
                    shape=(self.n, self.size, self.size, 3))
            except OSError as exc:  # EFBIG / EINVAL: larger than the file system allows
                need = _amount(self.n * self.size * self.size * 3)
                raise WriteFailedError(exc.errno, f"{printable(self.out_dir)}: cannot create the "
                                                  f"{need} images file ({exc.strerror})") from None
            self._reserve_disk_space(self._tmp / "images.npy")
        except BaseException:
            # __exit__ is not called when __enter__ fails: remove the partial folder here.
            self.images = None
            try:
                self._ctx.__exit__(*sys.exc_info())
            finally:
                self._lock.release()
            raise
        return self

    @property
    def images_path(self) -> Path:
        """The (temporary) ``images.npy`` that :attr:`images` maps; other processes may open it
        with ``np.load(path, mmap_mode="r+")`` and write rows into it until :meth:`finish`."""
        assert self._tmp is not None, "StoreWriter: use it as a context manager"
        return self._tmp / "images.npy"

    def _refuse_replacing_foreign_folder(self) -> None:
        """``overwrite`` replaces an old *store*, never an unrelated folder (e.g. the photo folder)."""
        out = self.out_dir
        if not self.overwrite or not out.exists():
            return
        if not out.is_dir():
            raise InvalidInputError(f"{out}: exists and is not a folder; refusing to replace it")
        if not (out / "meta.json").is_file() and any(out.iterdir()):
            raise InvalidInputError(
                f"{out}: exists and is not a dataset store (no meta.json); refusing to replace it "
                "even with overwrite - choose another output folder")

    def _reserve_disk_space(self, path: Path) -> None:
        """Allocate the memmap's blocks now.

        A sparse memmap that runs out of disk space mid-import kills the process with SIGBUS;
        allocating up front turns that into a clear error before any work is done.
        """
        size = path.stat().st_size
        if not hasattr(os, "posix_fallocate"):
            return
        fd = os.open(path, os.O_RDWR)
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                amount = f"{size / 1e9:.2f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"
                raise WriteFailedError(errno.ENOSPC, f"{printable(self.out_dir)}: not enough free disk "
                                                     f"space for {amount} of images") from None
            # EINVAL/EOPNOTSUPP: the file system cannot preallocate; carry on with a sparse file.
        finally:
            os.close(fd)

    def set_filenames(self, names: Sequence[str]) -> None:
        self._filenames = [str(s) for s in names]

    def set_attributes(self, matrix: np.ndarray, names: Sequence[str]) -> None:
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != len(names):
            raise InvalidInputError(f"attributes: shape {matrix.shape} does not match {len(names)} names")
        self._attributes = matrix
        self._attribute_names = [str(s) for s in names]

    def finish(self, meta: dict, n_written: int | None = None) -> None:
        """Flush arrays, shrink to ``n_written`` if fewer images were usable, write meta.json."""
        assert self._tmp is not None and self.images is not None
        k = self.n if n_written is None else int(n_written)
        if k <= 0:
            raise InvalidInputError(f"{self.out_dir}: no usable images, nothing written")
        if k > self.n:
            raise InvalidInputError(f"n_written={k}: more than the {self.n} images this writer holds")
        if self._attributes is not None and self._attributes.shape[0] < k:
            # a shorter matrix would write a complete-looking store that DatasetStore.open rejects
            raise InvalidInputError(
                f"attributes: {self._attributes.shape[0]} rows for {k} images")
        self.images.flush()
        if k < self.n:
            # Copy the first k rows into a smaller file (rare: only when images were skipped).
            small = np.lib.format.open_memmap(self._tmp / "images.tmp.npy", mode="w+", dtype=np.uint8,
                                              shape=(k, self.size, self.size, 3))
            try:
                # a sparse memmap on a full disk dies with SIGBUS mid-copy: allocate (or fail) now
                self._reserve_disk_space(self._tmp / "images.tmp.npy")
            except BaseException:
                del small
                raise
            for s in range(0, k, 4096):
                small[s:s + 4096] = self.images[s:min(k, s + 4096)]
            small.flush()
            del small
            self.images = None
            replace(self._tmp / "images.tmp.npy", self._tmp / "images.npy")
        else:
            self.images = None
        names = self._filenames if self._filenames is not None else [f"{i:06d}" for i in range(k)]
        if len(names) < k:
            raise InvalidInputError(f"{len(names)} file names for {k} images")
        write_json(self._tmp / "filenames.json", names[:k])
        if self._attributes is not None:
            save_npy(self._tmp / "attributes.npy", self._attributes[:k])
            write_json(self._tmp / "attribute_names.json", self._attribute_names)
        full = {"format": STORE_FORMAT, "size": self.size, "count": k,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "test_fraction": DEFAULT_TEST_FRACTION, "split_seed": DEFAULT_SPLIT_SEED}
        full.update(meta)
        full["count"] = k
        write_json(self._tmp / "meta.json", full)
        self._finished = True

    def __exit__(self, exc_type, exc, tb) -> bool:
        assert self._ctx is not None
        self.images = None  # release the memmap before the rename
        try:
            if exc_type is None and not self._finished:
                exc_type, exc = InvalidInputError, InvalidInputError(
                    f"{self.out_dir}: store writer closed without finish(); nothing written")
                self._ctx.__exit__(exc_type, exc, None)
                raise exc
            return bool(self._ctx.__exit__(exc_type, exc, tb))
        finally:
            self._lock.release()
