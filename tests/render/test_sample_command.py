"""``latentexplorer sample`` / ``sweep`` on a tiny (untrained) workspace: files, sidecar, re-decode."""

import json

import numpy as np
import pytest

from tiny_models import commit_untrained_epoch, tiny_config

from latentexplorer.cli import main


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from latentexplorer.data.store import StoreWriter
    from latentexplorer.workspace import Workspace

    root = tmp_path_factory.mktemp("ws")
    rng = np.random.default_rng(0)
    with StoreWriter(root / "store", 80, 16) as w:
        w.images[:] = rng.integers(0, 256, (80, 16, 16, 3), dtype=np.uint8)
        w.finish({"source": "test", "preset": "synthetic"})
    ws = Workspace.create(root / "ws", root / "store", tiny_config())
    commit_untrained_epoch(ws)
    ws.encode()
    return ws


def test_sample_writes_grid_sidecar_and_scores(workspace, tmp_path, capsys):
    out = tmp_path / "grid.png"
    rc = main(["sample", "--workspace", str(workspace.path), "--method", "ellipse", "-n", "6",
               "--n-comp", "3", "--fact", "0.7", "--seed", "3", "--cols", "3", "--sharpen", "2",
               "--out", str(out)])
    assert rc == 0 and out.is_file()
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["generator"] == "ellipse" and data["seed"] == 3 and data["sharpen"] == 2.0
    assert data["settings"] == {"n_components": 3, "sigma_level": 2.35, "fact": 0.7}
    assert np.asarray(data["z"]).shape == (6, 4) and (data["rows"], data["cols"]) == (2, 3)
    scores = data["scores"]
    assert {"cycle_ratio_median", "nn_ratio_median", "closeness_mean", "all_hit_rate"} <= \
        set(scores["closeness"]["summary"])
    assert len(scores["closeness"]["per_vector"]) == 6
    board = scores["scoreboard"]
    for det in ("mtcnn", "haar"):  # random-pixel "faces": the detectors find none
        assert board[det]["rate"] == 0.0 and board[det]["detected"] == 0
        lo, hi = board[det]["interval"]
        assert lo == 0.0 < hi < 0.5  # 95 % Wilson interval of 0 of 6
    assert len(scores["judge"]["images"]) == 6 and board["n_judged"] == 6
    assert board["coverage"] is None or 0 <= board["coverage"]["coverage"] <= 1
    out_text = capsys.readouterr().out
    assert "MTCNN 0% [0%-" in out_text and "re-encode x" in out_text and "closeness" in out_text

    from PIL import Image

    from latentexplorer.render.images import redecode_sidecar, render_sidecar_grid, weights_fingerprint

    decoder = workspace.load_decoder()
    fp = weights_fingerprint(decoder)
    assert data["fingerprint"] == fp
    np.testing.assert_array_equal(np.asarray(render_sidecar_grid(out.with_suffix(".json"), decoder, fp)),
                                  np.asarray(Image.open(out)))
    assert redecode_sidecar(out.with_suffix(".json"), decoder, fp).shape == (6, 16, 16, 3)


def test_sweep_writes_one_grid_per_b_and_summary(workspace, tmp_path):
    out = tmp_path / "sweep"
    rc = main(["sweep", "--workspace", str(workspace.path), "--method", "uniform", "--b", "0.5,2",
               "-n", "4", "--no-scores", "--out", str(out)])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [e["b"] for e in summary["entries"]] == [0.5, 2.0]
    for e in summary["entries"]:
        assert (out / e["grid"]).is_file() and (out / e["grid"]).with_suffix(".json").is_file()
        assert e["radius_mean"] == pytest.approx(e["radius_theory_mean"], rel=0.5)


def test_sample_errors_are_one_line(workspace, tmp_path, capsys):
    rc = main(["sample", "--workspace", str(workspace.path), "--method", "grid", "--out",
               str(tmp_path / "g.png"), "--no-scores"])
    assert rc == 0  # 3^4 = 81 points: a grid is still possible in 4 dimensions
    rc = main(["sample", "--workspace", str(workspace.path), "--method", "ellipse", "--n-comp", "9",
               "--out", str(tmp_path / "e.png"), "--no-scores"])
    assert rc == 2 and "n_components" in capsys.readouterr().err
    rc = main(["sample", "--workspace", str(tmp_path / "nope"), "--out", str(tmp_path / "x.png")])
    assert rc == 2
