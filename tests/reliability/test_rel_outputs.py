"""Outputs and inputs at their limits, through the real commands: grids never land on a workspace's
files, a command replaces only what it made, a bad commit leaves nothing, huge headers and values
name their file, stale pointers and swapped model files are refused, failed runs leave no folder."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import numpy.lib.format as npformat
import pytest

from latentexplorer import cli
from latentexplorer.errors import InvalidInputError
from latentexplorer.workspace import Workspace

from rel_helpers import assert_one_line_error, run_cli
from tiny_models import commit_untrained_epoch


def _cli(capsys, code: int, *argv, warned: bool = False) -> str:
    """Run the CLI in-process: exit ``code`` and one error line (no warning lines unless
    ``warned``: latents made by an earlier epoch are named as stale)."""
    rc = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert rc == code, err
    assert warned or ("warning:" not in err and "Warning" not in err), err
    return assert_one_line_error(err, "latentexplorer ", ": error: ")


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(folder: Path) -> list:
    return [p for p in folder.rglob("*") if p.name.endswith((".partial", ".commit"))]


# ------------------------------------------------------------------------------- F6: owned files
@pytest.mark.parametrize("name", ["checkpoint.png", "config.png", "latents/meta.png"])
def test_a_grid_never_overwrites_a_workspaces_files(ws_copy, capsys, name):
    before = _tree(ws_copy)
    line = _cli(capsys, 2, "sample", "--workspace", ws_copy, "-n", 4, "--no-scores", "--out", ws_copy / name)
    assert f"--out {ws_copy / name}" in line and f"belongs to the workspace {ws_copy}" in line
    assert _tree(ws_copy) == before
    Workspace.open(ws_copy).snapshot()


def test_a_grid_never_overwrites_a_stores_meta(ws_copy, capsys):
    store = Workspace.open(ws_copy).data_path
    meta = (store / "meta.json").read_bytes()
    line = _cli(capsys, 2, "sample", "--workspace", ws_copy, "-n", 4, "--no-scores", "--out",
                store / "meta.png")
    assert "belongs to the dataset store" in line
    assert (store / "meta.json").read_bytes() == meta and not (store / "meta.png").exists()


def test_folder_outputs_never_go_into_a_workspaces_own_folders(ws_copy, capsys):
    before = _tree(ws_copy)
    _cli(capsys, 2, "analyze", "--workspace", ws_copy, "--no-plots", "--out", ws_copy / "latents" / "an")
    _cli(capsys, 2, "sweep", "--workspace", ws_copy, "--b", "1", "-n", 2, "--no-scores", "--out",
         ws_copy / "checkpoints" / "sw")
    assert _tree(ws_copy) == before


# ------------------------------------------------------------------------------- F7: symmetric
def test_analyze_does_not_replace_a_sweep_folder(ws_copy, tmp_path, capsys):
    sweep = tmp_path / "sweep"
    assert cli.main(["sweep", "--workspace", str(ws_copy), "--b", "1", "-n", "2", "--no-scores",
                     "--out", str(sweep)]) == 0
    capsys.readouterr()
    before = _tree(sweep)
    line = _cli(capsys, 2, "analyze", "--workspace", ws_copy, "--no-plots", "--out", sweep)
    assert "is not an analysis folder" in line and "latentexplorer-sweep/1" in line
    assert _tree(sweep) == before
    # an earlier analysis is still replaced
    assert cli.main(["analyze", "--workspace", str(ws_copy), "--no-plots", "--out", str(tmp_path / "an")]) == 0
    assert cli.main(["analyze", "--workspace", str(ws_copy), "--no-plots", "--out", str(tmp_path / "an")]) == 0


# ------------------------------------------------------------------------------- F12, empty --out
def test_an_out_path_that_is_a_folder_is_refused_and_leaves_nothing(ws_copy, tmp_path, capsys):
    (tmp_path / "o" / "dir.png").mkdir(parents=True)
    line = _cli(capsys, 2, "sample", "--workspace", ws_copy, "-n", 4, "--no-scores",
                "--out", tmp_path / "o" / "dir.png")
    assert "dir.png: is a folder" in line and "Errno" not in line and ".partial" not in line
    assert cli.main(["sample", "--workspace", str(ws_copy), "-n", "4", "--no-scores",
                     "--out", str(tmp_path / "o" / "next.png")]) == 0
    assert not _leftovers(tmp_path)


def test_a_failed_sample_leaves_no_out_folder(ws_copy, tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "g.png"
    line = _cli(capsys, 2, "sample", "--workspace", ws_copy, "--method", "ellipse", "--n-comp", 9,
                "-n", 4, "--no-scores", "--out", out)
    assert "n_components" in line
    assert not (tmp_path / "new").exists()


def test_an_out_whose_parent_is_a_file_is_one_line(ws_copy, tmp_path, capsys):
    (tmp_path / "afile").write_text("mine")
    line = _cli(capsys, 2, "sample", "--workspace", ws_copy, "-n", 4, "--no-scores",
                "--out", tmp_path / "afile" / "g.png")
    assert f"{tmp_path / 'afile'}: is a file, expected a folder" in line
    assert (tmp_path / "afile").read_text() == "mine"


def test_a_lock_path_that_is_a_folder_is_one_line(ws_copy, capsys):
    (ws_copy / ".latentexplorer.lock").mkdir()
    line = _cli(capsys, 2, "encode", "--workspace", ws_copy)
    assert ".latentexplorer.lock: is a folder, expected the lock file" in line


def test_a_name_too_long_is_one_short_line(tmp_path, capsys):
    line = _cli(capsys, 2, "synth", "--out", tmp_path / ("a" * 300), "-n", 10, "--size", 16)
    assert "name too long" in line and len(line) < 600


# ------------------------------------------------------------------------------- F11: journals
def test_a_planted_journal_never_renames_a_workspaces_files(ws_copy, tmp_path, capsys):
    (ws_copy / ".x.999999.commit").write_text(json.dumps({"moves": [["config.json", "checkpoint.json"]]}))
    before = _tree(ws_copy)
    assert cli.main(["analyze", "--workspace", str(ws_copy), "--no-plots", "--out", str(tmp_path / "an")]) == 0
    assert cli.main(["sample", "--workspace", str(ws_copy), "-n", "4", "--no-scores",
                     "--out", str(tmp_path / "g.png")]) == 0
    assert _tree(ws_copy) == before
    Workspace.open(ws_copy).snapshot()


# ------------------------------------------------------------------------------- F4: fingerprints
def test_a_pointer_to_another_epochs_folder_is_refused(ws_copy, tmp_path, capsys):
    ws = Workspace.open(ws_copy)
    commit_untrained_epoch(ws, seed=3)  # epoch 2; epoch 1's folder stays (the previous one)
    cp = json.loads((ws_copy / "checkpoint.json").read_text())
    cp["model"] = "checkpoints/epoch-0001"
    (ws_copy / "checkpoint.json").write_text(json.dumps(cp))
    line = _cli(capsys, 2, "sample", "--workspace", ws_copy, "-n", 4, "--no-scores", "--out", tmp_path / "g.png",
                warned=True)
    assert "checkpoint.json: epoch 2 with weights" in line and "epoch-0001" in line
    assert not (tmp_path / "g.png").exists()


def test_a_decoder_file_of_another_epoch_is_refused(ws_copy, tmp_path, capsys):
    ws = Workspace.open(ws_copy)
    first = ws.snapshot().dir
    commit_untrained_epoch(ws, seed=3)
    second = Workspace.open(ws_copy).snapshot().dir
    shutil.copy(first / "decoder.keras", second / "decoder.keras")
    with pytest.raises(InvalidInputError, match=r"decoder.keras: its weights .* are not the ones "
                                                 r"model_config.json next to it records"):
        Workspace.open(ws_copy).load_decoder()
    line = _cli(capsys, 2, "sample", "--workspace", ws_copy, "-n", 4, "--no-scores", "--out", tmp_path / "g.png",
                warned=True)
    assert "decoder.keras" in line


# ------------------------------------------------------------------------------- F3, F19: arrays
def _z_npy(ws: Path) -> Path:
    w = Workspace.open(ws)
    return w.latents_dir / w.latent_set().meta().dir / "z.npy"


def test_a_header_promising_more_than_the_file_holds_names_the_file(ws_copy, tmp_path, capsys):
    path = _z_npy(ws_copy)
    data = np.load(path)
    with open(path, "wb") as fh:
        npformat.write_array_header_1_0(fh, {"descr": "<f4", "fortran_order": False, "shape": (10**11, 4)})
        fh.write(data.tobytes())
    line = _cli(capsys, 2, "analyze", "--workspace", ws_copy, "--no-plots", "--out", tmp_path / "an")
    assert f"{path}: its header says shape (100000000000, 4)" in line and "truncated or damaged" in line


def test_absurd_latent_values_name_the_file(ws_copy, tmp_path, capsys):
    path = _z_npy(ws_copy)
    z = np.load(path)
    np.save(path, (np.sign(z) * 3e38).astype(np.float32))
    line = _cli(capsys, 2, "analyze", "--workspace", ws_copy, "--no-plots", "--out", tmp_path / "an")
    assert f"{path}: values up to 3e+38" in line and "bin_width" not in line


def test_identical_points_with_tsne_are_refused_cleanly(tmp_path, capsys):
    np.save(tmp_path / "z.npy", np.zeros((50, 4), np.float32))
    line = _cli(capsys, 2, "analyze", "--latents", tmp_path / "z.npy", "--out", tmp_path / "an",
                "--tsne", "--no-plots")
    assert "all 50 points are identical" in line and "--tsne" in line
    assert not (tmp_path / "an").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # clean output without t-SNE: no numpy warnings either
        assert cli.main(["analyze", "--latents", str(tmp_path / "z.npy"), "--out", str(tmp_path / "an"),
                         "--kmeans", "--no-plots"]) == 0
    assert "warning" not in capsys.readouterr().err


# ------------------------------------------------------------------------------- F14, F13, F8
def test_a_store_larger_than_the_disk_is_refused_before_allocating(tmp_path):
    r = run_cli("synth", "--out", tmp_path / "s", "-n", "10000000", "--size", "2048")
    assert r.returncode == 1
    assert_one_line_error(r.stderr, "latentexplorer synth: error: ", "10,000,000 images of 2048x2048 px need",
                          "TB of disk space")
    assert list(tmp_path.iterdir()) == []


def test_every_writing_command_accepts_wait():
    parser = cli.build_parser()
    for argv in (["quickstart", "d"], ["synth", "--out", "d"], ["train", "--workspace", "w"],
                 ["encode", "--workspace", "w"], ["analyze", "--workspace", "w"],
                 ["sample", "--workspace", "w", "--out", "g.png"], ["sweep", "--workspace", "w", "--out", "d"],
                 ["prepare", "src", "--out", "d"], ["merge", "a", "b", "--out", "d"]):
        assert parser.parse_args([*argv, "--wait", "5"]).wait == 5.0


def test_quickstart_refuses_what_would_fail_late_before_any_work(tmp_path, capsys):
    line = _cli(capsys, 2, "quickstart", tmp_path / "qs", "-n", 20, "--size", 16, "--epochs", 1, "--z-dim", 64)
    assert "-n 20" in line and "at least 65 faces" in line
    assert not (tmp_path / "qs").exists()


def test_quickstart_starts_an_unfinished_run_again_but_never_a_finished_one(ws_copy, tmp_path):
    from latentexplorer.commands.quickstart import RECORD_FILE, _start_again_or_refuse

    out = tmp_path / "qs"
    out.mkdir()
    ws = Workspace.open(ws_copy)
    shutil.copytree(ws.data_path, out / "faces")
    shutil.copytree(ws_copy, out / "workspace")
    cfg = json.loads((out / "workspace" / "config.json").read_text())
    cfg["data"] = str((out / "faces").resolve())
    (out / "workspace" / "config.json").write_text(json.dumps(cfg))
    trained = Workspace.open(out / "workspace")
    (out / RECORD_FILE).write_text(json.dumps({"format": "latentexplorer-quickstart/1", "n": 64, "size": 16,
                                               "model": "ae", "z_dim": 4, "seed": 0, "epochs": 1}))
    with pytest.raises(InvalidInputError, match=r"trained by an earlier run with other settings \(--model ae "
                                                 r"--z-dim 4 --size 16\); rerun with those"):
        _start_again_or_refuse(trained, out, 0.0)
    assert (out / "workspace" / "checkpoint.json").exists()
    (out / RECORD_FILE).unlink()  # that run did not finish: its workspace is started again
    _start_again_or_refuse(trained, out, 0.0)
    assert not (out / "workspace").exists() and sorted(p.name for p in out.iterdir()) == ["faces"]
