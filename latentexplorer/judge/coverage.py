"""Variety and coverage of a generated set against real images, in a feature space of its own.

**Metrics.** Precision and recall of Kynkäänniemi et al. (2019), density and coverage of Naeem
et al. (2020), with k-nearest-neighbour balls exactly as in their reference implementation (the
``prdc`` package, whose formulas these are; ``tests/judge`` checks the two agree). ``prdc`` itself
is not used at run time: it prints to stdout, asks scikit-learn for 8 jobs on any machine and
holds the full real x fake distance matrix; here the fakes go in chunks.

* precision — fraction of generated images that fall inside some real image's k-NN ball
  (are they realistic?);
* recall — fraction of real images that fall inside some generated image's k-NN ball (is the
  variety of the real set reproduced?);
* density — how many real balls contain a generated image, on average, divided by k (about 1
  for a set drawn like the real one; it rewards samples in dense real regions, unlike
  precision it is not fooled by a few real outliers);
* coverage — fraction of real images whose ball contains at least one generated image.

Plus a simple variety figure: the mean pairwise distance of the set, and its ratio to that of
the real set (about 1 for real-like variety; near 0 when every sample is the same face).

**Feature space.** ONet's 256-d last hidden layer (:meth:`MTCNNDetector.embed
<latentexplorer.judge.detectors.MTCNNDetector.embed>`) on the whole image at 48 px: a network
trained to tell faces from non-faces and to place landmarks, so it describes face structure;
it does not come from the model under test, and it ships with the detector (offline).
Measured (k = 5; ``latentexplorer score --calibrate``): 500 unseen CelebA crops against 500
others give precision / recall / density / coverage 0.91 / 0.92 / 1.03 / 0.96 and a variety
ratio of 0.99; blurred noise 0 / 0 / 0 / 0; the synthetic cartoon faces 0.39 / 0.20 / 0.15 /
0.10; 200 near-copies of the mean face (an experiment against 500 crops) 0.03 / 0 / 0.01 / 0.00
with a variety ratio of 0.02. HOG features (OpenCV, 1,764-d) were tried and rejected: in the
same experiment blurred noise got precision 0.46 and density 1.2, the mean face precision 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError

__all__ = ["prdc", "mean_pairwise_distance", "CoverageScore", "coverage_score",
           "image_features"]

#: neighbours per ball (Naeem et al. recommend k = 5)
NEAREST_K = 5
#: fakes per chunk of the real x fake distance matrix
_CHUNK = 1024


def _check_features(x, name: str, min_rows: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < min_rows or x.shape[1] < 1:
        raise InvalidInputError(f"{name}: expected features of shape (n >= {min_rows}, dim), got {x.shape}")
    if not np.isfinite(x).all():
        raise InvalidInputError(f"{name}: contains NaN or infinite values")
    return x


def _kth_neighbour_distance(x: np.ndarray, k: int) -> np.ndarray:
    """Distance of every row to its k-th nearest other row (the row itself is the 0-th)."""
    from sklearn.neighbors import NearestNeighbors

    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return dist[:, k]


def prdc(real_features, fake_features, *, nearest_k: int = NEAREST_K) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake_features`` against ``real_features``.

    Parameters
    ----------
    real_features : ndarray of shape (n_real, dim), n_real > nearest_k
    fake_features : ndarray of shape (n_fake, dim), n_fake > nearest_k
    nearest_k : int, keyword-only

    Returns
    -------
    dict with float ``precision``, ``recall``, ``density``, ``coverage``
        Precision, recall and coverage lie in [0, 1]; density in [0, n_real / k].
    """
    from sklearn.metrics import pairwise_distances

    if isinstance(nearest_k, bool) or not isinstance(nearest_k, (int, np.integer)) or nearest_k < 1:
        raise InvalidInputError(f"nearest_k: expected an integer >= 1, got {nearest_k!r}")
    real = _check_features(real_features, "real_features", nearest_k + 1)
    fake = _check_features(fake_features, "fake_features", nearest_k + 1)
    if real.shape[1] != fake.shape[1]:
        raise InvalidInputError(f"features: real have {real.shape[1]} dimensions, fake {fake.shape[1]}")
    r_real = _kth_neighbour_distance(real, nearest_k)
    r_fake = _kth_neighbour_distance(fake, nearest_k)
    inside_any = np.zeros(fake.shape[0], bool)     # precision: fake inside some real ball
    balls_hit = np.zeros(fake.shape[0])            # density: how many real balls contain it
    recalled = np.zeros(real.shape[0], bool)       # recall: real inside some fake ball
    nearest_fake = np.full(real.shape[0], np.inf)  # coverage: distance to the nearest fake
    for a in range(0, fake.shape[0], _CHUNK):
        d = pairwise_distances(fake[a:a + _CHUNK], real)          # (chunk, n_real)
        in_real = d < r_real[None, :]
        inside_any[a:a + _CHUNK] = in_real.any(axis=1)
        balls_hit[a:a + _CHUNK] = in_real.sum(axis=1)
        recalled |= (d < r_fake[a:a + _CHUNK, None]).any(axis=0)
        np.minimum(nearest_fake, d.min(axis=0), out=nearest_fake)
    return {"precision": float(inside_any.mean()), "recall": float(recalled.mean()),
            "density": float(balls_hit.mean() / nearest_k),
            "coverage": float((nearest_fake < r_real).mean())}


