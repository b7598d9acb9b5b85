"""``latentexplorer bench``: side-by-side benchmarks (ours vs a baseline in the same run).

Prints a table and optionally writes JSON (``--out``). The budgets of the full run are recorded
in every row (``budget``, ``passed``); a full run exits with 1 when a budget is missed, a
``--quick`` run (small sizes, the CI smoke test) never fails on budgets -- only on errors.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    from ..bench.cases import ROW_NAMES  # no heavy imports: the registry is plain data

    p = subparsers.add_parser(
        "bench", help="benchmarks: ours vs a baseline, side by side",
        description="Measure import, training, decoding, statistics, t-SNE and the GUI loop next "
                    "to a baseline in the same run; print a table and write JSON. Rows: "
                    + ", ".join(ROW_NAMES) + ".")
    p.add_argument("--quick", action="store_true",
                   help="small sizes (about a minute; a smoke test, budgets are not enforced)")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON to this file")
    p.add_argument("--only", default=None,
                   help="comma-separated row names or groups (train, decode, ellipse, stats, "
                        "import, tsne, gui, rss)")
    p.add_argument("--cache", type=Path, default=None,
                   help="folder for generated inputs, reused between runs (default: "
                        "$LATENTEXPLORER_BENCH_CACHE or <tmp>/latentexplorer-bench; the full run "
                        "writes a 5.5 GB store there)")
    p.add_argument("--jpeg-dir", type=Path, default=None,
                   help="folder of CelebA-style JPEGs for the import case (default: "
                        "shared/data/celeba_aligned_half when present, else synthetic JPEGs)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..bench.cases import select
    from ..bench.data import default_cache
    from ..bench.runner import Context, document, format_table, run_case
    from ..fileio import atomic_write_json

    only = args.only.split(",") if args.only else None
    cases = select(only)
    cache = args.cache or default_cache()
    cache.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    ctx = Context(quick=args.quick, cache=cache, jpeg_dir=args.jpeg_dir, log=log)
    wanted = None if not only else {w.strip() for w in only}
    t0 = time.perf_counter()
    rows = []
    for case in cases:
        log(f"{case.key} ({', '.join(case.names)}){' [quick]' if args.quick else ''} ...")
        t = time.perf_counter()
        got = run_case(case, ctx)
        if wanted and not wanted & {case.key}:
            got = [r for r in got if r.name in wanted] or got
        rows.extend(got)
        log(f"{case.key}: {time.perf_counter() - t:.1f} s")
    seconds = time.perf_counter() - t0
    command = "latentexplorer " + " ".join(sys.argv[1:]) if sys.argv and "bench" in sys.argv else \
        "latentexplorer bench" + (" --quick" if args.quick else "")
    print(("QUICK RUN (small sizes; budgets apply to the full run only)\n" if args.quick else "")
          + format_table(rows))
    for r in rows:
        if r.notes:
            print(f"  {r.name}: {r.notes}")
        if r.error:
            print(f"  {r.name}: ERROR {r.error}")
    if args.out is not None:
        atomic_write_json(args.out, document(rows, quick=args.quick, command=command, seconds=seconds))
        print(f"results written to {args.out}")
    if any(r.error for r in rows):
        return 1
    if not args.quick and any(r.passed is False for r in rows):
        return 1
    return 0
