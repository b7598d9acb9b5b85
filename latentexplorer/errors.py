"""Exceptions with messages meant for users (the CLI prints them as one line)."""


class LatentExplorerError(Exception):
    """Base class: a problem the user can fix (bad file, bad value, missing data)."""


class InvalidInputError(LatentExplorerError, ValueError):
    """A file or a parameter value is not what was expected; the message names it."""


class Cancelled(LatentExplorerError):
    """Long work stopped because the user asked for it."""


class WriteFailedError(LatentExplorerError, OSError):
    """Saving a file failed (disk full, read-only or unwritable folder, I/O error).

    Raised by the atomic writers of :mod:`latentexplorer.fileio` (and ``models.io.save_model``)
    instead of a bare ``OSError`` whose message does not say which file was being saved. The
    previous version of the file is left intact. It is an ``OSError`` too (``errno`` is kept),
    so ``except OSError`` still catches it.
    """

    def __str__(self) -> str:
        return str(self.strerror) if self.strerror else super().__str__()
