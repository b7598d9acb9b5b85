"""The central finding on real faces, end to end through the CLI (opt-in: ``pytest -m slow``).

2,000 CelebA crops at 48 px, an AE trained for 3 epochs, then naive vectors against the ellipse
method, judged by the independent face detector. Skips without ``../shared/data``. The fast suite
shows the same pipeline on synthetic faces; this one shows it holds on photos.
"""

from __future__ import annotations

import json

import pytest

from latentexplorer.cli import main

pytestmark = pytest.mark.slow


def test_ellipse_samples_are_faces_where_naive_vectors_are_not(shared_data, tmp_path):
    store, ws = tmp_path / "store", tmp_path / "ws"
    assert main(["prepare", str(shared_data / "celeba_crops"), "--out", str(store),
                 "--preset", "center", "--size", "48", "--limit", "2000"]) == 0
    assert main(["train", "--data", str(store), "--workspace", str(ws), "--z-dim", "64",
                 "--epochs", "3", "--batch-size", "64"]) == 0
    assert main(["encode", "--workspace", str(ws)]) == 0
    rates = {}
    for name, args in (("uniform", ["--method", "uniform", "--b", "1.5"]),
                       ("ellipse", ["--method", "ellipse", "--n-comp", "32", "--fact", "0.7"])):
        out = tmp_path / f"{name}.png"
        assert main(["sample", "--workspace", str(ws), *args, "-n", "60", "--out", str(out)]) == 0
        board = json.loads(out.with_suffix(".json").read_text())["scores"]["scoreboard"]
        rates[name] = board["mtcnn"]["rate"]
    assert rates["ellipse"] >= 0.6 and rates["uniform"] <= 0.3, rates
    assert main(["reconstruct", "--workspace", str(ws), "-n", "40", "--out",
                 str(tmp_path / "rec.png")]) == 0
