"""Compiled inner loops of the statistics pass (numba), run on two threads without the GIL.

Why compiled: the NumPy versions of these loops make six to eight full-size temporaries per
chunk (float64 copy, shift, scale, integer cast, offset, clip; masks and gathers for the medians)
and bound ``stats_200k`` at about 1.2 s for 200,000 x 256. Each loop here reads every value once
and does the same float64 arithmetic, in the same order, as the NumPy code it replaces — so the
bins and the gathered values are bit for bit the same (numba compiles without fast-math).

Each kernel works on one row chunk into accumulators of its own; :func:`map_chunks` runs the
chunks on a small thread pool (``nogil`` kernels; numba's own threading layer is not used —
it deadlocks on concurrent entry, see ``analysis.embedding``) and the caller sums the results.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numba
import numpy as np

__all__ = ["column_sums_min_max", "fine_bin_counts", "gather_median_windows", "map_chunks",
           "mean_cov_2d", "gather_pair", "gather_pair_histogram", "histogram_2d", "nearest_2d",
           "N_THREADS"]

#: below this many points the loops run on the calling thread (a pool costs ~0.1 ms)
THREADED_MIN_ROWS = 100_000

#: threads of the statistics pass (the machines this targets have 2 to 16 cores)
N_THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                       else (os.cpu_count() or 1)))


@numba.njit(cache=True, nogil=True)
def column_sums_min_max(block, sums, mins, maxs):  # pragma: no cover - compiled
    """Add each column's sum (float64) to ``sums``; fold its min / max into ``mins`` / ``maxs``."""
    m, d = block.shape
    for i in range(m):
        for j in range(d):
            v = np.float64(block[i, j])
            sums[j] += v
            if v < mins[j]:
                mins[j] = v
            if v > maxs[j]:
                maxs[j] = v


@numba.njit(cache=True, nogil=True)
def fine_bin_counts(block, origin, fine_width, base, last, counts):  # pragma: no cover
    """``counts[min(int((x - origin) / fine_width[j]) + base[j], last[j])] += 1`` per value.

    The float64 subtraction, division and truncation of ``analysis.smoothing``'s NumPy loop,
    value by value (values are never below ``origin``).
    """
    m, d = block.shape
    for i in range(m):
        for j in range(d):
            t = (np.float64(block[i, j]) - origin) / fine_width[j]
            idx = np.intp(t) + base[j]
            if idx > last[j]:
                idx = last[j]
            counts[idx] += 1


@numba.njit(cache=True, nogil=True)
def gather_median_windows(block, lo, hi, below, buf, fill):  # pragma: no cover
    """Count values below ``lo[j]``; copy those in ``[lo[j], hi[j])`` into row ``j`` of ``buf``.

    ``fill[j]`` counts the copied values even past the buffer's width (the caller then knows the
    window was larger than the histogram said and selects that column the slow, exact way).
    Comparisons are in the data's own dtype, like the NumPy masks they replace.
    """
    m, d = block.shape
    cap = buf.shape[1]
    for i in range(m):
        for j in range(d):
            v = block[i, j]
            if v < lo[j]:
                below[j] += 1
            elif v < hi[j]:
                k = fill[j]
                if k < cap:
                    buf[j, k] = v
                fill[j] = k + 1


@numba.njit(cache=True, nogil=True)
def _mean_comoments(p, start, stop):  # pragma: no cover - compiled
    """Mean and co-moment sums ``Σ dx², Σ dx dy, Σ dy²`` of rows [start, stop) of points (n, 2),
    two passes in float64 without temporaries."""
    sx = 0.0
    sy = 0.0
    for i in range(start, stop):
        sx += np.float64(p[i, 0])
        sy += np.float64(p[i, 1])
    m = stop - start
    mx = sx / m
    my = sy / m
    cxx = 0.0
    cxy = 0.0
    cyy = 0.0
    for i in range(start, stop):
        dx = np.float64(p[i, 0]) - mx
        dy = np.float64(p[i, 1]) - my
        cxx += dx * dx
        cxy += dx * dy
        cyy += dy * dy
    return mx, my, cxx, cxy, cyy


