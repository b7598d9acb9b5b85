"""Argument types shared by the commands: every number is range-checked where argparse reads it.

A bad value (``--seed -1``, ``--timeout nan``, ``-n 1e9``) ends in one line naming the option and what
was expected, exit 2 — never a traceback later on. :class:`Parser` prints argparse's usage errors as
one line too.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Callable

from ..schemas import MAX_EPOCHS, MAX_IMAGE_SIZE, MAX_LATENT_ABS, MAX_Z_DIM


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line (``latentexplorer train: error: ...``), exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _range_text(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return f"from {lo:,} to {hi:,}" if not (lo_open or hi_open) else \
            f"{'>' if lo_open else '>='} {lo:g} and {'<' if hi_open else '<='} {hi:g}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi:g}"
    return ""


def integer(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [lo, hi]."""
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer {_range_text(lo, hi)}, got "
                                             f"{text!r}") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"expected an integer {_range_text(lo, hi)}, got {value}")
        return value
    parse.__name__ = "integer"
    return parse


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in the range (``lo_open``: strictly above ``lo``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        ok = math.isfinite(value)
        ok = ok and (lo is None or (value > lo if lo_open else value >= lo))
        ok = ok and (hi is None or (value < hi if hi_open else value <= hi))
        if not ok:
            rng = _range_text(lo, hi, lo_open, hi_open)
            raise argparse.ArgumentTypeError(f"expected a finite number {rng}, got {text!r}".replace("  ", " "))
        return value
    parse.__name__ = "number"
    return parse


seed = integer(0, 2**32 - 1)
count = integer(1, 10_000_000)
image_size = integer(8, MAX_IMAGE_SIZE)
z_dim = integer(1, MAX_Z_DIM)
epochs = integer(1, MAX_EPOCHS)
batch_size = integer(1, 65_536)
#: the generator settings of sample / sweep (b, sigma, sigma-level, fact, truncate): positive and
#: at most MAX_LATENT_ABS, beyond which vectors leave every latent space and overflow float32
positive = number(0.0, MAX_LATENT_ABS, lo_open=True)
nonnegative = number(0.0)


def add_wait(p: argparse.ArgumentParser) -> None:
    """``--wait [SECONDS]``: wait for another writer instead of failing at once."""
    p.add_argument("--wait", nargs="?", type=number(0.0, 7 * 86400.0), const=-1.0, default=0.0,
                   metavar="SECONDS",
                   help="if another process is writing the same workspace or output, wait for it "
                        "(at most SECONDS; without a value: as long as it takes) instead of failing")


def wait_seconds(args: argparse.Namespace) -> float | None:
    """The lock wait of ``--wait``: None means without a limit."""
    value = getattr(args, "wait", 0.0)
    return None if value is not None and value < 0 else value


def warn(message: str) -> None:
    """A warning line on stderr (``warning: ...``); the command goes on."""
    print(f"warning: {message}", file=sys.stderr)
