"""Exact medians of every component, guided by their histograms (SPEC §4).

Split out of :mod:`latentexplorer.analysis.statistics`, which re-exports :func:`column_medians`.
"""

from __future__ import annotations

import numpy as np

from ._kernels import N_THREADS, gather_median_windows, map_chunks
from ._validation import DEFAULT_CHUNK_ROWS

__all__ = ["column_medians"]


def _column_medians_direct(z, cols: np.ndarray, block_cols: int = 32) -> np.ndarray:
    """Median of the given columns by partial sorting, on blocks of ``block_cols`` columns.

    The two middle values are averaged in float64 (``np.median`` of float32 would round).
    """
    n = z.shape[0]
    kth = sorted({(n - 1) // 2, n // 2})
    out = np.empty(len(cols))
    for a in range(0, len(cols), block_cols):
        sel = cols[a:a + block_cols]
        # contiguous rows per column: partitioning along the last axis is the fast direction
        part = np.partition(np.ascontiguousarray(np.asarray(z[:, sel]).T), kth, axis=1)
        out[a:a + block_cols] = 0.5 * (part[:, kth[0]].astype(np.float64) + part[:, kth[-1]])
    return out


def column_medians(z, edges=None, counts=None, *, chunk_size: int = DEFAULT_CHUNK_ROWS,
                   max_window_fraction: float = 0.25) -> np.ndarray:
    """Exact median of every component.

    Without a histogram every column is partially sorted as a whole (like :func:`numpy.median`,
    with the two middle values averaged in float64). With the histogram of ``z``
    (``edges``, ``counts`` from :func:`component_histograms` with every value counted) the
    histogram tells in which bin each median lies, so one streamed pass gathers only the
    values of that bin (about a tenth of them for Gaussian-like components at the default
    bin width) and counts the values below it; a partial sort of the gathered values then
    gives the exact order statistics (the pass is a compiled loop on two threads,
    :mod:`._kernels`). The pass counts with the same comparisons it gathers with, so float rounding
    at the bin edges cannot make it wrong; a column whose median bin holds more than
    ``max_window_fraction`` of the points (a spike, a constant component) or whose counts
    disagree falls back to the whole-column selection.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
    edges : ndarray of shape (n_bins + 1,), optional
    counts : ndarray of shape (z_dim, n_bins), optional
    chunk_size : int, keyword-only
    max_window_fraction : float, keyword-only

    Returns
    -------
    median : ndarray of shape (z_dim,), float64
        The middle value, or the mean of the two middle values for an even count.
    """
    n, d = z.shape
    all_cols = np.arange(d)
    if edges is None or counts is None:
        return _column_medians_direct(z, all_cols)
    counts = np.asarray(counts)
    edges = np.asarray(edges, dtype=np.float64)
    k_lo, k_hi = (n - 1) // 2, n // 2
    cum = np.cumsum(counts, axis=1)
    complete = cum[:, -1] == n          # an explicit range may have dropped values
    nb = counts.shape[1]
    b_lo = np.minimum((cum <= k_lo).sum(axis=1), nb - 1)   # bin holding order statistic k_lo
    b_hi = np.minimum((cum <= k_hi).sum(axis=1), nb - 1)
    below_hist = np.where(b_lo > 0, cum[all_cols, np.maximum(b_lo - 1, 0)], 0)
    window = cum[all_cols, b_hi] - below_hist
    guided = complete & (window <= max(2, max_window_fraction * n))
    dtype = z.dtype if np.issubdtype(z.dtype, np.floating) else np.float64
    # open outer ends: values clipped into the first / last bin belong to the window too
    lo = np.where(b_lo == 0, -np.inf, edges[b_lo]).astype(dtype)
    hi = np.where(b_hi == nb - 1, np.inf, edges[np.minimum(b_hi + 1, nb)]).astype(dtype)
    # columns left to numpy get an empty window: lo = +inf, hi = -inf
    lo[~guided] = np.inf
    hi[~guided] = -np.inf
    # one compiled pass per thread: counts below each window, the window's values copied out
    cap = int(window[guided].max()) + 1 if guided.any() else 1
    lanes = [(np.zeros(d, np.int64), np.empty((d, cap), dtype), np.zeros(d, np.int64))
             for _ in range(N_THREADS)]
    map_chunks(z, chunk_size, lambda block, t: gather_median_windows(
        block if block.dtype == dtype else block.astype(dtype), lo, hi, *lanes[t]))
    below = sum(lane[0] for lane in lanes)
    out = np.empty(d)
    fallback = []
    for j in range(d):
        fills = [int(lane[2][j]) for lane in lanes]
        if not guided[j] or max(fills) > cap:   # a window larger than its histogram bin said
            fallback.append(j)
            continue
        w = np.concatenate([lane[1][j, :f] for lane, f in zip(lanes, fills)])
        r_lo, r_hi = k_lo - int(below[j]), k_hi - int(below[j])
        if r_lo < 0 or r_hi >= w.size:
            fallback.append(j)   # the histogram and the comparisons disagreed: stay exact
            continue
        part = np.partition(w, [r_lo, r_hi])
        out[j] = 0.5 * (float(part[r_lo]) + float(part[r_hi]))
    if fallback:
        cols = np.asarray(fallback)
        out[cols] = _column_medians_direct(z, cols)
    return out
