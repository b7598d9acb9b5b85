"""Detection rates and their 95 % Wilson interval."""

import math

import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.judge.rates import score_set, wilson_interval


def _wilson_by_hand(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize("k, n", [(0, 28), (28, 28), (97, 100), (3, 7), (1, 1), (500, 1000)])
def test_wilson_matches_the_formula(k, n):
    lo, hi = wilson_interval(k, n)
    assert (lo, hi) == pytest.approx(_wilson_by_hand(k, n), abs=1e-9)
    assert 0 <= lo <= k / n <= hi <= 1


def test_wilson_keeps_width_at_the_extremes():
    """Unlike the normal approximation, 0 of 28 is not the point [0, 0]."""
    lo, hi = wilson_interval(0, 28)
    assert lo == 0 and hi == pytest.approx(0.1206, abs=1e-4)
    assert wilson_interval(10, 100, 0.99)[1] > wilson_interval(10, 100)[1]


@pytest.mark.parametrize("args, msg", [((5, 0), "n >= 1"), ((6, 5), "successes <= n"),
                                       ((-1, 5), "successes"), ((1.5, 5), "integer"),
                                       ((True, 5), "integer")])
def test_wilson_refuses_bad_counts(args, msg):
    with pytest.raises(InvalidInputError, match=msg):
        wilson_interval(*args)
    with pytest.raises(InvalidInputError, match="confidence"):
        wilson_interval(1, 2, confidence=1.0)


def test_score_set():
    s = score_set("mtcnn", [True, True, False, True], [0.99, 0.95, 0.2, 0.91], {"work_size": 64})
    assert (s.n, s.detected, s.rate) == (4, 3, 0.75)
    assert s.mean_confidence == pytest.approx((0.99 + 0.95 + 0.2 + 0.91) / 4)
    assert s.interval == wilson_interval(3, 4)
    d = s.to_dict()
    assert d["rate"] == 0.75 and d["settings"] == {"work_size": 64} and len(d["interval"]) == 2
    assert "75%" in str(s)
    assert score_set("haar", [False]).mean_confidence is None
    with pytest.raises(InvalidInputError, match="no images"):
        score_set("haar", [])
    with pytest.raises(InvalidInputError, match="confidences"):
        score_set("mtcnn", [True], [float("nan")])
