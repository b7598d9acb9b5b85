"""Crash-safe file helpers: write to a temporary sibling, fsync, then rename.

A reader therefore sees either the previous complete file or the new complete file, never a
half-written one. NumPy files are always read with ``allow_pickle=False``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .errors import InvalidInputError, WriteFailedError

# OSError numbers that mean "this file could not be written" (as opposed to bugs or missing inputs)
_WRITE_ERRNOS = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG,
                                      errno.EROFS, errno.EIO, errno.EACCES, errno.EPERM)
                          if e is not None)


# the subset that cannot come from reading a file (for bodies that also read, e.g. a merge)
_SPACE_ERRNOS = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG,
                                      errno.EROFS) if e is not None)


def is_write_error(exc: BaseException, errnos: frozenset = _WRITE_ERRNOS) -> bool:
    """True for an ``OSError`` that means the disk refused a write (full, read-only, I/O error)."""
    return (isinstance(exc, OSError) and not isinstance(exc, WriteFailedError)
            and exc.errno in errnos)


def write_error(path: str | os.PathLike, exc: OSError) -> WriteFailedError:
    """A :class:`WriteFailedError` naming ``path`` (the file the user asked for, not its temp)."""
    reason = exc.strerror or str(exc)
    return WriteFailedError(exc.errno, f"cannot write {path}: {reason} (the previous version, if any, "
                                       "is unchanged)")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_mode(path: Path, *, directory: bool) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; give them the usual umask mode."""
    with contextlib.suppress(OSError):
        os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_prefix(path: Path) -> str:
    """``.NAME.PID-``: the owner's PID in the name lets a later run recognise leftovers."""
    return f".{path.name}.{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    try:
        import psutil
        return psutil.pid_exists(pid)
    except Exception:  # cannot tell: treat it as alive (never delete someone's work)
        return True


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Clean up what a killed process left next to ``path``; returns what was removed.

    * ``.NAME.PID-*.partial`` files and folders (an interrupted atomic write or store build)
      whose process PID no longer runs are deleted;
    * ``.NAME.old-PID`` (a replaced folder, kept until the new one is in place) of a dead
      process is moved back to ``NAME`` if the replacement never arrived, otherwise deleted.

    Entries of running processes (another import in progress) are never touched. Errors are
    ignored: this is housekeeping, it must not stop the write that triggered it.
    """
    path = Path(path)
    name = re.escape(path.name)
    partial = re.compile(rf"^\.{name}\.(\d+)-.*\.partial(\.[A-Za-z0-9]+)?$")
    old = re.compile(rf"^\.{name}\.old-(\d+)$")
    removed: list[Path] = []
    try:
        entries = [e for e in os.scandir(path.parent) if e.name.startswith(f".{path.name}.")]
    except OSError:
        return removed
    for entry in entries:
        m = partial.match(entry.name) or old.match(entry.name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        p = Path(entry.path)
        with contextlib.suppress(OSError):
            if m.re is old and not path.exists():
                os.replace(p, path)  # the process died between the two renames: restore
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
    return removed


def temp_sibling(path: Path, suffix: str = ".partial") -> Path:
    """Create an empty temporary file next to ``path`` (same file system, so a rename is atomic).

    The name starts with ``.NAME.`` and ends with ``suffix`` (Keras wants ``.keras``); its mode
    follows the umask like any other file. A refused write raises :class:`WriteFailedError`.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=suffix, dir=path.parent)
    except OSError as exc:
        if is_write_error(exc):
            raise write_error(path, exc) from exc
        raise
    os.close(fd)
    _default_mode(Path(tmp), directory=False)
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched. A disk that
    refuses the write (full, read-only, I/O error) raises :class:`WriteFailedError` naming ``path``.
    """
    path = Path(path)
    tmp = temp_sibling(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if is_write_error(exc):
            raise write_error(path, exc) from exc
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a missing or malformed file raises :class:`InvalidInputError`."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: not valid JSON ({exc})") from None


def atomic_save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(array), allow_pickle=False)


def load_npy(path: str | os.PathLike, *, mmap: bool = False) -> np.ndarray:
    """Load a ``.npy`` without pickles; clear errors for missing/truncated files."""
    path = Path(path)
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: file not found") from None
    except (ValueError, OSError, EOFError) as exc:
        raise InvalidInputError(f"{path}: not a readable .npy array ({exc})") from None


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary name and rename it into place when complete.

    An interrupted build leaves only a ``.NAME.PID-*.partial`` folder, never ``path`` itself;
    the next build of ``path`` removes it (:func:`remove_stale_temporaries`).
    With ``overwrite`` an existing ``path`` is replaced only after the new one is complete.
    """
    path = Path(path)
    if path.parent.is_dir():
        remove_stale_temporaries(path)  # may also restore a folder a killed overwrite had moved
    if path.exists() and not overwrite:
        raise InvalidInputError(f"{path}: already exists (choose another folder or pass overwrite)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".partial", dir=path.parent))
    except OSError as exc:
        if is_write_error(exc):
            raise write_error(path, exc) from exc
        raise
    _default_mode(tmp, directory=True)
    try:
        yield tmp
        _fsync_dir(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_write_error(exc, _SPACE_ERRNOS):  # the body may read files too: not EIO/EACCES
            raise write_error(path, exc) from exc
        raise
