"""Where files leave: crash-safe writes, one unit at a time.

A single file is written to a temporary sibling, fsynced, then renamed into place
(:func:`atomic_path`), so a reader sees either the previous complete file or the new complete file,
never a half-written one. Several files that belong together commit as one unit:

* :func:`atomic_directory` — a folder built under a temporary name and renamed into place;
* :func:`new_version` — a version folder made current by rewriting one pointer file (epochs,
  latents): the previous version stays until the next one is committed;
* :func:`atomic_files` — files in one folder (a grid's PNG and JSON) committed through a redo
  journal: writing the journal is the commit; an interrupted commit is completed by the next
  reader or writer (:func:`recover`).

Every rename goes through :func:`replace`, the one place fault-injection tests hook. Reading and
validating files is :mod:`latentexplorer.inputs`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .errors import InvalidInputError, LatentExplorerError, WriteFailedError

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


def replace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """``os.replace``: every rename of the package goes through here (tests count and kill here)."""
    os.replace(src, dst)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2():
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Swap two existing paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``).

    Replacing a non-empty folder otherwise takes two renames with a moment between them in which
    neither the old nor the new folder is in place. Returns False where the system cannot do it
    (then the caller falls back to two renames).
    """
    import ctypes

    fn = _renameat2() if sys.platform.startswith("linux") else None
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False  # old kernel or a file system without exchange
    raise OSError(err, os.strerror(err), str(b))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_mode(path: Path, *, directory: bool) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; give them the usual umask mode."""
    with contextlib.suppress(OSError):
        os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def fsync_dir(path: Path) -> None:
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


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` (a staged folder, before it is renamed)."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_file() and not p.is_symlink():
                _fsync_file(p)
        fsync_dir(Path(dirpath))


def _temp_prefix(path: Path) -> str:
    """``.NAME.PID-``: the owner's PID in the name lets a later run recognise leftovers."""
    return f".{path.name}.{os.getpid()}-"


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        import psutil
        return psutil.pid_exists(pid)
    except Exception:  # cannot tell: treat it as alive (never delete someone's work)
        return True


# ------------------------------------------------------------------------------ leftovers
def restore_replaced(path: str | os.PathLike) -> None:
    """Readers: if ``path`` is missing because a killed writer had moved it aside to replace it
    (systems without an atomic exchange), move it back."""
    path = Path(path)
    if path.exists():
        return
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            m = re.match(rf"^\.{re.escape(path.name)}\.old-(\d+)$", entry.name)
            if m and not pid_alive(int(m.group(1))):
                replace(entry.path, path)
                return


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Clean up what a killed process left next to ``path``; returns what was removed.

    * a redo journal of a dead process is completed first (:func:`recover`);
    * ``.NAME.PID-*.partial`` files and folders (an interrupted atomic write or store build)
      whose process PID no longer runs are deleted;
    * ``.NAME.old-PID`` (a replaced folder, kept until the new one is in place) of a dead
      process is moved back to ``NAME`` if the replacement never arrived, otherwise deleted.

    Entries of running processes (another import in progress) are never touched. Errors are
    ignored: this is housekeeping, it must not stop the write that triggered it.
    """
    path = Path(path)
    recover(path.parent)
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
        if m is None or pid_alive(int(m.group(1))):
            continue
        p = Path(entry.path)
        with contextlib.suppress(OSError):
            if m.re is old and not path.exists():
                replace(p, path)  # the process died between the two renames: restore
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
    return removed


def temp_sibling(path: Path, suffix: str = ".partial") -> Path:
    """Create an empty temporary file next to ``path`` (same file system, so a rename is atomic).

    The name starts with ``.NAME.PID-`` and ends with ``suffix``; its mode follows the umask like
    any other file. A refused write raises :class:`WriteFailedError`.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=suffix, dir=path.parent)
    except OSError as exc:
        raise os_error(exc, path) from exc
    os.close(fd)
    _default_mode(Path(tmp), directory=False)
    return Path(tmp)


