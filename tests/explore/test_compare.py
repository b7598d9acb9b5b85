"""Comparing a named latent set with the training set: Mahalanobis on constructed clouds, and the
whole path from ``encode --data --name`` (which leaves the training latents untouched)."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import commit_untrained_epoch, make_store, tiny_config

from latentexplorer.cli import main
from latentexplorer.errors import InvalidInputError
from latentexplorer.explore.compare import compare_latents, compare_sets, format_comparison, mahalanobis


def test_mahalanobis_matches_the_definition():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 3)) @ np.array([[2, 0, 0], [0.5, 1, 0], [0, 0, 0.2]])
    mean, cov = a.mean(0), np.cov(a, rowvar=False)
    d = a[:5] - mean
    expected = np.sqrt(np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d))
    np.testing.assert_allclose(mahalanobis(a[:5], mean, cov), expected, rtol=1e-4)  # the 1e-6 ridge


def test_a_shifted_set_lies_beyond_the_training_cloud():
    rng = np.random.default_rng(1)
    train = rng.normal(size=(2000, 8))
    same = compare_latents(train, rng.normal(size=(500, 8)))
    far = compare_latents(train, rng.normal(size=(500, 8)) + 4.0)
    assert same["other"]["beyond_training_p99"] < 0.05
    assert far["other"]["beyond_training_p99"] > 0.9
    assert far["other"]["mahalanobis"]["median"] > 3 * same["other"]["mahalanobis"]["median"]
    assert same["training"]["mahalanobis"]["median"] == pytest.approx(np.sqrt(8 - 2 / 3), rel=0.1)
    with pytest.raises(InvalidInputError, match="z_dim"):
        compare_latents(train, train[:, :4])


def test_named_set_from_the_cli_leaves_the_training_latents_untouched(tmp_path, capsys):
    from latentexplorer.workspace import Workspace

    ws = Workspace.create(tmp_path / "ws", make_store(tmp_path / "train", n=80), tiny_config())
    commit_untrained_epoch(ws)
    ws.encode()
    meta_before = (ws.latents_dir / "meta.json").read_bytes()
    z_before = ws.latents().z.copy()
    other = make_store(tmp_path / "other", n=30, seed=9)
    rc = main(["encode", "--workspace", str(ws.path), "--data", str(other), "--name", "holdout"])
    assert rc == 0
    assert (ws.latents_dir / "meta.json").read_bytes() == meta_before
    np.testing.assert_array_equal(ws.latents().z, z_before)
    assert ws.latent_set_names() == ["holdout"]
    named = ws.latents("holdout")
    assert named.z.shape == (30, 4) and named.meta.name == "holdout" and named.meta.data == str(other)
    assert not ws.staleness(named).stale

    comparison = compare_sets(ws, "holdout", n_judged=6)
    assert comparison["other"]["n"] == 30 and comparison["training"]["n"] == 80
    judged = comparison["other"]["judged"]["reconstructions"]
    assert judged["n"] == 6 and 0.0 <= judged["rate"] <= 1.0
    lines = format_comparison(comparison)
    assert len(lines) == 2 and "set 'holdout'" in lines[1] and "MTCNN" in lines[1]

    # the same comparison from the command line, written into the analysis's summary.json
    capsys.readouterr()
    out = tmp_path / "analysis"
    rc = main(["analyze", "--workspace", str(ws.path), "--out", str(out), "--no-plots",
               "--compare", "holdout"])
    printed = capsys.readouterr().out
    assert rc == 0 and "set 'holdout': 30 points" in printed
    import json
    summary = json.loads((out / "summary.json").read_text())
    assert summary["comparison"]["name"] == "holdout" and summary["comparison"]["other"]["n"] == 30
    assert summary["comparison"]["other"]["judged"]["originals"]["n"] > 0
    rc = main(["analyze", "--workspace", str(ws.path), "--out", str(tmp_path / "a2"), "--no-plots",
               "--compare", "nosuch"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "nosuch" in err[0]
    assert not (tmp_path / "a2").exists()

    # a second encoding under the same name replaces only that set
    rc = main(["encode", "--workspace", str(ws.path), "--data", str(make_store(tmp_path / "o2", n=12)),
               "--name", "holdout"])
    assert rc == 0 and ws.latents("holdout").n == 12
    np.testing.assert_array_equal(ws.latents().z, z_before)


@pytest.mark.parametrize("args, needle", [
    (["--name", "x"], "--data and --name go together"),
    (["--data", "STORE", "--name", "../up"], "--name"),
    (["--data", "STORE", "--name", ".hidden"], "--name")])
def test_encode_refuses_bad_name_options(tmp_path, capsys, args, needle):
    from latentexplorer.workspace import Workspace

    ws = Workspace.create(tmp_path / "ws", make_store(tmp_path / "train", n=20), tiny_config())
    commit_untrained_epoch(ws)
    args = [str(make_store(tmp_path / "o", n=5)) if a == "STORE" else a for a in args]
    rc = main(["encode", "--workspace", str(ws.path), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and needle in err[0]
    assert not (ws.path / "latent_sets").exists()
