"""``latentexplorer directions`` run as a real process on a tiny workspace: files, JSON, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from tiny_models import commit_untrained_epoch, tiny_config


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A tiny untrained workspace on 96 synthetic faces whose generator factors are attributes."""
    from latentexplorer.data.synth import write_synthetic_store
    from latentexplorer.workspace import Workspace

    root = tmp_path_factory.mktemp("dirs")
    write_synthetic_store(root / "store", n=96, size=16, seed=0)
    ws = Workspace.create(root / "ws", root / "store", tiny_config())
    commit_untrained_epoch(ws)
    ws.encode()
    return ws


def _run(*args):
    return subprocess.run([sys.executable, "-m", "latentexplorer.cli", "directions", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_attribute_directions_orthogonalised_write_every_file(workspace, tmp_path):
    out = tmp_path / "dirs"
    proc = _run("--workspace", workspace.path, "--method", "attribute", "--attribute", "glasses",
                "smile", "--orthogonal-to", "male", "--steps", "5", "--range", "1.5", "--rows", "2",
                "--out", out)
    assert proc.returncode == 0, proc.stderr
    vectors = np.load(out / "directions.npy")
    assert vectors.shape == (2, 4) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert np.load(out / "directions_original.npy").shape == (2, 4)
    meta = json.loads((out / "directions.json").read_text())
    assert meta["format"] == "latentexplorer-directions/1" and meta["method"] == "attribute"
    assert meta["names"] == ["glasses", "smile"] and meta["labels"] == ["glasses ⊥ male", "smile ⊥ male"]
    from latentexplorer.render.images import weights_fingerprint

    assert meta["fingerprint"] == weights_fingerprint(workspace.load_decoder())  # like every grid
    assert meta["score_name"] == "heldout_auc" and len(meta["scores"]) == 2
    ent = json.loads((out / "entanglement.json").read_text())
    assert ent["before"]["directions"] == ["glasses", "smile"]
    assert ent["after"]["directions"] == ["glasses ⊥ male", "smile ⊥ male"]
    assert set(ent["after"]["slopes_per_sigma"]["glasses ⊥ male"]) == {"glasses", "smile", "male"}
    # the male direction's component is gone: the orthogonalised pair keeps cos ≈ 0 to it
    from latentexplorer.analysis.directions import attribute_unit_directions

    store = workspace.dataset()
    male = attribute_unit_directions(workspace.latents().z, store.attributes, store.attribute_names,
                                     select=["male"]).vectors[0]
    np.testing.assert_allclose(vectors @ male, 0.0, atol=1e-5)
    for entry in meta["grids"]:
        png = out / entry["grid"]
        side = json.loads(png.with_suffix(".json").read_text())
        assert png.is_file() and side["generator"] == "direction"
        assert (side["rows"], side["cols"], side["n"]) == (2, 5, 10)
        assert side["settings"]["steps_sigma"] == pytest.approx(np.linspace(-1.5, 1.5, 5).tolist())
        assert side["fingerprint"] == meta["fingerprint"]
    assert "before orthogonalisation" in proc.stdout and "glasses ⊥ male" in proc.stdout

    # the same folder may be written again (an earlier directions folder is replaced)
    again = _run("--workspace", workspace.path, "--method", "sefa", "--count", "3", "--steps", "3",
                 "--out", out)
    assert again.returncode == 0, again.stderr
    meta = json.loads((out / "directions.json").read_text())
    assert meta["method"] == "sefa" and meta["names"] == ["SeFa1", "SeFa2", "SeFa3"]
    assert meta["scores"] == sorted(meta["scores"], reverse=True)
    assert not (out / "directions_original.npy").exists() and len(meta["grids"]) == 3


@pytest.mark.parametrize("args, needle", [
    (["--method", "attribute", "--attribute", "eyeglasses"], "--attribute eyeglasses: unknown attribute"),
    (["--method", "pca", "--orthogonal-to", "gender"], "--orthogonal-to gender: unknown attribute"),
    (["--method", "attribute"], "name the attributes"),
    (["--method", "ica"], "invalid choice: 'ica'"),
    (["--method", "pca", "--steps", "1"], "--steps"),
    (["--method", "attribute", "--attribute", "male", "--orthogonal-to", "male", "glasses",
      "--range", "0"], "--range"),
])
def test_bad_input_is_one_line_and_exit_2(workspace, tmp_path, args, needle):
    proc = _run("--workspace", workspace.path, *args, "--out", tmp_path / "out")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and needle in lines[0], proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_ours_is_never_replaced(workspace, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    proc = _run("--workspace", workspace.path, "--method", "pca", "--out", mine)
    assert proc.returncode == 2 and "not a directions folder" in proc.stderr
    assert (mine / "notes.txt").read_text() == "keep me"
