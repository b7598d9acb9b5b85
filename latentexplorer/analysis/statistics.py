"""Per-component number distributions of latent vectors (SPEC §4).

Everything is vectorised over the components and streams over row chunks, so that a
200,000 x 256 float32 array (or a read-only memmap of it) is never copied as a whole.

* :func:`component_histograms` — one histogram per component on a shared bin grid.
* :func:`half_max_crossings` / :func:`half_width` — full width at half maximum measured on
  the histogram with linear sub-bin interpolation (no Gaussian assumption).
* :func:`component_stats` — mean, median, std, peak position and half-width per component.
* :func:`dominant_components` — components with a large ``|mu|`` or a large half-width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from ._validation import (DEFAULT_CHUNK_ROWS, check_chunk_size, check_matrix,
                          check_nonnegative, check_positive, iter_chunks)

__all__ = ["ComponentStats", "column_moments", "component_histograms", "half_max_crossings",
           "half_width", "column_medians", "component_stats", "dominant_components"]

#: refuse histograms larger than this many bins per component (a bin width far too small)
MAX_BINS = 200_000


def column_moments(z, *, chunk_size: int = DEFAULT_CHUNK_ROWS, validate: bool = True):
    """Streaming per-component count, mean, sum of squared deviations, min and max.

    Chunks are combined with Chan et al.'s pairwise update in float64, so the result is
    accurate even for large means and needs only one chunk-sized temporary.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
    chunk_size : int, keyword-only
        Rows per chunk.
    validate : bool, keyword-only
        Check shape and finiteness first (skip when the caller already did).

    Returns
    -------
    n : int
    mean : ndarray of shape (z_dim,), float64
    m2 : ndarray of shape (z_dim,), float64
        Sum of squared deviations from the mean (``var = m2 / n``).
    zmin, zmax : ndarray of shape (z_dim,), float64
    """
    chunk_size = check_chunk_size(chunk_size)
    if validate:
        z = check_matrix(z, chunk_size=chunk_size)
    d = z.shape[1]
    n = 0
    mean = np.zeros(d)
    m2 = np.zeros(d)
    zmin = np.full(d, np.inf)
    zmax = np.full(d, -np.inf)
    for _, block in iter_chunks(z, chunk_size):
        b = np.asarray(block, dtype=np.float64)
        nb = b.shape[0]
        bmean = b.mean(axis=0)
        bm2 = ((b - bmean) ** 2).sum(axis=0)
        np.minimum(zmin, b.min(axis=0), out=zmin)
        np.maximum(zmax, b.max(axis=0), out=zmax)
        tot = n + nb
        delta = bmean - mean
        mean = mean + delta * (nb / tot)
        m2 = m2 + bm2 + delta ** 2 * (n * nb / tot)
        n = tot
    return n, mean, m2, zmin, zmax


def _bin_grid(lo_data: float, hi_data: float, bin_width: float, hist_range):
    """Edges of the shared bin grid and whether out-of-range values are clipped or dropped."""
    if hist_range is None:
        # grid aligned to multiples of the bin width, covering the used range
        lo = np.floor(lo_data / bin_width) * bin_width
        n_bins = int(np.floor((hi_data - lo) / bin_width)) + 1
        clip = True
    else:
        try:
            lo, hi = (float(v) for v in hist_range)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"range: expected (low, high), got {hist_range!r}") from None
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
            raise InvalidInputError(f"range: expected finite low < high, got ({lo}, {hi})")
        n_bins = max(1, int(np.ceil((hi - lo) / bin_width - 1e-9)))
        clip = False
    if n_bins > MAX_BINS:
        raise InvalidInputError(
            f"bin_width: {bin_width} gives {n_bins} bins for the range "
            f"[{lo_data:.4g}, {hi_data:.4g}]; choose a larger bin width (at most {MAX_BINS} bins)")
    edges = lo + bin_width * np.arange(n_bins + 1, dtype=np.float64)
    return edges, clip


def component_histograms(z, *, bin_width: float = 0.25, range=None,  # noqa: A002
                         chunk_size: int = DEFAULT_CHUNK_ROWS, _data_range=None):
    """Histogram every component of ``z`` on one shared grid, all at once.

    Bin indices are computed for a whole row chunk, offset by ``component * n_bins`` and
    counted with a single :func:`numpy.bincount` per chunk — there is no Python loop over the
    components.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
        Latent vectors (float32 / float64 / memmap; not copied as a whole).
    bin_width : float, keyword-only
        Width of the bins (SPEC default 0.25).
    range : (float, float) or None, keyword-only
        Histogram range. ``None`` uses the range of the data with edges at multiples of
        ``bin_width`` (every value is counted). With an explicit range the bins start at
        ``low`` and values outside ``[low, edges[-1]]`` are not counted.
    chunk_size : int, keyword-only
        Rows per chunk (memory: about ``24 * chunk_size * z_dim`` bytes).

    Returns
    -------
    edges : ndarray of shape (n_bins + 1,)
        Bin edges (bins are half-open ``[e_k, e_k+1)``; the last one is closed).
    counts : ndarray of shape (z_dim, n_bins), int64
        Number of points per component and bin.
    """
    bin_width = check_positive(bin_width, "bin_width")
    chunk_size = check_chunk_size(chunk_size)
    if _data_range is None:
        z = check_matrix(z, chunk_size=chunk_size)
    d = z.shape[1]
    if range is None and _data_range is not None:
        # the caller (component_stats) has already checked z and streamed its min and max
        lo_data, hi_data = _data_range
    elif range is None:
        lo_data = min(float(np.min(block)) for _, block in iter_chunks(z, chunk_size))
        hi_data = max(float(np.max(block)) for _, block in iter_chunks(z, chunk_size))
    else:
        lo_data = hi_data = 0.0
    edges, clip = _bin_grid(lo_data, hi_data, bin_width, range)
    n_bins = edges.size - 1
    lo, hi = edges[0], edges[-1]
    offsets = np.arange(d, dtype=np.int64) * n_bins
    counts = np.zeros(d * n_bins, dtype=np.int64)
    for _, block in iter_chunks(z, chunk_size):
        t = np.asarray(block, dtype=np.float64).copy() if block.dtype == np.float64 \
            else block.astype(np.float64)
        if not clip:
            keep = (t >= lo) & (t <= hi)
        t -= lo
        t /= bin_width
        np.floor(t, out=t)
        np.clip(t, 0, n_bins - 1, out=t)  # float rounding at the edges / the closed last bin
        ids = t.astype(np.int64)
        ids += offsets
        if clip:
            counts += np.bincount(ids.ravel(), minlength=d * n_bins)
        else:
            counts += np.bincount(ids[keep], minlength=d * n_bins)
    return edges, counts.reshape(d, n_bins)


def _check_hist(counts, edges):
    counts = np.asarray(counts, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    if counts.ndim not in (1, 2):
        raise InvalidInputError(
            f"counts: expected shape (n_bins,) or (z_dim, n_bins), got {counts.shape}")
    if edges.ndim != 1 or edges.size != counts.shape[-1] + 1:
        raise InvalidInputError(
            f"edges: expected {counts.shape[-1] + 1} edges for {counts.shape[-1]} bins, "
            f"got shape {edges.shape}")
    if counts.shape[-1] < 1:
        raise InvalidInputError("counts: histogram has no bins")
    if not (np.isfinite(counts).all() and np.isfinite(edges).all()):
        raise InvalidInputError("counts/edges: contain NaN or infinite values")
    if (counts < 0).any():
        raise InvalidInputError("counts: negative counts")
    if edges.size > 1 and not (np.diff(edges) > 0).all():
        raise InvalidInputError("edges: must be strictly increasing")
    return counts, edges


def half_max_crossings(counts, edges):
    """Left and right positions where each histogram falls to half its maximum.

    Starting at the highest bin (the first one on ties) the search walks outwards to the
    first bin below half the maximum on each side; the crossing is interpolated linearly
    between the centres of that bin and its inner neighbour. Beyond the histogram the count is
    taken as zero at the next (virtual) bin centre, so a flat (uniform) histogram gives its
    outer edges. All components are handled at once.

    Parameters
    ----------
    counts : ndarray of shape (z_dim, n_bins) or (n_bins,)
    edges : ndarray of shape (n_bins + 1,)
        Equal or unequal bin widths; centres are ``(edges[:-1] + edges[1:]) / 2``.

    Returns
    -------
    left, right : ndarray of shape (z_dim,) (or scalars for 1-D input)
        For an empty histogram (all counts zero) both are NaN.
    """
    counts, edges = _check_hist(counts, edges)
    one = counts.ndim == 1
    c = np.atleast_2d(counts)
    d, nb = c.shape
    centres = 0.5 * (edges[:-1] + edges[1:])
    # virtual empty bins outside both ends
    x = np.concatenate([[2 * edges[0] - centres[0]], centres, [2 * edges[-1] - centres[-1]]])
    cp = np.zeros((d, nb + 2))
    cp[:, 1:-1] = c
    peak = np.argmax(cp, axis=1)                      # padded index of the maximum
    half = cp[np.arange(d), peak] / 2.0
    below = cp < half[:, None]
    j = np.arange(nb + 2)
    lo_i = np.where(below & (j < peak[:, None]), j, -1).max(axis=1)   # first below, left
    hi_i = np.where(below & (j > peak[:, None]), j, nb + 2).min(axis=1)  # first below, right
    empty = half <= 0
    lo_i = np.where(empty, 0, lo_i)
    hi_i = np.where(empty, nb + 1, hi_i)
    rows = np.arange(d)
    c0, c1 = cp[rows, lo_i], cp[rows, lo_i + 1]       # c0 < half <= c1
    left = x[lo_i] + (half - c0) / np.where(empty, 1, c1 - c0) * (x[lo_i + 1] - x[lo_i])
    c0, c1 = cp[rows, hi_i], cp[rows, hi_i - 1]       # c0 < half <= c1
    right = x[hi_i] - (half - c0) / np.where(empty, 1, c1 - c0) * (x[hi_i] - x[hi_i - 1])
    left = np.where(empty, np.nan, left)
    right = np.where(empty, np.nan, right)
    if one:
        return float(left[0]), float(right[0])
    return left, right


def half_width(counts, edges):
    """Full width at half maximum of each histogram (see :func:`half_max_crossings`).

    Parameters
    ----------
    counts : ndarray of shape (z_dim, n_bins) or (n_bins,)
    edges : ndarray of shape (n_bins + 1,)

    Returns
    -------
    hw : ndarray of shape (z_dim,) or float
        For a Gaussian ``hw ≈ 2.3548 σ``; for a uniform distribution on ``[a, b]`` ``≈ b - a``.
        A component whose values all fall in one bin gets one bin width (the resolution
        limit); an empty histogram gives 0.
    """
    left, right = half_max_crossings(counts, edges)
    hw = np.nan_to_num(np.asarray(right) - np.asarray(left), nan=0.0)
    return float(hw) if np.ndim(hw) == 0 else hw


@dataclass(frozen=True)
class ComponentStats:
    """Per-component statistics of latent vectors; all arrays have shape (z_dim,).

    Attributes
    ----------
    mu : mean of each component (the centre used for dominance and hit tests)
    median : median of each component
    std : population standard deviation (ddof=0)
    peak : centre of the highest histogram bin
    half_width : full width at half maximum from the histogram
    half_max_left, half_max_right : the two half-maximum positions (for drawing)
    edges : ndarray of shape (n_bins + 1,)
    counts : ndarray of shape (z_dim, n_bins)
    n_points : int
    bin_width : float
    """

    mu: np.ndarray
    median: np.ndarray
    std: np.ndarray
    peak: np.ndarray
    half_width: np.ndarray
    half_max_left: np.ndarray
    half_max_right: np.ndarray
    edges: np.ndarray
    counts: np.ndarray
    n_points: int
    bin_width: float

    @property
    def z_dim(self) -> int:
        return int(self.mu.shape[0])

    def to_records(self) -> list[dict]:
        """One JSON-ready dict per component: index, mu, median, std, peak, half_width."""
        return [{"index": i, "mu": float(self.mu[i]), "median": float(self.median[i]),
                 "std": float(self.std[i]), "peak": float(self.peak[i]),
                 "half_width": float(self.half_width[i])} for i in range(self.z_dim)]


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
    gives the exact order statistics: 0.28 s instead of 1.0 s for 200,000 x 256 float32. The pass counts with the same comparisons it gathers with, so float rounding
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
    below = np.zeros(d, dtype=np.int64)
    pieces: list[list[np.ndarray]] = [[] for _ in range(d)]
    for _, block in iter_chunks(z, chunk_size):
        b = np.asarray(block, dtype=dtype)
        below += np.count_nonzero(b < lo, axis=0)
        mask = (b >= lo) & (b < hi)
        per_col = np.count_nonzero(mask, axis=0)
        if not per_col.any():
            continue
        # transposed views: the gathered values come out grouped by column
        vals = b.T[mask.T]
        for j, part in zip(np.flatnonzero(per_col), _split_nonempty(vals, per_col)):
            pieces[j].append(part)
    out = np.empty(d)
    fallback = []
    for j in range(d):
        if not guided[j]:
            fallback.append(j)
            continue
        w = np.concatenate(pieces[j]) if pieces[j] else np.empty(0, dtype)
        r_lo, r_hi = k_lo - int(below[j]), k_hi - int(below[j])
        if r_lo < 0 or r_hi >= w.size:
            fallback.append(j)   # the histogram and the comparisons disagreed: stay exact
            continue
        part = np.partition(w, [r_lo, r_hi])
        out[j] = 0.5 * (float(part[r_lo]) + float(part[r_hi]))
        pieces[j] = []
    if fallback:
        cols = np.asarray(fallback)
        out[cols] = _column_medians_direct(z, cols)
    return out


def _split_nonempty(vals: np.ndarray, per_col: np.ndarray) -> list[np.ndarray]:
    """Split the gathered values into one array per column that has any."""
    ends = np.cumsum(per_col)
    nz = np.flatnonzero(per_col)
    return [vals[ends[j] - per_col[j]:ends[j]] for j in nz]


def component_stats(z, *, bin_width: float = 0.25, range=None,  # noqa: A002
                    chunk_size: int = DEFAULT_CHUNK_ROWS, moments=None) -> ComponentStats:
    """Mean, median, std, peak and half-width of every component.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
    bin_width : float, keyword-only
        Bin width of the histograms the peak and half-width are measured on.
    range : (float, float) or None, keyword-only
        Histogram range, see :func:`component_histograms`.
    chunk_size : int, keyword-only
    moments : CoMoments, optional, keyword-only
        The result of :func:`~latentexplorer.analysis.correlation.co_moments` on the same
        ``z``: its mean, variance and range are reused instead of streaming over the data
        again (``analyze_latents`` computes it anyway for the correlations and the PCA).

    Returns
    -------
    ComponentStats
    """
    chunk_size = check_chunk_size(chunk_size)
    z = check_matrix(z, chunk_size=chunk_size, check_finite=moments is None)
    if moments is not None:
        if getattr(moments, "n", None) != z.shape[0] or np.shape(moments.mean) != (z.shape[1],) \
                or getattr(moments, "zmin", None) is None:
            raise InvalidInputError(
                f"moments: expected CoMoments of these {z.shape[0]} x {z.shape[1]} points "
                f"(from co_moments(z)), got {type(moments).__name__}")
        n, mean = moments.n, np.asarray(moments.mean, dtype=np.float64)
        m2 = np.diag(moments.comoment).copy()
        data_range = (float(np.min(moments.zmin)), float(np.max(moments.zmax)))
    else:
        n, mean, m2, zmin, zmax = column_moments(z, chunk_size=chunk_size, validate=False)
        data_range = (float(np.min(zmin)), float(np.max(zmax)))
    edges, counts = component_histograms(z, bin_width=bin_width, range=range,
                                         chunk_size=chunk_size, _data_range=data_range)
    left, right = half_max_crossings(counts, edges)
    hw = np.nan_to_num(right - left, nan=0.0)
    centres = 0.5 * (edges[:-1] + edges[1:])
    peak = centres[np.argmax(counts, axis=1)]
    median = column_medians(z, edges, counts, chunk_size=chunk_size)
    return ComponentStats(mu=mean, median=median, std=np.sqrt(np.maximum(m2, 0.0) / n),
                          peak=peak, half_width=hw, half_max_left=left, half_max_right=right,
                          edges=edges, counts=counts, n_points=int(n),
                          bin_width=float(bin_width))


def dominant_components(stats: ComponentStats, *, mu_threshold: float = 0.25,
                        hw_threshold: float = 1.5) -> np.ndarray:
    """Indices of the dominant components: ``|mu| >= mu_threshold`` or ``hw >= hw_threshold``.

    Parameters
    ----------
    stats : ComponentStats
    mu_threshold, hw_threshold : float, keyword-only
        Non-negative thresholds (SPEC defaults 0.25 and 1.5).

    Returns
    -------
    indices : ndarray of shape (n_dominant,), int64, ascending
    """
    if not isinstance(stats, ComponentStats):
        raise InvalidInputError(
            f"stats: expected ComponentStats (from component_stats), got {type(stats).__name__}")
    mu_threshold = check_nonnegative(mu_threshold, "mu_threshold")
    hw_threshold = check_nonnegative(hw_threshold, "hw_threshold")
    mask = (np.abs(stats.mu) >= mu_threshold) | (stats.half_width >= hw_threshold)
    return np.flatnonzero(mask).astype(np.int64)
