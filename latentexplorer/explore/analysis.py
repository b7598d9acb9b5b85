"""What the explorer computes once per set of z-points (in a background job): the PCA, the
coordinates of every point on the leading PCA axes, the nearest-neighbour index and the component
statistics (μ, half-width, dominant components)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..analysis.pca import LatentPCA
from ..analysis.statistics import (ComponentStats, SaturationWarning, component_stats, dominant_components,
                                   dominant_components_mad)
from ..progress import ProgressReporter
from .neighbors import NearestIndex, pca_leading_coords

#: points used for fitting the PCA / statistics when there are more (the fit then takes ~1 s)
ANALYSIS_MAX_POINTS = 200_000
#: PCA components kept for the explorer (planes, sliders, Mahalanobis distance)
PCA_MAX_COMPONENTS = 256


@dataclass(frozen=True)
class Thresholds:
    """The dominant-component criterion.

    ``criterion``: ``"fwhm"`` — the seeds' |μ| ≥ ``mu`` or width ≥ ``half_width`` with the width
    read as the full width at half maximum (SPEC §4, the default); ``"hwhm"`` — the same with the
    half width at half maximum, the seeds' numbers (see
    :func:`~latentexplorer.analysis.statistics.dominant_components`); ``"mad"`` — data-driven:
    variance or |μ| at least ``k`` robust standard deviations above the median component
    (:func:`~latentexplorer.analysis.statistics.dominant_components_mad`; never saturates).
    """

    mu: float = 0.25
    half_width: float = 1.5
    criterion: str = "fwhm"
    k: float = 3.0


@dataclass
class ExplorerAnalysis:
    """Result of :func:`compute_analysis`.

    Attributes
    ----------
    pca : LatentPCA
    leading : ndarray of shape (k, n_points), float32
        Coordinates of every point on the k <= 32 leading PCA axes.
    nearest : NearestIndex
    stats : ComponentStats
        Per-component histograms, μ, half-width (FWHM), ... of the (sub)sample.
    """

    pca: LatentPCA
    leading: np.ndarray
    nearest: NearestIndex
    stats: ComponentStats
    thresholds: Thresholds = field(default_factory=Thresholds)

    def dominant(self, thresholds: Thresholds | None = None) -> list[int]:
        """Dominant components, widest first."""
        import warnings

        t = thresholds or self.thresholds
        if t.criterion == "mad":
            idx = dominant_components_mad(self.stats, k=t.k)
        else:
            with warnings.catch_warnings():  # saturation is shown by the caller (saturated())
                warnings.simplefilter("ignore", SaturationWarning)
                idx = dominant_components(self.stats, mu_threshold=t.mu, hw_threshold=t.half_width,
                                          width="half" if t.criterion == "hwhm" else "full")
        idx = np.asarray(idx, dtype=np.int64)
        hw = np.asarray(self.stats.half_width)
        return [int(i) for i in idx[np.argsort(-hw[idx], kind="stable")]]

    def saturated(self, thresholds: Thresholds | None = None) -> bool:
        """Whether the criterion selects almost every component (it singles none out)."""
        from ..analysis.statistics import SATURATION_FRACTION, SATURATION_MIN_COMPONENTS

        z_dim = self.stats.z_dim
        return z_dim >= SATURATION_MIN_COMPONENTS and \
            len(self.dominant(thresholds)) >= SATURATION_FRACTION * z_dim

    @property
    def std(self) -> np.ndarray:
        """Standard deviation along each PCA axis (n_components,)."""
        return np.sqrt(np.maximum(np.asarray(self.pca.explained_variance_, dtype=np.float64), 0.0))


def compute_analysis(z: np.ndarray, reporter: ProgressReporter | None = None, *,
                     max_points: int = ANALYSIS_MAX_POINTS,
                     n_components: int = PCA_MAX_COMPONENTS, seed: int = 0) -> ExplorerAnalysis:
    """Fit the explorer's PCA and statistics on ``z`` (n_points, z_dim) (a seeded subset of
    ``max_points`` for more points); project every point on the leading axes."""
    reporter = reporter or ProgressReporter()
    fit_z = z
    if z.shape[0] > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(z.shape[0], max_points, replace=False))
        fit_z = z[idx]
    reporter.update(0, 4, "fitting PCA")
    reporter.raise_if_cancelled()
    k = int(min(n_components, z.shape[1], max(fit_z.shape[0] - 1, 1)))
    pca = LatentPCA(n_components=k, random_state=seed).fit(np.asarray(fit_z, dtype=np.float32))
    reporter.update(1, 4, "projecting on the leading PCA axes")
    reporter.raise_if_cancelled()
    leading = pca_leading_coords(z, pca)
    reporter.update(2, 4, "nearest-neighbour index")
    reporter.raise_if_cancelled()
    nearest = NearestIndex(z, pca=pca, coords=leading)
    reporter.update(3, 4, "component statistics")
    reporter.raise_if_cancelled()
    stats = component_stats(fit_z)
    reporter.update(4, 4, "statistics ready")
    return ExplorerAnalysis(pca=pca, leading=leading, nearest=nearest, stats=stats)
