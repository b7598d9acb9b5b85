"""``latentexplorer facemap`` and ``reconstruct`` on a tiny untrained workspace: files, JSON, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from tiny_models import commit_untrained_epoch, make_store, tiny_config

from latentexplorer.cli import main


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from latentexplorer.workspace import Workspace

    root = tmp_path_factory.mktemp("fm")
    ws = Workspace.create(root / "ws", make_store(root / "store", n=80), tiny_config())
    commit_untrained_epoch(ws)
    ws.encode()
    return ws


def test_facemap_writes_png_and_json(workspace, tmp_path, capsys):
    out = tmp_path / "maps" / "map.png"
    rc = main(["facemap", "--workspace", str(workspace.path), "--plane", "pca:0,1", "--resolution", "6",
               "--base", "point:3", "--out", str(out)])
    assert rc == 0
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["plane"] == ["pca", 0, 1] and data["resolution"] == 6
    conf = np.array(data["confidence"])
    assert conf.shape == (6, 6) and ((conf >= 0) & (conf <= 1)).all()
    np.testing.assert_allclose(data["base"], workspace.latents().z[3], atol=1e-6)
    assert data["fingerprint"] == workspace.snapshot().fingerprint or len(data["fingerprint"]) >= 4
    assert Image.open(out).size[0] > 6 * 16
    assert "a face in" in capsys.readouterr().out


@pytest.mark.parametrize("args, needle", [
    (["--plane", "latent:0"], "--plane"), (["--plane", "polar:0,1"], "--plane"),
    (["--plane", "latent:0,9"], "plane"), (["--resolution", "0"], "--resolution"),
    (["--extent", "1,0,0,1"], "extent"), (["--base", "point:999"], "--base"),
    (["--base", "median"], "--base")])
def test_facemap_bad_options_exit_2_with_one_line(workspace, tmp_path, capsys, args, needle):
    rc = main(["facemap", "--workspace", str(workspace.path), "--out", str(tmp_path / "m.png"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and needle in err[0]
    assert not (tmp_path / "m.png").exists()


def test_reconstruct_grid_holds_originals_over_reconstructions(workspace, tmp_path, capsys):
    out = tmp_path / "rec.png"
    _, test = workspace.dataset().split()
    rc = main(["reconstruct", "--workspace", str(workspace.path), "-n", "3", "--out", str(out)])
    assert rc == 0  # by default images of the test split: never trained on
    assert set(json.loads(out.with_suffix(".json").read_text())["indices"]) <= set(test.tolist())
    rc = main(["reconstruct", "--workspace", str(workspace.path), "-n", "5", "--cols", "3",
               "--split", "all", "--out", str(out)])
    assert rc == 0
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["generator"] == "reconstruction" and len(data["indices"]) == 5
    assert (data["rows"], data["cols"]) == (4, 3)  # two row pairs of 3 (one padded)
    assert data["scores"]["originals"]["n"] == 5 and "mtcnn" in data["scores"]["reconstructions"]
    text = capsys.readouterr().out
    assert "originals: MTCNN finds a face in" in text and "reconstructions:" in text


def test_reconstruct_says_when_the_split_has_fewer_images(workspace, tmp_path, capsys):
    n_test = len(workspace.dataset().split()[1])
    rc = main(["reconstruct", "--workspace", str(workspace.path), "-n", str(n_test + 5), "--no-scores",
               "--out", str(tmp_path / "r.png")])
    assert rc == 0 and f"the test split has only {n_test} images" in capsys.readouterr().err


def test_reconstruct_refuses_a_store_of_another_size(workspace, tmp_path, capsys):
    other = make_store(tmp_path / "big", n=20, size=32)
    rc = main(["reconstruct", "--workspace", str(workspace.path), "--data", str(other),
               "--out", str(tmp_path / "r.png"), "--no-scores"])
    err = capsys.readouterr().err
    assert rc == 2 and "32x32" in err and "--size 16" in err
