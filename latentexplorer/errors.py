"""Exceptions with messages meant for users (the CLI prints them as one line)."""


class LatentExplorerError(Exception):
    """Base class: a problem the user can fix (bad file, bad value, missing data)."""


class InvalidInputError(LatentExplorerError, ValueError):
    """A file or a parameter value is not what was expected; the message names it."""


class Cancelled(LatentExplorerError):
    """Long work stopped because the user asked for it."""
