"""Bad parameters are refused at the API boundary with a message naming the value; the CLI exits
non-zero with ONE readable line on stderr and no traceback (in-process via ``cli.main`` + capsys,
and once through a real subprocess)."""

from __future__ import annotations

import numpy as np
import pytest

from latentexplorer import cli
from latentexplorer.analysis.correlation import correlation_matrix, pairs_over
from latentexplorer.analysis.ellipse import check_plane, confidence_ellipse, plane_points
from latentexplorer.analysis.hits import hit_mask_box, mahalanobis_radius
from latentexplorer.analysis.pca import LatentPCA
from latentexplorer.analysis.statistics import component_stats
from latentexplorer.errors import InvalidInputError
from latentexplorer.sampling.generators import (EllipseSampler, GridSampler, MultivariateNormalSampler,
                                                NormalSampler, UniformBoxSampler, make_sampler)
from latentexplorer.sampling.paths import line_path, parse_plane, plane_path, resample_polyline

from rel_helpers import assert_one_line_error, run_cli

Z = np.random.default_rng(0).normal(size=(200, 4))


# ----------------------------------------------------------------------------------- library API
@pytest.mark.parametrize("make,match", [
    (lambda: EllipseSampler(n_components=5).fit(Z), r"n_components: must be an integer in \[1, z_dim=4\], got 5"),
    (lambda: EllipseSampler(n_components=0).fit(Z), r"n_components: .* got 0"),
    (lambda: EllipseSampler(n_components=-2).fit(Z), r"n_components: .* got -2"),
    (lambda: EllipseSampler(n_components=2.5).fit(Z), r"n_components: .* got 2.5"),
    (lambda: EllipseSampler(n_components=True).fit(Z), r"n_components: .* got True"),
    (lambda: EllipseSampler(n_components=4).fit(Z[:3]), r"4 PCA components need at least 4 z-points, got 3"),
    (lambda: EllipseSampler(2, sigma_level=0).fit(Z), r"sigma_level: must be a positive finite number, got 0"),
    (lambda: EllipseSampler(2, sigma_level=-1.5).fit(Z), r"sigma_level: .* got -1.5"),
    (lambda: EllipseSampler(2, sigma_level=float("nan")).fit(Z), r"sigma_level: .* got nan"),
    (lambda: EllipseSampler(2, fact=0).fit(Z), r"fact: must be a positive finite number, got 0"),
    (lambda: EllipseSampler(2, fact=-0.7).fit(Z), r"fact: .* got -0.7"),
    (lambda: EllipseSampler(2, fact=float("inf")).fit(Z), r"fact: .* got inf"),
    (lambda: EllipseSampler(2, fact="big").fit(Z), r"fact: expected a number, got 'big'"),
    (lambda: UniformBoxSampler(b=0).fit(Z), r"b: must be a positive finite number, got 0"),
    (lambda: UniformBoxSampler(b=-1).fit(Z), r"b: .* got -1"),
    (lambda: GridSampler(b=0).fit(Z), r"b: .* got 0"),
    (lambda: GridSampler(points_per_axis=0).fit(Z), r"points_per_axis: expected an integer >= 1, got 0"),
    (lambda: GridSampler().fit(np.zeros((5, 256))), r"3\^256 ~ 1e122 vectors"),
    (lambda: NormalSampler(sigma=0).fit(Z), r"sigma: .* got 0"),
    (lambda: MultivariateNormalSampler(truncate=-1).fit(Z), r"truncate: .* got -1"),
    (lambda: make_sampler("ellipse", n_comp=2, bogus=1), r"ellipse: unknown parameter 'bogus'"),
    (lambda: make_sampler("spiral"), r"unknown generator 'spiral'"),
], ids=lambda v: None)
def test_generator_parameters(make, match):
    with pytest.raises(InvalidInputError, match=match):
        make()


@pytest.mark.parametrize("n", [0, -3, 10**9, 2.5, True, "10", None])
@pytest.mark.parametrize("cls", [UniformBoxSampler, NormalSampler, MultivariateNormalSampler, EllipseSampler])
def test_sample_count(cls, n):
    gen = cls(n_components=2) if cls is EllipseSampler else cls()
    gen.fit(Z)
    with pytest.raises(InvalidInputError, match=r"^n: "):
        gen.sample(n, 0)