# ------------------------------------------------------------------------------ single files
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
        _fsync_file(tmp)
        replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if is_write_error(exc) or _about(exc, tmp, path):
            raise os_error(exc, path) from exc  # one line naming path, never the temporary
        raise


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "model_dump"):  # a pydantic schema object
        return obj.model_dump(mode="json", exclude_none=True)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def json_text(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default) + "\n"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json_text(obj))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Plain write, for files inside a folder that is still being staged (committed as a whole)."""
    Path(path).write_text(json_text(obj), encoding="utf-8")


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Plain ``np.save`` without pickles, for files inside a staged folder."""
    with open(path, "wb") as fh:
        np.save(fh, np.asarray(array), allow_pickle=False)


def atomic_save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        save_npy(tmp, array)


# ------------------------------------------------------------------------------ folders
def _commit_directory(tmp: Path, path: Path, *, overwrite: bool) -> None:
    """Rename the complete staged folder ``tmp`` to ``path`` (replacing an old one if allowed)."""
    fsync_tree(tmp)
    if path.exists() or path.is_symlink():
        if not overwrite:
            # checked again at the commit: another writer may have finished meanwhile
            raise InvalidInputError(f"{path}: was created by another process meanwhile; nothing "
                                    "replaced (pass overwrite to replace it)")
        if exchange(tmp, path):  # one atomic step: tmp now holds the old folder
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            replace(path, old)
            replace(tmp, path)  # a crash just before: restore_replaced() puts the old one back
            shutil.rmtree(old, ignore_errors=True)
    else:
        replace(tmp, path)
    fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary name and rename it into place when complete.

    An interrupted build leaves only a ``.NAME.PID-*.partial`` folder, never ``path`` itself;
    the next build of ``path`` removes it (:func:`remove_stale_temporaries`). Every file in it is
    fsynced before the rename, so files inside may be written plainly (:func:`write_json`).
    With ``overwrite`` an existing ``path`` is replaced only after the new one is complete;
    without it, a ``path`` that appeared meanwhile is never replaced.
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
        raise os_error(exc, path) from exc
    _default_mode(tmp, directory=True)
    try:
        yield tmp
        _commit_directory(tmp, path, overwrite=overwrite)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_write_error(exc, _SPACE_ERRNOS):  # the body may read files too: not EIO/EACCES
            raise write_error(path, exc) from exc
        raise


