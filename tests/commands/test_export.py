"""``latentexplorer export`` run as the user runs it (a subprocess): files, exit codes and
one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from tiny_models import commit_untrained_epoch, make_store, tiny_config


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from latentexplorer.workspace import Workspace

    root = tmp_path_factory.mktemp("export")
    ws = Workspace.create(root / "ws", make_store(root / "store", n=40), tiny_config())
    commit_untrained_epoch(ws)
    ws.encode()
    return ws.path


def _export(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-m", "latentexplorer.cli", "export", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_projector_export_into_the_workspace_results(workspace):
    done = _export("--workspace", str(workspace), "--format", "projector")
    assert done.returncode == 0, done.stderr
    out = workspace / "results" / "projector"  # the default folder
    assert {"tensor.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt"} <= \
        {p.name for p in out.iterdir()}
    assert f"tensorboard --logdir {out}" in done.stdout
    assert "error" not in done.stderr


def test_parquet_export_with_a_subset_says_what_it_left_out(workspace, tmp_path):
    out = tmp_path / "table"
    done = _export("-w", str(workspace), "--format", "parquet", "--out", str(out),
                   "--max-points", "10", "--seed", "1")
    assert done.returncode == 0, done.stderr
    assert "10 of 40 points" in done.stderr and "no t-SNE/UMAP columns" in done.stderr
    assert json.loads((out / "export.json").read_text())["n_points"] == 10
    assert "embedding-atlas" in done.stdout and "--x pca_1 --y pca_2" in done.stdout


@pytest.mark.parametrize("args, needle", [
    (["--workspace", "{tmp}/nowhere", "--format", "parquet"], "nowhere: workspace folder not found"),
    (["--workspace", "{ws}", "--format", "csv"], "--format"),
    (["--workspace", "{ws}", "--format", "parquet", "--out", "{ws}/latents/table"],
     "belongs to the workspace"),
    (["--workspace", "{ws}", "--format", "parquet", "--out", "{ws}"], "not an export folder"),
    (["--workspace", "{ws}", "--format", "parquet", "--set", "missing"], "no such latent set"),
    (["--workspace", "{ws}", "--format", "projector", "--analysis", "{tmp}"], "--analysis"),
    (["--workspace", "{ws}", "--format", "parquet", "--max-points", "-1"], "--max-points"),
])
def test_bad_input_is_one_line_and_exit_2(workspace, tmp_path, args, needle):
    before = sorted(p.name for p in workspace.iterdir())
    done = _export(*(a.format(ws=workspace, tmp=tmp_path) for a in args))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and needle in lines[0], done.stderr
    assert sorted(p.name for p in workspace.iterdir()) == before  # nothing written
