"""Generators refuse settings whose vectors would leave every latent space (and overflow float32),
naming the setting; the largest accepted ones give finite float32 vectors without numpy warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from latentexplorer import cli
from latentexplorer.errors import InvalidInputError
from latentexplorer.sampling.generators import (EllipseSampler, GridSampler, MultivariateNormalSampler,
                                                NormalSampler, UniformBoxSampler)
from latentexplorer.schemas import MAX_LATENT_ABS

Z = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)


@pytest.mark.parametrize("make,match", [
    (lambda: UniformBoxSampler(b=1e308), r"b=1e\+308: expected at most 1e\+06"),
    (lambda: UniformBoxSampler(b=1e39), r"b=1e\+39: expected at most 1e\+06"),
    (lambda: GridSampler(b=1e308, points_per_axis=2), r"b=1e\+308: expected at most"),
    (lambda: NormalSampler(sigma=1e308), r"sigma=1e\+308: expected at most"),
    (lambda: MultivariateNormalSampler(truncate=1e308), r"truncate=1e\+308: expected at most"),
    (lambda: EllipseSampler(n_components=4, fact=1e300), r"fact=1e\+300: expected at most"),
    (lambda: EllipseSampler(n_components=4, sigma_level=1e300), r"sigma_level=1e\+300: expected at most"),
    # each setting within its bound, their product with the data's spread beyond it
    (lambda: EllipseSampler(n_components=4, fact=1e6, sigma_level=1e6),
     r"fact=1e\+06, sigma_level=1e\+06: the sampling ellipse would reach .* expected fact × sigma_level at most"),
])
def test_settings_beyond_the_latent_range_are_refused(make, match):
    with pytest.raises(InvalidInputError, match=match):
        make().fit(Z)


def test_z_points_beyond_the_latent_range_are_refused():
    with pytest.raises(InvalidInputError, match=r"z-points: values up to 3e\+38"):
        NormalSampler().fit(np.full((10, 4), 3e38, np.float32))


@pytest.mark.parametrize("make", [
    lambda: UniformBoxSampler(b=MAX_LATENT_ABS), lambda: NormalSampler(sigma=MAX_LATENT_ABS, center=True),
    lambda: GridSampler(b=MAX_LATENT_ABS, points_per_axis=2), lambda: MultivariateNormalSampler(truncate=3.0),
    lambda: EllipseSampler(n_components=8, fact=100.0, sigma_level=100.0)])
def test_the_largest_accepted_settings_give_finite_float32_quietly(make):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            z = make().fit(Z).sample(500, 0)
    assert z.dtype == np.float32 and np.all(np.isfinite(z))


def test_ellipse_from_a_pca_checks_the_reach_too():
    from latentexplorer.analysis.pca import LatentPCA

    pca = LatentPCA().fit(Z)
    with pytest.raises(InvalidInputError, match="the sampling ellipse would reach"):
        EllipseSampler(n_components=8, fact=1e6, sigma_level=1e6).fit_from_pca(pca)


@pytest.mark.parametrize("argv,option", [
    (["sample", "--method", "uniform", "--b", "1e308"], "--b"),
    (["sample", "--method", "uniform", "--b", "1e39"], "--b"),
    (["sample", "--method", "normal", "--sigma", "1e308"], "--sigma"),
    (["sample", "--method", "ellipse", "--fact", "1e300"], "--fact"),
    (["sample", "--method", "ellipse", "--sigma-level", "1e300"], "--sigma-level"),
    (["sample", "--method", "mvn", "--truncate", "1e300"], "--truncate"),
    (["sweep", "--method", "uniform", "--b", "1,1e308"], "--b"),
    (["sweep", "--method", "normal", "--sigma", "1e39"], "--sigma"),
])
def test_the_commands_name_the_option(tmp_path, capsys, argv, option):
    rc = cli.main([*argv, "--workspace", str(tmp_path), "--out", str(tmp_path / "g.png")])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"argument {option}: expected a finite number > 0 and <= 1e+06" in err
    assert len(err.strip().splitlines()) == 1 and "Warning" not in err