def _two_halves(n: int) -> list[tuple[int, int]]:
    return [(0, n // 2), (n // 2, n)]


#: (pid, pool): the two threads of the interactive kernels, started once per process (a new
#: pool per call cost ~1 ms of a plane switch; a forked child gets a pool without threads).
#: Their tasks never submit to it, so it cannot deadlock.
_halves_pool: tuple[int, ThreadPoolExecutor] | None = None


def _in_halves(work: Callable[[int, int, int], object], n: int) -> list:
    """``[work(0, 0, n // 2), work(1, n // 2, n)]`` on the two threads."""
    global _halves_pool
    if _halves_pool is None or _halves_pool[0] != os.getpid():
        _halves_pool = (os.getpid(), ThreadPoolExecutor(2, thread_name_prefix="latentexplorer-halves"))
    return list(_halves_pool[1].map(lambda k: work(k, *_two_halves(n)[k]), range(2)))


def mean_cov_2d(p: np.ndarray) -> tuple[float, float, float, float, float]:
    """Mean (x, y) and co-moment sums ``Σ dx², Σ dx dy, Σ dy²`` of points (n, 2) in float64 (a
    NaN or inf anywhere makes the results non-finite). Large sets: two halves on two threads,
    joined by Chan et al.'s pairwise update (equal to the one-thread sums to ~1e-15)."""
    p = np.asarray(p)
    n = p.shape[0]
    if n < THREADED_MIN_ROWS or N_THREADS == 1:
        return _mean_comoments(p, 0, n)
    (ax, ay, axx, axy, ayy), (bx, by, bxx, bxy, byy) = _in_halves(
        lambda _k, start, stop: _mean_comoments(p, start, stop), n)
    na, nb = n // 2, n - n // 2
    f = na * nb / n
    dx, dy = bx - ax, by - ay
    return (ax + dx * nb / n, ay + dy * nb / n,
            axx + bxx + dx * dx * f, axy + bxy + dx * dy * f, ayy + byy + dy * dy * f)


@numba.njit(cache=True, nogil=True)
def _gather_pair_rows(z, i, j, out, start, stop):  # pragma: no cover - compiled
    for r in range(start, stop):
        out[r, 0] = z[r, i]
        out[r, 1] = z[r, j]


def gather_pair(z: np.ndarray, i: int, j: int) -> np.ndarray:
    """``z[:, [i, j]]`` as (n, 2) float32 in one pass over the rows, on two threads.

    ``np.column_stack`` of two strided columns makes two copies and a third pass; for 2,000,000 x
    256 float32 each pass reads one cache line per row (a latent plane switch is bound by this).
    """
    n = z.shape[0]
    out = np.empty((n, 2), np.float32)
    if n < THREADED_MIN_ROWS or N_THREADS == 1 or z.dtype != np.float32 or not z.flags.c_contiguous:
        out[:, 0] = z[:, i]
        out[:, 1] = z[:, j]
        return out
    z = np.asarray(z)  # a memmap's plain view (no copy)
    _in_halves(lambda _k, start, stop: _gather_pair_rows(z, i, j, out, start, stop), n)
    return out


@numba.njit(cache=True, nogil=True)
def _histogram_2d(x, y, x0, sx, y0, sy, counts, start, stop):  # pragma: no cover - compiled
    nx, ny = counts.shape
    for i in range(start, stop):
        fx = np.floor((x[i] - x0) * sx)
        fy = np.floor((y[i] - y0) * sy)
        if fx >= 0 and fx < nx and fy >= 0 and fy < ny:
            counts[np.intp(fx), np.intp(fy)] += 1


@numba.njit(cache=True, nogil=True)
def _gather_pair_histogram_rows(z, i, j, out, x0, sx, y0, sy, counts, sums, start, stop
                                ):  # pragma: no cover - compiled
    """Rows [start, stop): copy ``z[r, i], z[r, j]`` to ``out``, count their bin, and add the
    shifted float64 sums ``Σdx, Σdy, Σdx², Σdx dy, Σdy²`` (d = value − row 0's) to ``sums``."""
    nx, ny = counts.shape
    cx = np.float64(z[0, i])
    cy = np.float64(z[0, j])
    for r in range(start, stop):
        a = z[r, i]
        b = z[r, j]
        out[r, 0] = a
        out[r, 1] = b
        fx = np.floor((a - x0) * sx)
        fy = np.floor((b - y0) * sy)
        if fx >= 0 and fx < nx and fy >= 0 and fy < ny:
            counts[np.intp(fx), np.intp(fy)] += 1
        dx = np.float64(a) - cx
        dy = np.float64(b) - cy
        sums[0] += dx
        sums[1] += dy
        sums[2] += dx * dx
        sums[3] += dx * dy
        sums[4] += dy * dy


def _binning(dtype, x0, x1, y0, y1, nx, ny) -> tuple:
    """Origin and bins-per-unit of both axes in ``dtype`` (the arithmetic NumPy would do)."""
    t = np.dtype(dtype).type
    return t(x0), t(nx / max(x1 - x0, 1e-300)), t(y0), t(ny / max(y1 - y0, 1e-300))


def _count_in_halves(n: int, nx: int, ny: int,
                     count: Callable[[np.ndarray, int, int, int], None]) -> np.ndarray:
    """Counts (nx, ny) float32 of ``count(counts, half, start, stop)`` over rows [0, n): two
    halves on two threads (each into its own counts, then summed) for large n, else one."""
    # int32 counts (up to 2**31 points a bin): half the cache lines of int64 for the scattered
    # increments, which bound the loop (measured 9.6 ms instead of 11.2 at 2,000,000 points)
    if n < THREADED_MIN_ROWS or N_THREADS == 1:
        counts = np.zeros((nx, ny), np.int32)
        count(counts, 0, 0, n)
        return counts.astype(np.float32)
    parts = [np.zeros((nx, ny), np.int32) for _ in range(2)]
    _in_halves(lambda k, start, stop: count(parts[k], k, start, stop), n)
    return (parts[0] + parts[1]).astype(np.float32)


def histogram_2d(x: np.ndarray, y: np.ndarray, x0: float, x1: float, y0: float, y1: float,
                 nx: int, ny: int) -> np.ndarray:
    """Counts (nx, ny) float32 of the points in [x0, x1) x [y0, y1) in one pass, in the dtype of
    ``x`` as NumPy computes ``floor((x - x0) * (nx / (x1 - x0)))`` (the same bins to the last bit)."""
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype != y.dtype or x.dtype not in (np.float32, np.float64):
        x, y = x.astype(np.float64), y.astype(np.float64)
    b = _binning(x.dtype, x0, x1, y0, y1, nx, ny)
    return _count_in_halves(len(x), nx, ny, lambda c, _k, s, e: _histogram_2d(x, y, *b, c, s, e))


def gather_pair_histogram(z: np.ndarray, i: int, j: int, x0: float, x1: float, y0: float,
                          y1: float, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """``gather_pair(z, i, j)``, ``histogram_2d`` of those points and their ``mean_cov_2d``, in
    ONE pass over the z-points ``z`` (n, d) float32, n >= 1.

    A latent plane switch at 2,000,000 x 256 is bound by reading a cache line per row for the
    two columns; binning them and summing their moments while they are in registers saves the
    two passes over the gathered points (the bins are those :func:`histogram_2d` gives; the
    moments, from sums shifted by the first point, agree with the two-pass ones to ~1e-12)."""
    z = np.asarray(z)
    n = z.shape[0]
    out = np.empty((n, 2), np.float32)
    b = _binning(np.float32, x0, x1, y0, y1, nx, ny)
    sums = [np.zeros(5), np.zeros(5)]  # each half its own, as its own counts

    def count(c, half, start, stop):
        _gather_pair_histogram_rows(z, i, j, out, *b, c, sums[half], start, stop)

    counts = _count_in_halves(n, nx, ny, count)
    s = sums[0] + sums[1]
    mx, my = s[0] / n, s[1] / n
    moments = (float(z[0, i]) + mx, float(z[0, j]) + my,
               s[2] - s[0] * mx, s[3] - s[0] * my, s[4] - s[1] * my)
    return out, counts, moments


@numba.njit(cache=True, nogil=True)
def nearest_2d(p, x, y):  # pragma: no cover - compiled
    """Index and squared distance of the row of ``p`` (n, 2) nearest to (x, y), first on ties
    (one pass, no temporaries; the arithmetic in the dtype of ``p`` like NumPy's)."""
    best, best_d2 = -1, np.inf
    for i in range(p.shape[0]):
        dx = p[i, 0] - x
        dy = p[i, 1] - y
        d2 = dx * dx + dy * dy
        if d2 < best_d2:
            best, best_d2 = i, d2
    return best, best_d2


def map_chunks(z, chunk_size: int, work: Callable[[np.ndarray, int], object],
               n_threads: int = N_THREADS) -> list:
    """``[work(chunk, thread)]`` over the row chunks of ``z``, ``thread`` in ``range(n_threads)``.

    Chunk ``c`` goes to thread ``c % n_threads`` so that each thread's accumulators are only
    ever touched by that thread; the chunks of one thread run in order.
    """
    n = z.shape[0]
    starts = list(range(0, n, chunk_size))
    if n_threads <= 1 or len(starts) <= 1:
        return [work(np.asarray(z[s:s + chunk_size]), 0) for s in starts]

    def lane(t: int) -> list:
        return [work(np.asarray(z[s:s + chunk_size]), t) for s in starts[t::n_threads]]

    with ThreadPoolExecutor(n_threads) as pool:
        lanes = list(pool.map(lane, range(n_threads)))
    return [r for lane_results in lanes for r in lane_results]
