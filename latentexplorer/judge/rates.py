"""Detection rates of a set of images with a 95 % Wilson interval (no TensorFlow, no OpenCV).

The Wilson score interval (Wilson 1927) keeps its coverage at small n and at rates near 0 or 1,
where the normal-approximation interval collapses to a point (0 of 28 tiles: ``[0, 0]`` instead
of ``[0, 0.12]``). SciPy computes it (:meth:`scipy.stats.binomtest(...).proportion_ci
<scipy.stats._result_classes.BinomTestResult.proportion_ci>` with ``method="wilson"``).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Sequence

from ..errors import InvalidInputError

__all__ = ["wilson_interval", "SetScore", "score_set"]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion.

    Parameters
    ----------
    successes : int
        Number of images in which a face was found, ``0 <= successes <= n``.
    n : int
        Number of images, ``>= 1``.
    confidence : float
        Confidence level, in (0, 1).

    Returns
    -------
    (low, high) : tuple of float
        ``0 <= low <= successes / n <= high <= 1``.
    """
    from scipy.stats import binomtest

    values = []
    for name, v in (("successes", successes), ("n", n)):
        try:
            if isinstance(v, bool):
                raise TypeError
            values.append(operator.index(v))
        except TypeError:
            raise InvalidInputError(f"{name}: expected an integer, got {v!r}") from None
    successes, n = values
    if n < 1 or not 0 <= successes <= n:
        raise InvalidInputError(f"wilson_interval: expected 0 <= successes <= n and n >= 1, "
                                f"got {successes} of {n}")
    if not (isinstance(confidence, (int, float)) and 0 < confidence < 1):
        raise InvalidInputError(f"confidence: expected a number in (0, 1), got {confidence!r}")
    ci = binomtest(successes, n).proportion_ci(confidence_level=float(confidence), method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class SetScore:
    """What one detector says about one set of images.

    Attributes
    ----------
    detector : str
        ``"mtcnn"`` or ``"haar"``.
    n : int
        Images judged.
    detected : int
        Images in which the detector found a face.
    rate : float
        ``detected / n``.
    interval : (float, float)
        95 % Wilson interval of the rate.
    mean_confidence : float or None
        Mean over *all* images of the best face confidence in each (0 where there was no
        candidate at all); ``None`` for a detector without a confidence (Haar).
    settings : dict
        The detector's pinned settings (they decide the numbers).
    """

    detector: str
    n: int
    detected: int
    rate: float
    interval: tuple[float, float]
    mean_confidence: float | None = None
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"detector": self.detector, "n": self.n, "detected": self.detected,
                "rate": self.rate, "interval": [self.interval[0], self.interval[1]],
                "mean_confidence": self.mean_confidence, "settings": dict(self.settings)}

    def __str__(self) -> str:
        conf = "" if self.mean_confidence is None else f", confidence {self.mean_confidence:.2f}"
        return (f"{self.detector} {self.rate:.0%} [{self.interval[0]:.0%}, {self.interval[1]:.0%}]"
                f" of {self.n}{conf}")


def score_set(detector: str, found: Sequence[bool], confidences: Sequence[float] | None = None,
              settings: dict | None = None) -> SetScore:
    """Rate, Wilson interval and mean confidence of one detector's per-image results.

    Parameters
    ----------
    detector : str
    found : sequence of bool, length n >= 1
    confidences : sequence of float, length n, optional
        Best confidence per image (0 where none).
    settings : dict, optional
    """
    found = [bool(f) for f in found]
    n = len(found)
    if n == 0:
        raise InvalidInputError(f"{detector}: no images to score")
    k = sum(found)
    mean_conf = None
    if confidences is not None:
        conf = [float(c) for c in confidences]
        if len(conf) != n or not all(math.isfinite(c) for c in conf):
            raise InvalidInputError(f"{detector}: expected {n} finite confidences")
        mean_conf = sum(conf) / n
    return SetScore(detector=detector, n=n, detected=k, rate=k / n,
                    interval=wilson_interval(k, n), mean_confidence=mean_conf,
                    settings=dict(settings or {}))