def test_sample_before_fit():
    with pytest.raises(InvalidInputError, match=r"call fit\(z\) before sample"):
        EllipseSampler().sample(3, 0)


@pytest.mark.parametrize("plane,match", [
    (("latent", 1, 1), "must differ"),
    (("latent", 0, 4), r"out of range"),
    (("latent", -1, 2), r"(non-negative|out of range)"),
    (("latent", 0, 1.5), "integer"),
    (("polar", 0, 1), "kind must be"),
    (("latent", 0), "expected"),
    ("latent", "expected"),
])
def test_plane_axes(plane, match):
    for check in (lambda: parse_plane(plane, 4), lambda: check_plane(plane, 4),
                  lambda: plane_points(Z, plane), lambda: plane_path(Z[0], plane, [[0.0, 1.0]])):
        with pytest.raises(InvalidInputError, match=match):
            check()


def test_pca_plane_axes_beyond_the_pca():
    pca = LatentPCA(n_components=2).fit(Z)
    with pytest.raises(InvalidInputError, match=r"pca axis j=3 out of range 0..1"):
        plane_points(Z, ("pca", 0, 3), pca=pca)


@pytest.mark.parametrize("fn", [
    lambda z: component_stats(z), lambda z: correlation_matrix(z), lambda z: LatentPCA().fit(z),
    lambda z: confidence_ellipse(z), lambda z: EllipseSampler(2).fit(z),
    lambda z: UniformBoxSampler().fit(z), lambda z: MultivariateNormalSampler().fit(z),
    lambda z: hit_mask_box(z, np.zeros(4), np.ones(4), 1.0),
    lambda z: mahalanobis_radius(z, (np.zeros(4), np.eye(4))),
], ids=["stats", "corr", "pca", "ellipse", "ellipse-sampler", "uniform", "mvn", "hits", "mahalanobis"])
@pytest.mark.parametrize("data", [np.empty((0, 4)), np.empty((5, 0)), np.zeros(4), np.zeros((2, 2, 2)),
                                  np.array([["a", "b", "c", "d"]])],
                         ids=["no-rows", "no-columns", "1-D", "3-D", "strings"])
def test_empty_or_malformed_data(fn, data):
    with pytest.raises(InvalidInputError):
        fn(data)


def test_other_analysis_parameters():
    with pytest.raises(InvalidInputError, match=r"sigma_level: expected a finite number > 0, got 0"):
        confidence_ellipse(Z[:, :2], sigma_level=0)
    with pytest.raises(InvalidInputError, match=r"threshold: expected a number in \[0, 1\), got 1.5"):
        pairs_over(np.eye(3), 1.5)
    with pytest.raises(InvalidInputError, match=r"^k: "):
        hit_mask_box(Z, np.zeros(4), np.ones(4), -1)
    with pytest.raises(InvalidInputError, match=r"n: number of path points must be an integer >= 1, got 0"):
        resample_polyline([[0, 0], [1, 1]], 0)
    with pytest.raises(InvalidInputError, match=r"line_path: a and b differ in shape"):
        line_path(np.zeros(4), np.zeros(3), 5)


# ----------------------------------------------------------------------------------- CLI
def _one_error_line(capsys, argv, *needles) -> str:
    rc = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2, (rc, err)
    return assert_one_line_error(err, "error:", *needles)


def _arg(option: str, expected: str, got: str) -> str:
    """The one line argparse prints for a value outside its range (commands/_args.py)."""
    return f"argument {option}: expected {expected}, got {got}"


POSITIVE = "a finite number > 0 and <= 1e+06"


