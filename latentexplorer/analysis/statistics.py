"""Per-component number distributions of latent vectors (SPEC §4).

Everything is vectorised over the components and streams over row chunks, so that a
200,000 x 256 float32 array (or a read-only memmap of it) is never copied as a whole.

* :func:`component_histograms` — one histogram per component on a shared bin grid.
* :func:`half_max_crossings` / :func:`half_width` — full width at half maximum measured on
  the histogram with linear sub-bin interpolation (no Gaussian assumption).
* :func:`component_stats` — mean, median, std, and the peak position and half-width (with its
  standard error) of a smoothed density per component, which hold at any sample size.
* :func:`dominant_components` — the seeds' criterion, a large ``|mu|`` or a large half-width
  (see its docstring for which half-width the seeds meant);
  :func:`dominant_components_mad` — components whose variance or ``|mu|`` stands out from the
  others by ``k`` MADs. Both warn (:class:`SaturationWarning`) when they select almost all.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from ._validation import (DEFAULT_CHUNK_ROWS, check_chunk_size, check_matrix,
                          check_nonnegative, check_positive, iter_chunks)
from .medians import column_medians
from .smoothing import (SmoothedDensity, half_max_positions, smoothed_density, smoothed_fwhm,
                        smoothed_mode)

__all__ = ["ComponentStats", "column_moments", "component_histograms", "half_max_crossings",
           "half_width", "column_medians", "component_stats", "dominant_components",
           "dominant_components_mad", "SaturationWarning", "warn_if_saturated"]

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
    left_t, right_t, _ = half_max_positions(cp)
    # linear in the fractional index is linear between the two bin centres (unequal bins too)
    index = np.arange(nb + 2)
    left = np.where(np.isnan(left_t), np.nan, np.interp(np.nan_to_num(left_t), index, x))
    right = np.where(np.isnan(right_t), np.nan, np.interp(np.nan_to_num(right_t), index, x))
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


class SaturationWarning(UserWarning):
    """A dominance criterion selected almost every component: it no longer singles any out."""


#: a criterion that selects at least this fraction of the components is reported as saturated
SATURATION_FRACTION = 0.9
#: ... when there are at least this many components (for a handful "almost all" means little)
SATURATION_MIN_COMPONENTS = 10


@dataclass(frozen=True)
class ComponentStats:
    """Per-component statistics of latent vectors; all arrays have shape (z_dim,).

    Attributes
    ----------
    mu : mean of each component (the centre used for dominance and hit tests)
    median : median of each component
    std : population standard deviation (ddof=0)
    peak : mode of the smoothed density (:mod:`~latentexplorer.analysis.smoothing`); a
        constant component keeps the centre of its histogram bin
    half_width : full width at half maximum (FWHM, ``2.3548 σ`` for a Gaussian) of the smoothed
        density with the kernel's share taken out — unbiased at any sample size (within 3 % at
        300 points, see ``tests/analysis/test_statistics.py``); a constant component keeps one
        bin width (the histogram's resolution). The seeds printed the *half* width at half
        maximum under this name: compare their numbers with ``half_width / 2`` (:attr:`hwhm`).
    half_max_left, half_max_right : the two half-maximum positions (for drawing)
    edges : ndarray of shape (n_bins + 1,)
        The raw histogram, kept for display.
    counts : ndarray of shape (z_dim, n_bins)
    n_points : int
    bin_width : float
    half_width_se : standard error of ``half_width`` (delta method on the smoothed density;
        within 10 % of the spread over repeated samples from 300 points up); 0 for a constant
        component, NaN where the density has no clean half-maximum crossings
    half_width_hist : FWHM read off the raw histogram (the former estimate; 3x too small at 600
        points with the default bin width)
    peak_hist : centre of the highest histogram bin (the former peak)
    bandwidth : standard deviation of the smoothing kernel (Silverman's rule)
    density : SmoothedDensity or None
        The smoothed densities themselves (``density.grid(i)``, ``density.density[i]``), e.g. to
        draw over the histograms.
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
    half_width_se: np.ndarray | None = None
    half_width_hist: np.ndarray | None = None
    peak_hist: np.ndarray | None = None
    bandwidth: np.ndarray | None = None
    density: SmoothedDensity | None = None

    @property
    def z_dim(self) -> int:
        return int(self.mu.shape[0])

    @property
    def hwhm(self) -> np.ndarray:
        """Half width at half maximum, ``half_width / 2`` — the quantity the seeds printed as "hw"."""
        return np.asarray(self.half_width) / 2.0

    def to_records(self) -> list[dict]:
        """One JSON-ready dict per component: index, mu, median, std, peak, half_width,
        half_width_se, half_width_hist (None where a value is not finite or not computed)."""
        def value(arr, i):
            if arr is None or not np.isfinite(arr[i]):
                return None
            return float(arr[i])
        return [{"index": i, "mu": float(self.mu[i]), "median": float(self.median[i]),
                 "std": float(self.std[i]), "peak": float(self.peak[i]),
                 "half_width": float(self.half_width[i]),
                 "half_width_se": value(self.half_width_se, i),
                 "half_width_hist": value(self.half_width_hist, i)} for i in range(self.z_dim)]


def component_stats(z, *, bin_width: float = 0.25, range=None,  # noqa: A002
                    chunk_size: int = DEFAULT_CHUNK_ROWS, moments=None) -> ComponentStats:
    """Mean, median, std, peak and half-width (with its standard error) of every component.

    The peak and the half-width come from a smoothed density of each component
    (:func:`~latentexplorer.analysis.smoothing.smoothed_density`, an FFT-binned Gaussian KDE),
    the raw histogram is kept for display and for the guided medians. Without an explicit
    ``range`` both come from one counting pass over the data (the histogram is summed from
    the fine counts), so the smoothing costs little more than the histogram did.

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
    bin_width : float, keyword-only
        Bin width of the displayed histograms.
    range : (float, float) or None, keyword-only
        Histogram range, see :func:`component_histograms` (the smoothed density always sees
        every value).
    chunk_size : int, keyword-only
    moments : CoMoments, optional, keyword-only
        The result of :func:`~latentexplorer.analysis.correlation.co_moments` on the same
        ``z``: its mean, variance and range are reused instead of streaming over the data
        again (``analyze_latents`` computes it anyway for the correlations and the PCA).

    Returns
    -------
    ComponentStats
    """
    bin_width = check_positive(bin_width, "bin_width")
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
        zmin, zmax = np.asarray(moments.zmin, np.float64), np.asarray(moments.zmax, np.float64)
    else:
        n, mean, m2, zmin, zmax = column_moments(z, chunk_size=chunk_size, validate=False)
    std = np.sqrt(np.maximum(m2, 0.0) / n)
    data_range = (float(np.min(zmin)), float(np.max(zmax)))
    if range is None:
        edges, _ = _bin_grid(*data_range, bin_width, None)
        dens, counts = smoothed_density(z, zmin=zmin, zmax=zmax, std=std,
                                        coarse_grid=(edges[0], bin_width, edges.size - 1),
                                        chunk_size=chunk_size, validate=False)
        if counts is None:      # bins far finer than the smoothing needs: a pass of their own
            edges, counts = component_histograms(z, bin_width=bin_width, chunk_size=chunk_size,
                                                 _data_range=data_range)
    else:
        edges, counts = component_histograms(z, bin_width=bin_width, range=range,
                                             chunk_size=chunk_size, _data_range=data_range)
        dens = smoothed_density(z, zmin=zmin, zmax=zmax, std=std, chunk_size=chunk_size,
                                validate=False)
    left_h, right_h = half_max_crossings(counts, edges)
    hw_hist = np.nan_to_num(right_h - left_h, nan=0.0)
    centres = 0.5 * (edges[:-1] + edges[1:])
    peak_hist = centres[np.argmax(counts, axis=1)]
    fwhm, left, right, se = smoothed_fwhm(dens)
    mode, _ = smoothed_mode(dens)
    flat = dens.degenerate      # constant components: the histogram's resolution-limited values
    median = column_medians(z, edges, counts, chunk_size=chunk_size)
    return ComponentStats(mu=mean, median=median, std=std,
                          peak=np.where(flat, peak_hist, mode),
                          half_width=np.where(flat, hw_hist, fwhm),
                          half_max_left=np.where(flat, left_h, left),
                          half_max_right=np.where(flat, right_h, right),
                          edges=edges, counts=counts, n_points=int(n), bin_width=float(bin_width),
                          half_width_se=np.where(flat, 0.0, se), half_width_hist=hw_hist,
                          peak_hist=peak_hist, bandwidth=dens.bandwidth, density=dens)


def _check_stats(stats) -> ComponentStats:
    if not isinstance(stats, ComponentStats):
        raise InvalidInputError(
            f"stats: expected ComponentStats (from component_stats), got {type(stats).__name__}")
    return stats


def warn_if_saturated(mask, criterion: str, *, stacklevel: int = 3) -> None:
    """Warn (:class:`SaturationWarning`) when ``mask`` selects almost every component."""
    mask = np.asarray(mask, dtype=bool)
    d, k = mask.size, int(mask.sum())
    if d >= SATURATION_MIN_COMPONENTS and k >= SATURATION_FRACTION * d:
        warnings.warn(f"{criterion} selects {k} of {d} components: it no longer singles any out "
                      "(try dominant_components_mad, or width='half' for the seeds' thresholds)",
                      SaturationWarning, stacklevel=stacklevel)


def dominant_components(stats: ComponentStats, *, mu_threshold: float = 0.25,
                        hw_threshold: float = 1.5, width: str = "full") -> np.ndarray:
    """Indices of the dominant components: ``|mu| >= mu_threshold`` or width ``>= hw_threshold``.

    This is the seeds' criterion (|μ| ≥ 0.25 or "half-width" ≥ 1.5). **Which width the seeds
    meant**: they define it in words as the distance between the two half-maximum points (the
    FWHM), but their numbers fit only the half width at half maximum (HWHM = FWHM / 2 =
    1.1774 σ). Their AE (z_dim 256) has radius R ≈ 16, so the mean squared coordinate is
    R² / 256 ≈ 1 and, with |μ| < 0.25 for ≥ 90 % of the components, σ ≈ 1 per component:
    FWHM ≈ 2.35, HWHM ≈ 1.18 — and "most half-widths between 1 and 2" brackets the HWHM only.
    Counted the other way: with "hw" as FWHM their ≥ 216 components of hw < 1 (σ < 0.42) give at
    most 39 to R², the 20 listed dominant ones (their μ and hw) 27, the remaining 20 at most 8,
    so R ≤ √74 ≈ 8.6, not 16; read as HWHM the same bounds give R ≤ 16.0. With our FWHM and
    ``hw_threshold=1.5`` a cloud of σ ≈ 1 components therefore selects nearly all of them (256
    of 256 on real faces); ``width="half"`` applies the threshold to the HWHM, i.e. the seeds'
    criterion as they used it (FWHM ≥ 3.0). A :class:`SaturationWarning` is issued when the
    criterion selects almost everything (≥ 90 % of at least 10 components).

    Parameters
    ----------
    stats : ComponentStats
    mu_threshold, hw_threshold : float, keyword-only
        Non-negative thresholds (SPEC defaults 0.25 and 1.5).
    width : {"full", "half"}, keyword-only
        Compare ``hw_threshold`` with the FWHM (``stats.half_width``, the default, as before) or
        with the HWHM (``stats.half_width / 2``, the seeds' numbers).

    Returns
    -------
    indices : ndarray of shape (n_dominant,), int64, ascending
    """
    stats = _check_stats(stats)
    mu_threshold = check_nonnegative(mu_threshold, "mu_threshold")
    hw_threshold = check_nonnegative(hw_threshold, "hw_threshold")
    if width not in ("full", "half"):
        raise InvalidInputError(f"width: expected 'full' or 'half', got {width!r}")
    hw = stats.half_width if width == "full" else stats.hwhm
    mask = (np.abs(stats.mu) >= mu_threshold) | (hw >= hw_threshold)
    warn_if_saturated(mask, f"|mu| >= {mu_threshold:g} or {width} width >= {hw_threshold:g}")
    return np.flatnonzero(mask).astype(np.int64)


def dominant_components_mad(stats: ComponentStats, *, k: float = 3.0) -> np.ndarray:
    """Data-driven dominant components: variance or ``|mu|`` more than ``k`` MADs above the median.

    The robust z-score of a value ``v`` among the components is ``(v - median) / (1.4826 MAD)``
    (the scaled median absolute deviation estimates σ for Gaussian-distributed values and
    ignores the outliers it is looking for). A component is dominant if the score of its
    variance or of its ``|mu|`` is ``>= k``. Unlike fixed thresholds this adapts to the scale of
    the cloud, so it cannot saturate (at most half of the components lie above a median).

    Parameters
    ----------
    stats : ComponentStats
    k : float, keyword-only
        Threshold in robust standard deviations (default 3).

    Returns
    -------
    indices : ndarray of shape (n_dominant,), int64, ascending
    """
    from scipy.stats import median_abs_deviation

    stats = _check_stats(stats)
    k = check_nonnegative(k, "k")
    mask = np.zeros(stats.z_dim, dtype=bool)
    for values in (np.asarray(stats.std, np.float64) ** 2, np.abs(np.asarray(stats.mu, np.float64))):
        centre = np.median(values)
        scale = median_abs_deviation(values, scale="normal")
        # identical values everywhere (MAD 0): only a value above all of them stands out
        scale = max(float(scale), 1e-12 * (abs(float(centre)) + 1e-300))
        mask |= (values - centre) / scale >= k
    warn_if_saturated(mask, f"variance or |mu| >= median + {k:g} MAD")
    return np.flatnonzero(mask).astype(np.int64)
