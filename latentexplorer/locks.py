"""One writer at a time: a lock per workspace and per output (the ``filelock`` library).

Every writer, CLI and GUI, takes the lock of what it writes before it starts:

* a workspace — ``WS/.latentexplorer.lock`` (train, encode, the GUI's training and encoding);
* the folder a file output goes into (a grid and its sidecar) — ``FOLDER/.latentexplorer.lock``;
* a folder output that is built aside and renamed into place (a dataset store, a sweep, an
  analysis) — ``PARENT/.NAME.lock`` next to it, since the folder itself does not exist yet.

The kernel releases a lock when its holder dies, even by SIGKILL. Next to the lock a small JSON
file names the holder (PID, command line, since when), so that a second writer can say who is busy:
it fails at once with :class:`~latentexplorer.errors.LockedError` (exit 1) or waits ``wait`` seconds.
Both files are removed on release (a killed holder leaves them; the next holder reuses them).
Readers take no lock: they read committed versions, which a writer never changes in place.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import os
import socket
import stat
import sys
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import InvalidInputError, LatentExplorerError, LockedError
from .fileio import atomic_write_json, is_write_error, os_error, pid_alive, write_error
from .inputs import printable

LOCK_NAME = ".latentexplorer.lock"


def _holder_path(lock_file: Path) -> Path:
    return lock_file.with_name(lock_file.name + ".json")


def _command_line() -> str:
    argv = [os.path.basename(sys.argv[0])] + sys.argv[1:] if sys.argv else []
    return " ".join(argv)[:300]


def read_holder(lock_file: Path) -> dict:
    """What the current (or last) holder recorded; ``{}`` when unknown or not running."""
    from .inputs import read_json
    from .schemas import LockHolder

    try:
        holder = read_json(_holder_path(lock_file), LockHolder)
    except Exception:  # noqa: BLE001 -- a damaged holder note only makes the message vaguer
        return {}
    return holder.model_dump() if pid_alive(holder.pid) else {}


class Lock:
    """An exclusive lock on ``lock_file`` that records its holder.

    Parameters
    ----------
    lock_file : path
    what : str
        How the locked thing is named in messages ("workspace runs/demo/workspace").
    command : str, optional
        What this holder does (default: the process's command line).
    """

    def __init__(self, lock_file: str | os.PathLike, what: str, command: str | None = None) -> None:
        self.lock_file = Path(lock_file)
        self.what = what
        self.command = command or _command_line()
        self._lock = FileLock(str(self.lock_file), thread_local=False)
        self._created: list[Path] = []

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self, wait: float | None = 0.0) -> "Lock":
        """Take the lock; ``wait`` seconds at most (``None``: as long as it takes).

        Raises
        ------
        LockedError
            Naming the holder, when it is still busy after ``wait`` seconds.
        """
        try:
            self._take(wait)
        except Timeout:
            raise self._busy() from None
        return self

    def try_acquire(self) -> bool:
        """Take the lock if it is free right now; False when it is held or cannot be taken."""
        try:
            self._take(0.0)
        except (Timeout, OSError, LatentExplorerError):
            return False
        return True

    def _take(self, wait: float | None) -> None:
        self._created = _missing_folders(self.lock_file.parent)
        for attempt in range(3):
            try:
                self.lock_file.parent.mkdir(parents=True, exist_ok=True)
                self._lock.acquire(timeout=-1 if wait is None else max(0.0, float(wait)))
                break
            except Timeout:
                self._remove_created()
                raise
            except FileNotFoundError as exc:
                if attempt == 2:  # the folder keeps vanishing (its creator removed it, empty)
                    self._remove_created()
                    raise self._unusable(exc) from exc
            except OSError as exc:
                self._remove_created()
                raise self._unusable(exc) from exc
        try:
            atomic_write_json(_holder_path(self.lock_file), {
                "pid": os.getpid(), "command": self.command, "host": socket.gethostname()[:200],
                "since": _dt.datetime.now().astimezone().isoformat(timespec="seconds")})
        except BaseException:
            self._lock.release()
            self._remove_created()
            raise

    def _unusable(self, exc: OSError) -> Exception:
        """One line for a lock file that cannot be taken: a folder, link or FIFO in its place, a
        path that is too long or runs through a file, a read-only or full disk."""
        if is_write_error(exc):
            return write_error(self.lock_file, exc)
        try:
            st = os.lstat(self.lock_file)
        except OSError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            kind = ("a folder" if stat.S_ISDIR(st.st_mode) else
                    "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file")
            return InvalidInputError(f"{printable(self.lock_file)}: is {kind}, expected the lock file "
                                     f"of {self.what} (remove it)")
        # a path through a file names the folder the lock is for, not the lock's own name
        return os_error(exc, self.lock_file.parent if exc.errno in (errno.EEXIST, errno.ENOTDIR)
                        else self.lock_file)

    def _remove_created(self) -> None:
        """Remove the folders that :meth:`acquire` made for the lock if they are (still) empty: a
        command that failed leaves no empty output folder behind."""
        for folder in self._created:
            try:
                folder.rmdir()
            except OSError:
                break  # not empty (the output was written) or gone: keep it and its parents
        self._created = []

    def _busy(self) -> LockedError:
        holder = read_holder(self.lock_file)
        if holder:
            who = (f"process {holder['pid']} ({printable(holder['command'])}) since "
                   f"{holder['since']}")
        else:
            who = "another process"
        return LockedError(f"{self.what} is being written by {who}; wait until it ends, or pass "
                           "--wait SECONDS to wait for it", holder)

    def release(self) -> None:
        """Release the lock; its files are removed first, while it is still held (filelock 4
        re-opens the path when a waiter wakes on an unlinked file, so exclusion is kept)."""
        if not self._lock.is_locked:
            return
        for path in (_holder_path(self.lock_file), self.lock_file):
            with contextlib.suppress(OSError):
                path.unlink()
        self._lock.release()
        self._remove_created()

    def __enter__(self) -> "Lock":
        if not self.held:
            self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    with contextlib.suppress(OSError):
        while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
    return missing


def workspace_lock(ws_path: str | os.PathLike, command: str | None = None) -> Lock:
    """The lock of a workspace folder (not yet taken)."""
    ws_path = Path(ws_path)
    return Lock(ws_path / LOCK_NAME, f"workspace {printable(ws_path)}", command)


def folder_lock(folder: str | os.PathLike, command: str | None = None) -> Lock:
    """The lock of an output folder that files are written into (not yet taken)."""
    folder = Path(folder)
    return Lock(folder / LOCK_NAME, f"output folder {printable(folder)}", command)


def output_lock(target: str | os.PathLike, command: str | None = None) -> Lock:
    """The lock of an output ``target`` committed as a whole (not yet taken): ``PARENT/.NAME.lock``.

    Every such output (a store, a sweep, an analysis, a score file) is checked here first
    (:func:`latentexplorer.outputs.check_output`): a target on a workspace's or store's own files,
    a name too long, a parent that is a file are refused before anything is created."""
    from .outputs import check_output

    target = check_output(target)  # never onto a workspace's or store's files
    return Lock(target.parent / f".{target.name}.lock", printable(target), command)