@pytest.mark.parametrize("extra,needle", [
    # checked by the sampler once z_dim is known (the argparse range is 1..MAX_Z_DIM)
    (["--method", "ellipse", "--n-comp", "5"], "n_components: must be an integer in [1, z_dim=4], got 5"),
    # checked where argparse reads the value: the option, what was expected, the value
    (["--method", "ellipse", "--n-comp", "0"], _arg("--n-comp", "an integer from 1 to 65,536", "0")),
    (["--method", "ellipse", "--n-comp", "2", "--sigma-level", "0"], _arg("--sigma-level", POSITIVE, "'0'")),
    (["--method", "ellipse", "--n-comp", "2", "--sigma-level", "-2"], _arg("--sigma-level", POSITIVE, "'-2'")),
    (["--method", "ellipse", "--n-comp", "2", "--fact", "0"], _arg("--fact", POSITIVE, "'0'")),
    (["--method", "ellipse", "--n-comp", "2", "--fact", "-0.5"], _arg("--fact", POSITIVE, "'-0.5'")),
    (["--method", "uniform", "--b", "0"], _arg("--b", POSITIVE, "'0'")),
    (["--method", "uniform", "--b", "-1.5"], _arg("--b", POSITIVE, "'-1.5'")),
    (["--method", "uniform", "--b", "nan"], _arg("--b", POSITIVE, "'nan'")),
    (["--method", "normal", "--sigma", "0"], _arg("--sigma", POSITIVE, "'0'")),
    (["--method", "mvn", "--truncate", "0"], _arg("--truncate", POSITIVE, "'0'")),
    (["--method", "grid", "--points-per-axis", "0"], _arg("--points-per-axis", "an integer from 1 to 100", "0")),
    (["--method", "uniform", "-n", "0"], _arg("-n", "an integer from 1 to 10,000", "0")),
    (["--method", "uniform", "-n", "-4"], _arg("-n", "an integer from 1 to 10,000", "-4")),
    (["--method", "uniform", "-n", "1000000000"], _arg("-n", "an integer from 1 to 10,000", "1000000000")),
    (["--method", "uniform", "--scale", "0"], _arg("--scale", "an integer from 1 to 16", "0")),
    (["--method", "uniform", "--sharpen", "-1"], _arg("--sharpen", "a finite number from 0.0 to 100.0", "'-1'")),
])
def test_cli_sample_parameters(rel_ws, tmp_path, capsys, extra, needle):
    out = tmp_path / "grid.png"
    _one_error_line(capsys, ["sample", "--workspace", rel_ws, "--no-scores", "-n", "4", "--out", out,
                             *extra], "latentexplorer sample: error: ", needle)
    assert not out.exists() and not out.with_suffix(".json").exists()


@pytest.mark.parametrize("extra,needle", [
    (["--method", "uniform", "--b", "0,1"], _arg("--b", POSITIVE, "'0'")),
    (["--method", "normal", "--sigma", "1,-1"], _arg("--sigma", POSITIVE, "'-1'")),
    (["-n", "0"], _arg("-n", "an integer from 1 to 10,000", "0")),
])
def test_cli_sweep_parameters(rel_ws, tmp_path, capsys, extra, needle):
    _one_error_line(capsys, ["sweep", "--workspace", rel_ws, "--no-scores", "--out", tmp_path / "sw",
                             *extra], "latentexplorer sweep: error: ", needle)
    assert not (tmp_path / "sw").exists()


@pytest.mark.parametrize("extra,needle", [
    (["--z-dim", "0"], _arg("--z-dim", "an integer from 1 to 65,536", "0")),
    (["--epochs", "0"], _arg("--epochs", "an integer from 1 to 1,000,000", "0")),
    (["--batch-size", "0"], _arg("--batch-size", "an integer from 1 to 65,536", "0")),
    (["--lr", "0"], _arg("--lr", "a finite number > 0 and <= 10", "'0'")),
    (["--lr", "-0.001"], _arg("--lr", "a finite number > 0 and <= 10", "'-0.001'")),
    (["--lr", "inf"], _arg("--lr", "a finite number > 0 and <= 10", "'inf'")),
    (["--fact", "-1"], _arg("--fact", "a finite number >= 0", "'-1'")),
    (["--dropout", "1.0"], _arg("--dropout", "a finite number >= 0 and < 1", "'1.0'")),
])
def test_cli_train_parameters(rel_ws, tmp_path, capsys, extra, needle):
    from latentexplorer.workspace import Workspace

    store = Workspace.open(rel_ws).data_path
    _one_error_line(capsys, ["train", "--data", store, "--workspace", tmp_path / "new", *extra],
                    "latentexplorer train: error: ", needle)
    assert not (tmp_path / "new").exists()  # refused before anything was created


