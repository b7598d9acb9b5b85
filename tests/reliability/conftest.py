"""Fixtures of the reliability suite: a tiny trained workspace, a full disk, dialog recorders.

Everything bad is built on the fly in ``tmp_path`` (tiny 16-32 px images, a z_dim-4 model).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tiny_models import build_tiny_workspace, make_store  # tests/models is on the pytest pythonpath

sys.path.insert(0, str(Path(__file__).resolve().parent))  # rel_helpers (tests/ has no packages)


# ------------------------------------------------------------------------------- workspaces
@pytest.fixture(scope="session")
def rel_ws(tmp_path_factory) -> Path:
    """A trained (1 epoch) and encoded tiny AE workspace (64 images of 16 px, z_dim 4). Read-only."""
    root = tmp_path_factory.mktemp("relws")
    return build_tiny_workspace(root / "ws", make_store(root / "store", n=64, size=16))


@pytest.fixture
def ws_copy(rel_ws, tmp_path) -> Path:
    """A private copy of :func:`rel_ws` (same dataset store)."""
    dst = tmp_path / "ws"
    shutil.copytree(rel_ws, dst)
    return dst


# ------------------------------------------------------------------------------- a full disk
def _can_mount_tmpfs(where: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                       capture_output=True)
    return r.returncode == 0


class FullDisk:
    """A folder whose file system can be filled up.

    ``mode == "tmpfs"``: a real 1 MiB tmpfs; :meth:`fill` writes a filler file until ENOSPC.
    ``mode == "monkeypatch"`` (no root / no mount): :meth:`fill` makes ``os.fsync`` and
    ``os.posix_fallocate`` raise ``OSError(ENOSPC)`` — every atomic writer calls them.
    """

    def __init__(self, path: Path, mode: str, monkeypatch) -> None:
        self.path = path
        self.mode = mode
        self._mp = monkeypatch

    def fill(self, leave: int = 0) -> None:
        """Use up the space (``leave`` bytes are freed again so tiny writes may still fit)."""
        if self.mode == "tmpfs":
            filler = self.path / "filler.bin"
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                while True:
                    os.write(fd, b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
            finally:
                os.close(fd)
            if leave:
                os.truncate(filler, max(0, filler.stat().st_size - leave))
        else:
            def enospc(*_a, **_k):
                raise OSError(errno.ENOSPC, "No space left on device")

            self._mp.setattr(os, "fsync", enospc)
            self._mp.setattr(os, "posix_fallocate", enospc, raising=False)

    def free(self) -> None:
        if self.mode == "tmpfs":
            with contextlib.suppress(FileNotFoundError):
                (self.path / "filler.bin").unlink()
        else:
            self._mp.undo()


@pytest.fixture
def full_disk(tmp_path, monkeypatch):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = _can_mount_tmpfs(mnt)
    disk = FullDisk(mnt, "tmpfs" if mounted else "monkeypatch", monkeypatch)
    try:
        yield disk
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


# ------------------------------------------------------------------------------- GUI dialogs
@pytest.fixture
def dialogs(monkeypatch):
    """Record QMessageBox.warning/critical/information instead of opening modal dialogs."""
    from PySide6.QtWidgets import QMessageBox

    seen: list[tuple[str, str, str]] = []
    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(
            lambda parent, title, text, *a, _k=kind, **kw: seen.append((_k, title, text))
            or QMessageBox.Ok))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: QMessageBox.Yes))
    return seen
