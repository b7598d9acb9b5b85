"""Command-line front: ``latentexplorer <command> ...``.

Each command lives in ``latentexplorer/commands/<name>.py`` with ``register(subparsers)``; the
module's handler receives the parsed args. The CLI is thin: handlers call the library API.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import Cancelled, LatentExplorerError

# command modules, in the order shown by --help
COMMAND_MODULES = ["synth", "prepare", "train", "encode", "quickstart", "analyze", "sample",
                   "gui", "bench"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="latentexplorer",
        description="Train autoencoders / VAEs on faces and explore their latent space. "
                    "Without a command the explorer GUI opens.")
    parser.add_argument("--version", action="version", version=f"latentexplorer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"latentexplorer.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("latentexplorer.commands"):
                continue  # command not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui"]) if "gui" in sub_names(parser) else None
        if args is None:
            parser.print_help()
            return 0
    # progress bars redraw one line with "\r"; an error must start on a line of its own
    stderr = sys.stderr
    sys.stderr = tracker = _LineTracker(stderr)
    try:
        return int(args.handler(args) or 0)
    except Cancelled:
        tracker.end_line()
        print("latentexplorer: cancelled", file=stderr)
        return 130
    except KeyboardInterrupt:
        print("\nlatentexplorer: interrupted", file=stderr)
        return 130
    except LatentExplorerError as exc:
        tracker.end_line()
        print(f"latentexplorer {args.command}: error: {_one_line(exc)}", file=stderr)
        return 2
    except OSError as exc:
        # the environment, not a bug: disk, permissions, a vanished file — one line, no traceback
        tracker.end_line()
        print(f"latentexplorer {args.command}: error: {_one_line(exc)}", file=stderr)
        return 1
    except MemoryError:
        tracker.end_line()
        print(f"latentexplorer {args.command}: error: out of memory (use smaller inputs or "
              "batch sizes)", file=stderr)
        return 1
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


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (messages quoting files may contain newlines)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) or type(exc).__name__


def sub_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


if __name__ == "__main__":
    sys.exit(main())