@pytest.mark.parametrize("argv,needle", [
    (["synth", "--out", "{t}/s", "-n", "0"], _arg("-n/--count", "an integer from 1 to 10,000,000", "0")),
    (["synth", "--out", "{t}/s", "-n", "1000000000000"],
     _arg("-n/--count", "an integer from 1 to 10,000,000", "1000000000000")),
    (["synth", "--out", "{t}/s", "--size", "4"], _arg("--size", "an integer from 16 to 2,048", "4")),
    (["prepare", "{t}", "--out", "{t}/s", "--size", "4"], _arg("--size", "an integer from 8 to 2,048", "4")),
    (["prepare", "{t}", "--out", "{t}/s", "--limit", "0"],
     _arg("--limit", "an integer from 1 to 10,000,000", "0")),
    (["prepare", "{t}", "--out", "{t}/s", "--workers", "-1"],
     _arg("--workers", "an integer from 1 to 256", "-1")),
    (["analyze", "--latents", "{t}/empty.npy", "--out", "{t}/a"],
     "{t}/empty.npy: 0 latent vectors, expected at least 2"),
    (["analyze", "--latents", "{t}/flat.npy", "--out", "{t}/a"],
     "{t}/flat.npy: 1-D array of shape (4,), expected 2-D"),
    (["analyze", "--latents", "{t}/ok.npy", "--out", "{t}/a", "--bin-width", "0"],
     _arg("--bin-width", "a finite number from 0.001 to 100.0", "'0'")),
    (["analyze", "--latents", "{t}/ok.npy", "--out", "{t}/a", "--pair-threshold", "1.5"],
     _arg("--pair-threshold", "a finite number from 0.0 to 1.0", "'1.5'")),
    (["analyze", "--latents", "{t}/ok.npy", "--out", "{t}/a", "--kmeans", "--kmeans-max-points", "-5"],
     _arg("--kmeans-max-points", "an integer from 0 to 1,000,000,000", "-5")),
    (["analyze", "--latents", "{t}/nan.npy", "--out", "{t}/a"],
     "{t}/nan.npy: NaN or infinite value at row 3, column 1 (expected finite numbers)"),
    (["analyze", "--latents", "{t}/missing.npy", "--out", "{t}/a"], "{t}/missing.npy: latent array not found"),
])
def test_cli_other_commands(tmp_path, capsys, argv, needle):
    np.save(tmp_path / "empty.npy", np.zeros((0, 4), np.float32))
    np.save(tmp_path / "flat.npy", np.zeros(4, np.float32))
    np.save(tmp_path / "ok.npy", Z.astype(np.float32))
    bad = Z.copy()
    bad[3, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    _one_error_line(capsys, [a.replace("{t}", str(tmp_path)) for a in argv],
                    f"latentexplorer {argv[0]}: error: ", needle.replace("{t}", str(tmp_path)))
    assert not (tmp_path / "s").exists() and not (tmp_path / "a" / "summary.json").exists()


def test_cli_encode_batch_size(rel_ws, capsys):
    _one_error_line(capsys, ["encode", "--workspace", rel_ws, "--batch-size", "0"],
                    "latentexplorer encode: error: ", _arg("--batch-size", "an integer from 1 to 65,536", "0"))


def test_cli_argparse_errors_have_no_traceback(capsys):
    """argparse's own errors (a value of the wrong type) are one line and exit 2 too: ``cli.main``
    returns the code instead of raising SystemExit."""
    rc = cli.main(["sample", "--workspace", "x", "--out", "g.png", "-n", "many"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert_one_line_error(err, "latentexplorer sample: error: ",
                          _arg("-n", "an integer from 1 to 10,000", "'many'"), "(see --help)")


def test_cli_subprocess_one_line(tmp_path):
    """The real process: exit code 2, exactly one line on stderr, nothing on stdout."""
    np.save(tmp_path / "ok.npy", Z.astype(np.float32))
    r = run_cli("analyze", "--latents", tmp_path / "ok.npy", "--out", tmp_path / "a", "--bin-width", "-1")
    assert r.returncode == 2
    assert_one_line_error(r.stderr, "latentexplorer analyze: error: ",
                          _arg("--bin-width", "a finite number from 0.001 to 100.0", "'-1'"))
    assert r.stdout == "" and not (tmp_path / "a").exists()
    r = run_cli("prepare", tmp_path / "nope", "--out", tmp_path / "s")
    assert r.returncode == 2
    assert_one_line_error(r.stderr, "latentexplorer prepare: error: ", "nope: folder not found")
    assert r.stdout == "" and not (tmp_path / "s").exists()
