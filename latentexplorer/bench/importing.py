"""Case 6: photo import (decode + crop + resize + store) with 2 worker processes vs 1."""

from __future__ import annotations

import shutil

from .data import jpeg_source
from .runner import Context, Result, interleaved, median, speedup


def bench_import(ctx: Context) -> list[Result]:
    from ..data.prepare import prepare_dataset

    n = 300 if ctx.quick else 10_000
    src, what = jpeg_source(ctx.cache, n, ctx.jpeg_dir)
    out_root = ctx.cache / "import_out"
    out_root.mkdir(parents=True, exist_ok=True)
    written = {}

    def run(workers: int):
        out = out_root / f"w{workers}"
        rep = prepare_dataset(src, out, preset="celeba", size=96, limit=n, workers=workers,
                              overwrite=True)
        written[workers] = rep.written
        return None

    # read the files once so that neither side pays the cold page cache
    run(1)
    reps = 1 if ctx.quick else 2
    ctx.log(f"import {n:,} JPEGs: 2 workers vs 1, {reps} runs each")
    ours, base = interleaved(lambda: run(2), lambda: run(1), reps)
    shutil.rmtree(out_root, ignore_errors=True)
    om, bm = median(ours), median(base)
    return [Result("import_jpeg", "import JPEGs (crop + resize + store)", om, bm, "s",
                   ratio=speedup(om, bm), budget=">= 1.6x faster with 2 workers",
                   passed=bm / om >= 1.6, quick=ctx.quick,
                   notes=f"prepare_dataset({n:,} files, preset celeba, 96 px) with workers=2 vs "
                         f"workers=1 (same work in one process); {what}",
                   details={"n": n, "images_written": written, "ours_s": ours, "baseline_s": base,
                            "ours_images_per_s": n / om, "baseline_images_per_s": n / bm})]
