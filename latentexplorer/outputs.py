"""Where results may go: the one check of every path a command writes its output to.

:func:`check_output` is called for every output a user names (a grid and its derived sidecar, a
sweep, an analysis, a dataset store, a workspace, a score file) before anything is written. It
refuses, with one line naming the path (:class:`~latentexplorer.errors.InvalidInputError`, exit 2):

* a path that cannot be one — a name longer than the file system allows, a parent that is a file,
  a folder where a file is to be written (or the reverse);
* a path that would land on files belonging to a workspace or a dataset store: their pointer and
  configuration files (``config.json``, ``checkpoint.json``, ``gui_state.json``), their version
  folders (``checkpoints/``, ``latents/``, ``latent_sets/``, ``timelapse/``) and anything inside a store (a store
  is replaced as a whole by ``synth``/``prepare --overwrite``, which would delete it). A workspace's
  ``results/`` and other names of its own are free;
* a derived file (a grid's ``GRID.json``) that exists and is not one of ours: the user named the
  PNG, not the JSON next to it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Iterable

from .errors import InvalidInputError
from .fileio import shown_path

#: the entries of a workspace folder that belong to it (``results/`` is where outputs go)
WORKSPACE_ENTRIES = frozenset({
    "config.json", "checkpoint.json", "gui_state.json", "history.json", "checkpoints", "latents",
    "latent_sets", "timelapse", "model", ".latentexplorer.lock", ".latentexplorer.lock.json", "bookmarks.json",
    ".bookmarks.json.lock", ".bookmarks.json.lock.json"})
#: the longest file name and path most file systems (and Linux) accept, in bytes
NAME_MAX, PATH_MAX = 255, 4096
#: the longest output name: its temporaries, lock and journal names add up to 48 bytes to it
OUTPUT_NAME_MAX = NAME_MAX - 48


def _is_workspace(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(
        (folder / name).exists() for name in ("checkpoint.json", "checkpoints", "latents"))


def _is_store(folder: Path) -> bool:
    return (folder / "meta.json").is_file() and (folder / "images.npy").exists()


def owner_of(path: str | os.PathLike) -> str | None:
    """``"workspace WS"`` or ``"dataset store S"`` when ``path`` lies on files that belong to one
    (see the module docstring), else None. ``path`` itself may be a workspace or a store (the
    folder outputs that replace one check that themselves)."""
    path = Path(path)
    try:
        parent = Path(os.path.realpath(path.parent if path.name else path))
    except (OSError, ValueError):
        return None
    target = parent / path.name
    for folder in [parent, *parent.parents]:
        try:
            if _is_store(folder):
                return f"dataset store {shown_path(folder)}"
            if _is_workspace(folder) and target.relative_to(folder).parts[0] in WORKSPACE_ENTRIES:
                return f"workspace {shown_path(folder)}"
        except (OSError, ValueError, IndexError):
            continue
    return None


def _check_names(path: Path) -> None:
    text = os.fsencode(path)
    parts = text.split(b"/")
    if len(text) >= PATH_MAX - 64 or any(len(part) > NAME_MAX for part in parts) \
            or len(parts[-1]) > OUTPUT_NAME_MAX:
        raise InvalidInputError(f"{shown_path(path)}: name too long (at most {OUTPUT_NAME_MAX} bytes "
                                f"for the output's name, {NAME_MAX} per folder name and "
                                f"{PATH_MAX - 64} for the whole path)")
    for parent in path.parents:
        try:
            st = os.stat(parent)
        except FileNotFoundError:
            continue  # created when the output is written
        except OSError as exc:
            raise InvalidInputError(f"{shown_path(parent)}: cannot use this folder "
                                    f"({exc.strerror})") from None
        if not stat.S_ISDIR(st.st_mode):
            raise InvalidInputError(f"{shown_path(parent)}: is a file, expected a folder (on the way "
                                    f"to {shown_path(path)})")
        return


def _kind(path: Path) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return "folder"
    return "file" if stat.S_ISREG(st.st_mode) else "special"


def _format_of(path: Path) -> object:
    try:
        with open(path, "rb") as fh:  # a regular file (checked): no FIFO is opened
            data = json.loads(fh.read(1 << 20))
    except (OSError, ValueError, RecursionError):
        return None
    return data.get("format") if isinstance(data, dict) else None


def check_output(path: str | os.PathLike, *, kind: str | None = None, option: str = "--out",
                 derived: Iterable[tuple[str | os.PathLike, str]] = ()) -> Path:
    """Refuse an output path before anything is written (see the module docstring).

    Parameters
    ----------
    path : path
        What the user named.
    kind : {"file", "folder"}, optional
        What will be written there; an existing entry of the other kind is refused.
    option : str
        How the path was given, for the message (``--out``, ``--workspace``).
    derived : iterable of (path, format)
        Files written next to ``path`` that the user did not name (a grid's sidecar): an existing
        one must be a JSON file of that ``format`` (an earlier output of ours), nothing else.

    Returns
    -------
    Path
    """
    path = Path(path)
    where = f"{option} {shown_path(path)}"
    _check_names(path)
    found = _kind(path)
    if kind == "file" and found in ("folder", "special"):
        what = "a folder" if found == "folder" else "not a regular file"
        raise InvalidInputError(f"{where}: is {what}, expected a file name to write")
    if kind == "folder" and found in ("file", "special"):
        raise InvalidInputError(f"{where}: is a file, expected a folder")
    extra = [(Path(p), fmt) for p, fmt in derived]
    for target in [path, *(p for p, _ in extra)]:
        owner = owner_of(target)
        if owner is not None:
            raise InvalidInputError(f"{where}: {shown_path(target)} belongs to the {owner}; write "
                                    "results elsewhere (e.g. into the workspace's results/ folder)")
    for target, fmt in extra:
        found = _kind(target)
        if found is None:
            continue
        if found != "file" or _format_of(target) != fmt:
            raise InvalidInputError(f"{where}: {shown_path(target)} exists and is not a file this "
                                    f"command wrote (no {fmt!r} in it); it would be replaced - choose "
                                    "another name")
    return path
