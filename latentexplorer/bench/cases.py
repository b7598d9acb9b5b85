"""The benchmark registry: the measurements, in the order of the table.

Each :class:`~latentexplorer.bench.runner.Case` names the rows it produces (``--only`` accepts a
row name or a case key). Budgets are those of the full run on the 2-core reference CPU.
"""

from __future__ import annotations

from .runner import Case

CASES: list[Case] = [
    Case("train", ("train_throughput",), "training:bench_train_throughput",
         titles=("training throughput, default AE",), units=("img/s",),
         budgets=("ratio >= 0.95 (the pipeline is never the bottleneck)",), uses_tf=True),
    Case("decode", ("decode_one_p50", "decode_one_p95", "decode_grid64"), "decode:bench_decode",
         titles=("single z -> image, GUI path (p50)", "single z -> image, GUI path (p95)",
                 "decode a 64-image grid"), units=("ms", "ms", "ms"),
         budgets=(">= 10x faster than predict", "p95 well below one 60 Hz frame (16.7 ms)",
                  "no slower than predict (ratio >= 1)"), uses_tf=True),
    Case("ellipse", ("ellipse_100k",), "analysis:bench_ellipse",
         titles=("ellipse generator, n_comp = 100",), units=("s",),
         budgets=(">= 100x faster and < 1 s",)),
    Case("stats", ("stats_200k", "stats_peak_memory"), "analysis:bench_statistics",
         titles=("histograms + half-widths + correlation + PCA", "peak extra memory of the statistics"),
         units=("s", "MB"), budgets=(">= 3x faster", "ours <= 512 MB (0.5 GB)")),
    Case("import", ("import_jpeg",), "importing:bench_import",
         titles=("import JPEGs (crop + resize + store)",), units=("s",),
         budgets=(">= 1.6x faster with 2 workers",)),
    Case("tsne", ("tsne",), "analysis:bench_tsne", titles=("t-SNE of PCA-reduced points",),
         units=("s",), budgets=(">= 3x faster",)),
    Case("gui", ("gui_plane_switch", "gui_slider_step"), "latentexplorer.gui.bench_cases:bench_gui", child=True,
         titles=("GUI: switch plane (set data + render)",
                 "GUI: slider drag step -> overlays + decoded image updated"),
         units=("ms", "ms"), budgets=(">= 5x faster and < 50 ms", "< 30 ms per step"),
         uses_tf=True),
    Case("precision", ("train_bf16", "train_xla"), "training:bench_train_precision",
         titles=("training throughput, bfloat16 mixed precision",
                 "training throughput, XLA-compiled train step"), units=("img/s", "img/s"),
         budgets=(">= 1.4x float32 on a CPU with AVX512_BF16, loss within 1 %",
                  "report (on by default if >= 1.1x)"), uses_tf=True),
    Case("kmeans", ("kmeans_curve_200k",), "fullscale:bench_kmeans_curve",
         titles=("KMeans inertia curve k = 2..80, every point",), units=("s",),
         budgets=("< 60 s",)),
    Case("maps", ("tsne_200k", "umap_200k"), "fullscale:bench_maps",
         titles=("t-SNE of every point", "UMAP of every point"), units=("s", "s"),
         budgets=("< 8 min (480 s) on two cores", "report (against t-SNE on the same points)")),
    Case("scale", ("gui_plane_switch_2m", "gui_hover_2m", "gui_click_face_2m"),
         "latentexplorer.gui.bench_scale:bench_scale", child=True,
         titles=("GUI: switch latent plane, 2,000,000 points",
                 "GUI: hover -> nearest data point on the plane, 2,000,000 points",
                 "GUI: click -> decoded face painted, 2,000,000 points"),
         units=("ms", "ms", "ms"), budgets=("< 50 ms", "p95 < 16 ms", "< one 60 Hz frame (16.7 ms)"),
         uses_tf=True),
    Case("rss", ("train_peak_rss",), "training:bench_train_rss",
         titles=("peak RSS while training",), units=("MB",),
         budgets=("<= 15 % of a float32 copy (ratio <= 0.15)",), uses_tf=True),
]

ROW_NAMES: list[str] = [n for c in CASES for n in c.names]


def select(only: list[str] | None) -> list[Case]:
    """Cases for ``--only`` (row names or case keys); all when ``only`` is empty."""
    from ..errors import InvalidInputError

    if not only:
        return list(CASES)
    wanted = {w.strip() for w in only if w.strip()}
    known = {c.key for c in CASES} | set(ROW_NAMES)
    unknown = sorted(wanted - known)
    if unknown:
        raise InvalidInputError(f"--only: unknown benchmark(s) {', '.join(unknown)}; known: "
                                f"{', '.join(ROW_NAMES)} (or groups {', '.join(c.key for c in CASES)})")
    return [c for c in CASES if c.key in wanted or wanted & set(c.names)]


def by_key(key: str) -> Case:
    for c in CASES:
        if c.key == key:
            return c
    raise KeyError(key)
