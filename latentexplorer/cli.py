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
    try:
        return int(args.handler(args) or 0)
    except Cancelled:
        print("latentexplorer: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\nlatentexplorer: interrupted", file=sys.stderr)
        return 130
    except LatentExplorerError as exc:
        print(f"latentexplorer {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        # the environment, not a bug: disk, permissions, a vanished file — one line, no traceback
        print(f"latentexplorer {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"latentexplorer {args.command}: error: out of memory (use smaller inputs or "
              "batch sizes)", file=sys.stderr)
        return 1


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
