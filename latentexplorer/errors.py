"""Exceptions with messages meant for users (the CLI prints them as one line).

The class decides the exit code (``cli.exit_code_for``): see the README's exit-code table.

* :class:`InvalidInputError` — a file or value is not what was expected (exit 2);
* :class:`EnvironmentProblem` — the machine refused: a full or read-only disk, a lock held by another
  process, no display, a missing system library, a crashed worker (exit 1);
* :class:`Cancelled` — the user stopped the work (exit 130; a stop signal exits with 128 + its
  number, see :mod:`latentexplorer.signals`).
"""

from __future__ import annotations


class LatentExplorerError(Exception):
    """Base class: a problem the user can act on (bad file, bad value, busy workspace, ...)."""


class InvalidInputError(LatentExplorerError, ValueError):
    """A file or a parameter value is not what was expected; the message names it."""


class EnvironmentProblem(LatentExplorerError):
    """The environment, not the input: disk, locks, display, libraries, memory, worker processes."""


class Cancelled(LatentExplorerError):
    """Long work stopped because the user asked for it."""


class WriteFailedError(EnvironmentProblem, OSError):
    """Saving a file failed (disk full, read-only or unwritable folder, I/O error).

    Raised by the atomic writers of :mod:`latentexplorer.fileio` (and ``models.io``) instead of a
    bare ``OSError`` whose message does not say which file was being saved. The previous version
    of the file is left intact. It is an ``OSError`` too (``errno`` is kept), so ``except OSError``
    still catches it.
    """

    def __str__(self) -> str:
        return str(self.strerror) if self.strerror else super().__str__()


class LockedError(EnvironmentProblem):
    """Another process (or window) is writing the same workspace or output folder.

    Attributes
    ----------
    holder : dict
        What the holder recorded: ``pid``, ``command``, ``since`` (may be empty when unknown).
    """

    def __init__(self, message: str, holder: dict | None = None) -> None:
        super().__init__(message)
        self.holder = dict(holder or {})
