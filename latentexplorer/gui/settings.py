"""Persistent GUI preferences: a tiny wrapper over ``QSettings``.

The settings live in an INI file (``QSettings.IniFormat``) under the user's config folder with the
organisation ``LatentExplorer`` / application ``latentexplorer``. Tests (or a portable install) redirect
them with :func:`set_settings_path` or the ``LATENTEXPLORER_SETTINGS`` environment variable, so nothing
is written to the real home folder.

Only small values belong here (last folders, window geometry); workspace state goes to
``WS/gui_state.json``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

ORGANIZATION = "LatentExplorer"
APPLICATION = "latentexplorer"
ENV_VAR = "LATENTEXPLORER_SETTINGS"

_override_path: Path | None = None


def set_settings_path(path: str | os.PathLike | None) -> None:
    """Store settings in the INI file ``path`` (``None`` restores the default location)."""
    global _override_path
    _override_path = Path(path) if path is not None else None


def settings_path() -> Path | None:
    """The INI file in use when overridden (function argument or environment), else ``None``."""
    if _override_path is not None:
        return _override_path
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else None


class Settings:
    """Typed access to the application's ``QSettings``.

    Parameters
    ----------
    path : path-like, optional
        INI file to use; defaults to :func:`settings_path` or the platform location.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        target = Path(path) if path is not None else settings_path()
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._qs = QSettings(str(target), QSettings.IniFormat)
        else:
            self._qs = QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANIZATION, APPLICATION)

    @property
    def file_name(self) -> str:
        return self._qs.fileName()

    def value(self, key: str, default: Any = None) -> Any:
        return self._qs.value(key, default)

    def set_value(self, key: str, value: Any) -> None:
        self._qs.setValue(key, value)
        self._qs.sync()

    # --- last folders ------------------------------------------------------------------------------
    def last_folder(self, kind: str = "default", fallback: str | os.PathLike | None = None) -> str:
        """The folder last used for file dialogs of ``kind`` (``"export"``, ``"workspace"``, ...).

        Falls back to the ``default`` kind, then ``fallback``, then the home folder; a folder that no
        longer exists is skipped.
        """
        for key in (f"folders/{kind}", "folders/default"):
            folder = self._qs.value(key)
            if folder and Path(str(folder)).is_dir():
                return str(folder)
        if fallback is not None and Path(fallback).is_dir():
            return str(fallback)
        return str(Path.home())

    def remember_folder(self, path: str | os.PathLike, kind: str = "default") -> None:
        """Remember the folder of ``path`` (a file or folder) for dialogs of ``kind``."""
        p = Path(path)
        folder = p if p.is_dir() else p.parent
        self._qs.setValue(f"folders/{kind}", str(folder))
        self._qs.setValue("folders/default", str(folder))
        self._qs.sync()

    # --- recent workspaces -------------------------------------------------------------------------
    def recent_workspaces(self, limit: int = 8) -> list[str]:
        """Workspace folders opened lately, newest first (folders that are gone are left out)."""
        value = self._qs.value("recent/workspaces") or []
        items = [value] if isinstance(value, str) else list(value)
        return [p for p in items if Path(str(p)).is_dir()][:limit]

    def remember_workspace(self, path: str | os.PathLike) -> None:
        p = str(Path(path).resolve())
        items = [p] + [q for q in self.recent_workspaces(20) if q != p]
        self._qs.setValue("recent/workspaces", items[:20])
        self._qs.sync()
