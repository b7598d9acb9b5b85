"""Child-process entry of the benchmarks (not a user command).

* ``python -m latentexplorer.bench.child CASE [--quick] [--cache DIR] [--jpeg-dir DIR]`` runs
  one case of :mod:`.cases` and prints its rows as one JSON line after
  :data:`~latentexplorer.bench.runner.CHILD_MARKER` (GUI: Qt offscreen in a fresh process);
* ``python -m latentexplorer.bench.child train-rss STORE --steps N --batch B`` is the training
  process whose RSS the parent polls (case 10).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "train-rss":
        p = argparse.ArgumentParser(prog="latentexplorer.bench.child train-rss")
        p.add_argument("store")
        p.add_argument("--steps", type=int, required=True)
        p.add_argument("--batch", type=int, required=True)
        a = p.parse_args(argv[1:])
        from .training import train_rss_child

        train_rss_child(a.store, a.steps, a.batch)
        return 0
    p = argparse.ArgumentParser(prog="latentexplorer.bench.child")
    p.add_argument("case")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--jpeg-dir", type=Path, default=None)
    a = p.parse_args(argv)
    from .cases import by_key
    from .runner import CHILD_MARKER, Context

    ctx = Context(quick=a.quick, cache=a.cache, jpeg_dir=a.jpeg_dir,
                  log=lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
    rows = by_key(a.case).load()(ctx)
    print(CHILD_MARKER + json.dumps([r.to_dict() for r in rows]), flush=True)
    sys.stdout.flush()
    os._exit(0)  # skip the interpreter teardown of Qt / TensorFlow objects


if __name__ == "__main__":
    sys.exit(main())
