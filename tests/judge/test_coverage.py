"""Precision, recall, density, coverage and variety on constructed feature sets."""

import contextlib
import io

import numpy as np
import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.judge.coverage import coverage_score, mean_pairwise_distance, prdc


def _blob(n, d=8, seed=0, shift=0.0, scale=1.0):
    return np.random.default_rng(seed).normal(size=(n, d)) * scale + shift


def test_a_set_against_itself_is_perfect():
    x = _blob(300)
    m = prdc(x, x)
    assert m["precision"] == 1 and m["recall"] == 1 and m["coverage"] == 1
    assert m["density"] == pytest.approx(1.0, abs=0.15)


def test_a_second_draw_of_the_same_distribution_scores_high():
    m = prdc(_blob(400, seed=1), _blob(400, seed=2))
    assert m["precision"] > 0.8 and m["recall"] > 0.8 and m["coverage"] > 0.8
    assert 0.7 < m["density"] < 1.3


def test_disjoint_noise_scores_zero():
    m = prdc(_blob(200), _blob(200, seed=3, shift=50.0))
    assert m == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_a_collapsed_set_is_precise_but_covers_nothing():
    real = _blob(400)
    fake = _blob(100, seed=4, scale=0.01)          # every sample is (nearly) the mean
    m = prdc(real, fake)
    assert m["precision"] == 1.0 and m["coverage"] < 0.05 and m["recall"] < 0.05
    score = coverage_score(real, fake)
    assert score.variety_ratio < 0.02
    assert coverage_score(real, _blob(400, seed=5)).variety_ratio == pytest.approx(1.0, abs=0.05)


def test_agrees_with_the_reference_implementation():
    prdc_pkg = pytest.importorskip("prdc")
    real, fake = _blob(150, seed=6), _blob(120, seed=7, shift=0.7, scale=1.3)
    with contextlib.redirect_stdout(io.StringIO()):   # the package prints its input sizes
        ref = prdc_pkg.compute_prdc(real, fake, nearest_k=5)
    ours = prdc(real, fake, nearest_k=5)
    for key in ("precision", "recall", "density", "coverage"):
        assert ours[key] == pytest.approx(float(ref[key]), abs=1e-12)


def test_mean_pairwise_distance():
    assert mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)
    assert mean_pairwise_distance(np.zeros((5, 3))) == 0.0
    big = _blob(3000)
    a = mean_pairwise_distance(big, max_points=500, random_state=1)
    assert a == mean_pairwise_distance(big, max_points=500, random_state=1)
    assert a == pytest.approx(4.0, rel=0.1)        # sqrt(2 * 8) for unit Gaussians in 8-d


def test_refuses_bad_features():
    with pytest.raises(InvalidInputError, match="real_features"):
        prdc(np.zeros((3, 2)), _blob(20, d=2))     # not more than k points
    with pytest.raises(InvalidInputError, match="dimensions"):
        prdc(_blob(20, d=2), _blob(20, d=3))
    with pytest.raises(InvalidInputError, match="NaN"):
        prdc(np.full((20, 2), np.nan), _blob(20, d=2))
    with pytest.raises(InvalidInputError, match="nearest_k"):
        prdc(_blob(20), _blob(20), nearest_k=0)
