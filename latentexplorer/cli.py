"""Command-line front: ``latentexplorer <command> ...``.

Each command lives in ``latentexplorer/commands/<name>.py`` with ``register(subparsers)``; the
module's handler receives the parsed args. The CLI is thin: handlers call the library API.

Exit codes (the README's table; :func:`exit_code_for` is the one place that decides them):

====  ==========================================================================================
0     success
1     the environment refused: disk full or read-only, out of memory, the workspace or output is
      locked by another process, no display, a missing system library, a crashed worker process
2     bad input: a file or value is not what was expected (also argparse's usage errors)
130   interrupted by Ctrl-C (SIGINT) or cancelled; 143 for SIGTERM, 129 for SIGHUP (128 + signal)
====  ==========================================================================================

Every error is one line on stderr, naming the file or value; the last complete state is kept.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from . import __version__
from .errors import Cancelled, EnvironmentProblem, InvalidInputError, LatentExplorerError

EXIT_OK, EXIT_ENVIRONMENT, EXIT_INPUT = 0, 1, 2

# command modules, in the order shown by --help
COMMAND_MODULES = ["synth", "prepare", "train", "encode", "quickstart", "analyze", "sample",
                   "facemap", "reconstruct", "score", "bookmarks", "directions", "export", "gui", "bench"]


def build_parser() -> argparse.ArgumentParser:
    from .commands._args import Parser

    parser = Parser(
        prog="latentexplorer",
        description="Train autoencoders / VAEs on faces and explore their latent space. "
                    "Without a command the explorer GUI opens.")
    parser.add_argument("--version", action="version", version=f"latentexplorer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"latentexplorer.commands.{name}").register(sub)
    return parser


def exit_code_for(exc: BaseException) -> int:
    """The README's exit code for an exception that ended a command."""
    from .signals import signal_of

    if isinstance(exc, KeyboardInterrupt):
        return 128 + signal_of(exc)
    if isinstance(exc, Cancelled):
        return 128 + int(signal.SIGINT)
    if isinstance(exc, (EnvironmentProblem, MemoryError)):
        return EXIT_ENVIRONMENT
    if isinstance(exc, (InvalidInputError, LatentExplorerError)):
        return EXIT_INPUT
    return EXIT_ENVIRONMENT  # OSError: disk, permissions, a vanished file — not a bug


def _message(exc: BaseException) -> str:
    from .signals import signal_of

    if isinstance(exc, KeyboardInterrupt):
        text = f"interrupted by {signal.Signals(signal_of(exc)).name}"
    elif isinstance(exc, MemoryError):
        text = "out of memory (use smaller inputs or batch sizes)"
    else:
        text = one_line(exc)
    notes = getattr(exc, "__notes__", None) or []
    return "; ".join([text, *notes])


def main(argv: list[str] | None = None) -> int:
    from .signals import install_handlers

    install_handlers()  # SIGTERM / SIGHUP stop like Ctrl-C
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            args = parser.parse_args(["gui"])
    except SystemExit as exc:  # --help, --version, or a usage error (one line, exit 2)
        return int(exc.code or 0)
    # progress bars redraw one line with "\r"; an error must start on a line of its own
    stderr = sys.stderr
    sys.stderr = tracker = _LineTracker(stderr)
    try:
        return int(args.handler(args) or 0)
    except (KeyboardInterrupt, LatentExplorerError, OSError, MemoryError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, LatentExplorerError):
            # "PATH: is a folder, expected a file", never "[Errno 21] ..."; its class decides the
            # exit code (a path that cannot be one is bad input, 2)
            from .fileio import os_error

            readable = os_error(exc)
            for note in getattr(exc, "__notes__", None) or []:
                readable.add_note(note)
            exc = readable
        code = exit_code_for(exc)
        tracker.end_line()
        what = "" if isinstance(exc, (KeyboardInterrupt, Cancelled)) else "error: "
        print(f"latentexplorer {args.command}: {what}{_message(exc)}", file=stderr)
        return code
    finally:
        if sys.stderr is tracker:
            sys.stderr = stderr


class _LineTracker:
    """A transparent stderr wrapper that knows whether the last write left a line open."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.line_open = False

    def write(self, text: str) -> int:
        if text:
            self.line_open = not text.endswith("\n")
        return self._stream.write(text)

    def end_line(self) -> None:
        if self.line_open:
            self._stream.write("\n")
            self.line_open = False

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line, control characters escaped (file names may hold them)."""
    from .inputs import printable

    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return printable(" ".join(lines)) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