def mean_pairwise_distance(features, *, max_points: int = 2000, random_state=0) -> float:
    """Mean Euclidean distance between two different rows (a variety figure).

    Above ``max_points`` rows a random subset of that size is used (``random_state`` fixes it).

    Parameters
    ----------
    features : ndarray of shape (n, dim), n >= 2
    max_points : int, keyword-only
    random_state : int or numpy Generator, keyword-only
    """
    from sklearn.metrics import pairwise_distances

    x = _check_features(features, "features", 2)
    if x.shape[0] > max_points:
        rng = np.random.default_rng(random_state)
        x = x[np.sort(rng.choice(x.shape[0], max_points, replace=False))]
    d = pairwise_distances(x)
    n = x.shape[0]
    return float(d.sum() / (n * (n - 1)))


@dataclass(frozen=True)
class CoverageScore:
    """Variety and coverage of one generated set against real images.

    Attributes
    ----------
    precision, recall, density, coverage : float
        See :func:`prdc`.
    variety : float
        Mean pairwise distance of the generated set in the feature space.
    variety_ratio : float
        ``variety`` divided by that of the real set.
    n_real, n_fake, nearest_k : int
    feature_space : str
    """

    precision: float
    recall: float
    density: float
    coverage: float
    variety: float
    variety_ratio: float
    n_real: int
    n_fake: int
    nearest_k: int
    feature_space: str = "mtcnn-onet-fc5"

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def __str__(self) -> str:
        return (f"precision {self.precision:.2f}, recall {self.recall:.2f}, density "
                f"{self.density:.2f}, coverage {self.coverage:.2f}, variety x{self.variety_ratio:.2f}")


def coverage_score(real_features, fake_features, *, nearest_k: int = NEAREST_K,
                   random_state=0) -> CoverageScore:
    """:func:`prdc` and the variety of ``fake_features`` against ``real_features``.

    Parameters
    ----------
    real_features : ndarray of shape (n_real, dim)
    fake_features : ndarray of shape (n_fake, dim)
    nearest_k : int, keyword-only
    random_state : int, keyword-only
        For the subsets of :func:`mean_pairwise_distance`.
    """
    m = prdc(real_features, fake_features, nearest_k=nearest_k)
    v_fake = mean_pairwise_distance(fake_features, random_state=random_state)
    v_real = mean_pairwise_distance(real_features, random_state=random_state)
    return CoverageScore(**m, variety=v_fake, variety_ratio=v_fake / v_real if v_real > 0 else 0.0,
                         n_real=int(np.shape(real_features)[0]), n_fake=int(np.shape(fake_features)[0]),
                         nearest_k=int(nearest_k))


def image_features(images, *, progress=None) -> np.ndarray:
    """The judge's feature space for images ``(n, H, W, 3)``: ONet features, shape (n, 256)."""
    from .detectors import default_detector

    return default_detector("mtcnn").embed(images, progress=progress)
