"""Where files enter: every JSON and ``.npy`` file the tool reads is checked here.

* :func:`check_regular_file` — a path that must be a file is one (a FIFO, device or folder is
  refused before it is opened: reading a FIFO would block forever);
* :func:`read_json` — parses, then validates against a schema of :mod:`latentexplorer.schemas`;
* :func:`load_npy` — never unpickles; checks the size its header promises against the file before
  anything is allocated, then dtype kind, dimensions, shape against the metadata, memory order and
  finite (and, for latents, bounded) values.

Every failure is an :class:`~latentexplorer.errors.InvalidInputError` whose one-line message names
the file (escaped: a newline in a file name cannot forge a line), the field or property, the value
and what was expected.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Sequence, TypeVar

import numpy as np

from .errors import InvalidInputError
from .fileio import recover
from .schemas import parse

T = TypeVar("T")

#: JSON files larger than this are refused (ours are far smaller; a grid of 10,000 z-vectors of
#: z_dim 256 is about 50 MB)
MAX_JSON_BYTES = 512 * 1024 * 1024


def printable(text: Any) -> str:
    """``text`` with control and other non-printable characters escaped (``\\n``, ``\\x1b``)."""
    s = str(text)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in s)


def _kind_of(mode: int) -> str | None:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def check_regular_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` as a Path if it is a regular file (symlinks followed); else InvalidInputError."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InvalidInputError(f"{printable(path)}: {what} not found") from None
    except PermissionError:
        raise InvalidInputError(f"{printable(path)}: cannot read {what} (permission denied)") from None
    except OSError as exc:
        raise InvalidInputError(f"{printable(path)}: cannot read {what} ({exc.strerror})") from None
    kind = _kind_of(st.st_mode)
    if kind is not None:
        raise InvalidInputError(f"{printable(path)}: is {kind}, expected a regular {what}")
    return path


def read_bytes(path: str | os.PathLike, what: str = "file", limit: int = MAX_JSON_BYTES) -> bytes:
    """The content of a regular file; opened non-blocking and checked on the open descriptor."""
    path = Path(path)
    check_regular_file(path, what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InvalidInputError(f"{printable(path)}: cannot read {what} ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        kind = _kind_of(st.st_mode)
        if kind is not None:  # swapped for a FIFO after the check above
            raise InvalidInputError(f"{printable(path)}: is {kind}, expected a regular {what}")
        if st.st_size > limit:
            raise InvalidInputError(f"{printable(path)}: {st.st_size:,} bytes, more than the "
                                    f"{limit:,} a {what} may have")
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(limit + 1)
    except OSError as exc:
        raise InvalidInputError(f"{printable(path)}: cannot read {what} ({exc.strerror})") from None
    finally:
        os.close(fd)


def read_json(path: str | os.PathLike, schema: Any = None) -> Any:
    """Read a JSON file, validated against ``schema`` (a pydantic model or TypeAdapter) if given.

    Interrupted group commits in the file's folder are completed first when the folder's lock is
    free (:func:`fileio.recover` as a reader), so a reader never sees one half of a committed pair.
    """
    path = Path(path)
    recover(path.parent, reader=True)
    data = read_bytes(path, "JSON file")
    where = printable(path)
    if schema is not None:
        return parse(schema, data, where)
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInputError(f"{where}: not valid JSON ({exc})") from None


_NUMERIC_KINDS = "biuf"


def load_npy(path: str | os.PathLike, *, mmap: bool = False, kinds: str = _NUMERIC_KINDS,
             ndim: int | None = None, shape: Sequence[int | None] | None = None,
             finite: bool = True, max_abs: float | None = None,
             what: str = ".npy array") -> np.ndarray:
    """Load a ``.npy`` file (never with pickles) and check it.

    Parameters
    ----------
    kinds : str
        Allowed ``dtype.kind`` letters ("f" float, "u" unsigned, "i" signed, "b" bool); structured,
        string and object arrays are always refused.
    ndim, shape
        Expected dimensions; ``None`` entries of ``shape`` match any length.
    finite : bool
        Float arrays must not hold NaN or infinity (checked in chunks, also on memmaps).
    max_abs : float, optional
        With ``finite``: float values must also lie within ``±max_abs``.
    mmap : bool
        Memory-map read-only; such arrays must be in C order (Fortran-ordered rows would be read
        with a stride of the whole file). Loaded arrays are made C-contiguous.
    """
    path = check_regular_file(path, what)
    where = printable(path)
    _check_npy_size(path, where, load=not mmap)
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InvalidInputError(f"{where}: not a readable .npy array ({exc})") from None
    if not isinstance(arr, np.ndarray):
        raise InvalidInputError(f"{where}: expected one .npy array, got {type(arr).__name__}")
    dt = arr.dtype
    if dt.fields is not None or dt.subdtype is not None or dt.kind not in kinds:
        expected = {"f": "float", "u": "unsigned integer", "i": "integer", "b": "bool"}
        names = " or ".join(expected[k] for k in kinds if k in expected)
        raise InvalidInputError(f"{where}: dtype {dt.str} ({dt}), expected {names} values")
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInputError(f"{where}: {arr.ndim}-D array of shape {arr.shape}, expected {ndim}-D")
    if shape is not None:
        want = tuple(shape)
        if arr.ndim != len(want) or any(w is not None and w != g for w, g in zip(want, arr.shape)):
            text = "(" + ", ".join("any" if w is None else str(w) for w in want) + ")"
            raise InvalidInputError(f"{where}: shape {arr.shape}, expected {text}")
    if not arr.flags.c_contiguous and arr.ndim > 1:
        if mmap:
            raise InvalidInputError(f"{where}: stored in Fortran order, expected C order "
                                    "(save it with np.ascontiguousarray)")
        arr = np.ascontiguousarray(arr)
    if finite and dt.kind == "f":
        check_finite(arr, where, max_abs=max_abs)
    return arr


def _size_text(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{int(n)} bytes"


def _check_npy_size(path: Path, where: str, *, load: bool) -> None:
    """Compare the size the header promises with the file before anything is allocated or
    mapped: a damaged header claiming (10**11, 8) must not become "out of memory"."""
    fmt = np.lib.format
    try:
        with open(path, "rb") as fh:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                shape, _fortran, dtype = fmt.read_array_header_1_0(fh)
            else:
                shape, _fortran, dtype = fmt.read_array_header_2_0(fh)
            offset = fh.tell()
            size = os.fstat(fh.fileno()).st_size
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise InvalidInputError(f"{where}: not a readable .npy array ({exc})") from None
    if dtype.hasobject:
        return  # refused by np.load (no pickles), with its own message
    count = 1
    for dim in shape:
        count *= int(dim)
    need = count * dtype.itemsize
    if size - offset < need:
        raise InvalidInputError(
            f"{where}: its header says shape {tuple(shape)} of {dtype} ({_size_text(need)}), but the "
            f"file holds {_size_text(max(size - offset, 0))} of data (truncated or damaged file)")
    if load:
        import psutil

        free = psutil.virtual_memory().available
        if need > free:
            from .errors import EnvironmentProblem

            raise EnvironmentProblem(f"{where}: {_size_text(need)} do not fit into the free memory "
                                     f"({_size_text(free)})")


def check_finite(arr: np.ndarray, where: str, chunk_rows: int = 16384,
                 max_abs: float | None = None) -> None:
    """Raise naming the first NaN / infinite value of ``arr`` (chunked: little extra memory), and
    with ``max_abs`` the first value beyond ``±max_abs``."""
    if arr.size == 0:
        return
    flat = arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr.reshape(-1, 1)

    def at(start: int, mask: np.ndarray) -> str:
        row, col = np.argwhere(mask)[0]
        return f"row {start + row}" + (f", column {col}" if flat.shape[1] > 1 else "")

    for start in range(0, flat.shape[0], chunk_rows):
        block = flat[start:start + chunk_rows]
        if not np.isfinite(block).all():
            raise InvalidInputError(f"{where}: NaN or infinite value at {at(start, ~np.isfinite(block))}"
                                    " (expected finite numbers)")
        if max_abs is not None:
            big = np.abs(block) > max_abs
            if big.any():
                top = float(np.abs(block).max())
                raise InvalidInputError(
                    f"{where}: values up to {top:.3g} in magnitude (first at {at(start, big)}); "
                    f"expected values within ±{max_abs:g} (a diverged model? train it again and "
                    "encode)")
