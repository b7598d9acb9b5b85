"""File groups: several files of one folder committed as one unit through a redo journal.

:func:`atomic_files` stages every file, then writes a small journal naming each staged temporary
and its target (that atomic write is the commit), then renames. A process killed after the
journal leaves the renames to :func:`recover`: the next writer of the folder, or a reader that gets
the folder's lock, completes them. A journal is only ever acted on when it is exactly what
:func:`atomic_files` writes — its moves rename its own writer's temporaries onto their targets in
the same folder — so a planted or damaged file never renames anybody's files. Part of
:mod:`latentexplorer.fileio`'s interface (re-exported there).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Iterator

from .errors import InvalidInputError
from . import fileio
from .fileio import _fsync_file, atomic_write_json, fsync_dir, os_error, pid_alive, temp_sibling

__all__ = ["atomic_files", "recover"]

_JOURNAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.commit$")
# the temporary file of a journal that was being written (not yet a commit)
_JOURNAL_TEMP = re.compile(r"^\.\..+\.\d+\.commit\.(?P<pid>\d+)-.*\.partial$")
#: most files one group may commit (a grid is two)
_MAX_MOVES = 16


def _journal_moves(journal: Path, pid: int) -> list[tuple[Path, Path]] | None:
    """The moves of a journal that :func:`atomic_files` wrote, or None for anything else.

    A journal is only acted on when every move renames one of *its own writer's* staged
    temporaries (``.TARGET.PID-XXXX.partial``, :func:`temp_sibling`'s name, same folder, the
    journal's PID) onto that TARGET, a plain name in the same folder. Anything else — a planted
    or foreign file that merely looks like a journal — would rename user files, so it is ignored.
    """
    try:
        data = json.loads(journal.read_bytes()[:65536].decode("utf-8"))
        moves = data["moves"] if isinstance(data, dict) and set(data) == {"moves"} else None
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    if not isinstance(moves, list) or not 1 <= len(moves) <= _MAX_MOVES:
        return None
    pairs = []
    for move in moves:
        if not (isinstance(move, list) and len(move) == 2 and all(isinstance(m, str) for m in move)):
            return None
        src, dst = move
        if "/" in dst or "\\" in dst or "\0" in dst or dst in ("", ".", ".."):
            return None
        if not re.fullmatch(rf"\.{re.escape(dst)}\.{pid}-[A-Za-z0-9_]+\.partial", src):
            return None
        pairs.append((journal.parent / src, journal.parent / dst))
    if _JOURNAL.match(journal.name)["name"] != pairs[0][1].name:
        return None  # a journal is named after its group's first target
    return pairs


def _apply_journal(journal: Path, pairs: list[tuple[Path, Path]]) -> None:
    """Roll a committed group forward: move every staged file that is still there into place."""
    for src, dst in pairs:
        if src.is_file() and not src.is_symlink():
            try:
                fileio.replace(src, dst)
            except FileNotFoundError:
                pass  # another process completed this move meanwhile
    fsync_dir(journal.parent)
    with contextlib.suppress(FileNotFoundError):
        journal.unlink()


def _dead_journals(folder: str | os.PathLike) -> tuple[list[tuple[Path, list]], list[Path]]:
    """Valid journals of dead processes in ``folder`` and the dead processes' journal temporaries."""
    journals, temps = [], []
    try:
        entries = [e for e in os.scandir(folder) if ".commit" in e.name]
    except OSError:
        return journals, temps
    for entry in entries:
        m = _JOURNAL.match(entry.name)
        if m and entry.is_file(follow_symlinks=False):
            pid = int(m["pid"])
            if pid == os.getpid() or not pid_alive(pid):
                pairs = _journal_moves(Path(entry.path), pid)
                if pairs is not None:
                    journals.append((Path(entry.path), pairs))
        m = _JOURNAL_TEMP.match(entry.name)
        if m and not pid_alive(int(m["pid"])):
            temps.append(Path(entry.path))
    return journals, temps


def recover(folder: str | os.PathLike, *, reader: bool = False) -> None:
    """Complete the file-group commits that dead processes left in ``folder`` (idempotent).

    Writers call it before they write (they hold the lock of what they write). A reader
    (``reader=True``, e.g. :func:`latentexplorer.inputs.read_json`) must not change files behind
    a writer's back: it completes a commit only under the folder's lock, taken without waiting —
    when another process holds it (or the folder is read-only) that process or the next writer
    completes it. Only valid journals are acted on (:func:`_journal_moves`).
    """
    journals, temps = _dead_journals(folder)
    if not journals and (reader or not temps):
        return
    if reader:
        from .locks import folder_lock  # the locks sit on top of this module

        lock = folder_lock(folder, command="completing an interrupted commit")
        if not lock.try_acquire():
            return
        try:
            journals, _ = _dead_journals(folder)  # read again under the lock
            for journal, pairs in journals:
                with contextlib.suppress(OSError):
                    _apply_journal(journal, pairs)
        finally:
            lock.release()
        return
    for journal, pairs in journals:
        with contextlib.suppress(OSError):
            _apply_journal(journal, pairs)
    for temp in temps:
        with contextlib.suppress(OSError):
            temp.unlink()


def _check_group_targets(targets: list[Path]) -> None:
    """Every target must be replaceable by a rename: a folder (or a FIFO, device) is not."""
    for t in targets:
        try:
            st = os.lstat(t)
        except FileNotFoundError:
            continue
        except OSError:
            continue  # the rename will name the problem
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise InvalidInputError(f"{t}: is {kind}; expected a file to write (choose another name)")


@contextlib.contextmanager
def atomic_files(*paths: str | os.PathLike) -> Iterator[list[Path]]:
    """Temporary files for ``paths`` (all in one folder), committed together when the block succeeds.

    The commit is the atomic write of a small redo journal naming every staged file and its
    target; the renames follow. A crash before the journal leaves all old files; after it, all new
    ones — the renames still missing are made by the next :func:`recover` (writers of that folder,
    or a reader that gets its lock). On an exception nothing changes; a rename that fails in this
    process (the target became a folder meanwhile, a full disk) removes the journal and the
    temporaries, so nothing is left to be "completed" later.
    """
    targets = [Path(p) for p in paths]
    folder = targets[0].parent
    if any(t.parent != folder for t in targets):
        raise ValueError("atomic_files: all files of a group must share one folder")
    if not 1 <= len(targets) <= _MAX_MOVES:
        raise ValueError(f"atomic_files: 1 to {_MAX_MOVES} files per group")
    _check_group_targets(targets)
    temps: list[Path] = []
    journal = folder / f".{targets[0].name}.{os.getpid()}.commit"
    try:
        for t in targets:
            temps.append(temp_sibling(t))
        yield temps
        for tmp in temps:
            _fsync_file(tmp)
        _check_group_targets(targets)  # again: the body may have taken a while
        atomic_write_json(journal, {"moves": [[s.name, t.name] for s, t in zip(temps, targets)]})
    except BaseException as exc:
        _discard(temps)
        err = _as_user_error(exc, targets, temps)
        if err is exc:
            raise
        raise err from exc
    try:
        _apply_journal(journal, list(zip(temps, targets)))
    except OSError as exc:
        # committed, but this process cannot finish it: leave nothing that a later reader would
        # try (and fail) to complete forever. (An interrupt here keeps the journal: recover().)
        _discard([*temps, journal])
        err = _as_user_error(exc, targets, temps)
        if err is exc:
            raise
        raise err from exc


def _discard(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def _as_user_error(exc: BaseException, targets: list[Path], temps: list[Path]) -> BaseException:
    """``exc`` itself, or for a bare OSError about the group's files (or a refused write) the
    one-line error naming the target it is about (:func:`os_error`), never a temporary."""
    if fileio.is_write_error(exc) or fileio._about(exc, *targets, *temps):
        named = {os.fspath(t): t for t in targets}
        culprit = named.get(getattr(exc, "filename2", None)) or named.get(exc.filename) or targets[0]
        return os_error(exc, culprit)
    return exc