def check_replaceable(path: Path, marker: str, what: str, *, formats: tuple[str, ...] = (),
                      legacy_keys: tuple[str, ...] = ()) -> None:
    """An output folder may be replaced as a whole only if it is empty or one that the same
    command made: it holds ``marker`` (the file the command writes into it) and, with
    ``formats``, that JSON file's ``"format"`` is one of them (or, for files written before the
    format was recorded, it has no format and all of ``legacy_keys``). A folder of the user's,
    or another command's output (an analysis is no sweep), is never replaced."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise InvalidInputError(f"{shown_path(path)}: exists and is not a folder")
    if not any(path.iterdir()):
        return
    if not (path / marker).is_file():
        raise InvalidInputError(f"{shown_path(path)}: exists and is not {what} (no {marker}); "
                                "choose another output folder")
    if formats:
        try:
            data = json.loads((path / marker).read_bytes()[:64 << 20])
        except (OSError, ValueError, RecursionError):
            data = None
        fmt = data.get("format") if isinstance(data, dict) else None
        legacy = isinstance(data, dict) and fmt is None and bool(legacy_keys) and \
            all(k in data for k in legacy_keys)
        if fmt not in formats and not legacy:
            found = f"its {marker} has format {fmt!r}" if fmt else f"its {marker} is not ours"
            raise InvalidInputError(f"{shown_path(path)}: exists and is not {what} ({found}, expected "
                                    f"{' or '.join(map(repr, formats))}); choose another output folder")


# ------------------------------------------------------------------------------ versions
_VERSION = re.compile(r"^(?P<prefix>[a-z]+)-(?P<n>\d{4,})$")


def version_dirs(root: Path, prefix: str) -> dict[int, Path]:
    """``{number: folder}`` of the committed-or-orphaned version folders ``root/PREFIX-NNNN``."""
    out: dict[int, Path] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            m = _VERSION.match(entry.name)
            if m and m["prefix"] == prefix and entry.is_dir(follow_symlinks=False):
                out[int(m["n"])] = Path(entry.path)
    return out


@contextlib.contextmanager
def new_version(root: str | os.PathLike, prefix: str, number: int | None = None
                ) -> Iterator[tuple[Path, Path]]:
    """Stage a new version folder ``root/PREFIX-NNNN`` (default: one above every existing one).

    Yields ``(staging folder, final folder)``. The folder is built under a temporary name and
    renamed to the final one when the block succeeds; it is not yet
    *current*: the caller then rewrites its pointer file (one atomic rename, the commit) and calls
    :func:`prune_versions`. A folder of the same name that no pointer names (left by a killed run)
    is replaced.
    """
    root = Path(root)
    if number is None:
        number = max(version_dirs(root, prefix), default=0) + 1
    path = root / f"{prefix}-{number:04d}"
    with atomic_directory(path, overwrite=True) as tmp:
        yield tmp, path


def prune_versions(root: str | os.PathLike, prefix: str, keep: set[Path | None]) -> None:
    """Delete the version folders of ``root`` except those in ``keep`` (current and previous)."""
    keep_names = {Path(p).name for p in keep if p is not None}
    for path in version_dirs(Path(root), prefix).values():
        if path.name not in keep_names:
            shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------------------ OS errors
def shown_path(path: str | os.PathLike, limit: int = 300) -> str:
    """``path`` for a message: control characters escaped, a very long path shortened in the middle."""
    text = os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                       for c in text)
    if len(text) > limit:
        text = f"{text[:limit // 2]}...{text[-(limit // 2):]} ({len(text):,} characters)"
    return text


def os_error(exc: OSError, path: str | os.PathLike | None = None) -> LatentExplorerError:
    """An ``OSError`` as one readable line naming ``path`` (default: the error's own file name).

    A path that cannot be what it must be — a folder where a file is written, a file where a
    folder is needed, a name that is too long, a symbolic-link loop, a missing folder — is bad
    input (:class:`InvalidInputError`, exit 2); a refused write is a :class:`WriteFailedError`;
    everything else is an :class:`~latentexplorer.errors.EnvironmentProblem` (exit 1).
    """
    from .errors import EnvironmentProblem

    if isinstance(exc, LatentExplorerError):
        return exc
    where = shown_path(path if path is not None else (exc.filename or "?"))
    reasons = {errno.EISDIR: "is a folder, expected a file",
               errno.ENOTDIR: "a part of this path is a file, not a folder",
               errno.ENAMETOOLONG: "name too long (at most 255 bytes per name, 4096 per path)",
               errno.ELOOP: "too many levels of symbolic links (a link that points to itself?)",
               errno.ENOENT: "not found (does its folder exist?)"}
    if exc.errno in (errno.EEXIST, errno.ENOTDIR) and path is not None:
        blocker = _file_in_the_way(Path(path))
        if blocker is not None:  # "mkdir: File exists" / "Not a directory"
            on_the_way = "" if blocker == Path(path) else f" (on the way to {where})"
            return InvalidInputError(f"{shown_path(blocker)}: is a file, expected a folder{on_the_way}")
    if exc.errno in reasons:
        return InvalidInputError(f"{where}: {reasons[exc.errno]}")
    if is_write_error(exc):
        return write_error(where, exc)
    return EnvironmentProblem(f"{where}: {exc.strerror or exc}")


def _about(exc: BaseException, *paths: Path) -> bool:
    """True for a bare OSError about one of ``paths`` (not one of reading another file)."""
    if not isinstance(exc, OSError) or isinstance(exc, LatentExplorerError):
        return False
    names = {os.fspath(p) for p in paths}
    return exc.filename in names or exc.filename2 in names


def _file_in_the_way(path: Path) -> Path | None:
    """``path`` or the first of its ancestors that exists but is not a folder, if any."""
    for parent in [path, *path.parents]:
        try:
            if parent.exists():
                return None if parent.is_dir() else parent
        except OSError:
            return None
    return None


# ------------------------------------------------------------------------------ file groups
# they live in latentexplorer.filegroups (which builds on this module); part of this interface
def atomic_files(*paths: str | os.PathLike):
    """Files of one folder committed as one unit: :func:`latentexplorer.filegroups.atomic_files`."""
    from .filegroups import atomic_files as group

    return group(*paths)


def recover(folder: str | os.PathLike, *, reader: bool = False) -> None:
    """Complete interrupted group commits: :func:`latentexplorer.filegroups.recover`."""
    from .filegroups import recover as complete

    complete(folder, reader=reader)
