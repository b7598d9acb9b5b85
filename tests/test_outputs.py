"""The one output check: nothing is written onto a workspace's or store's own files, a derived
sidecar never replaces a file that is not one, and impossible paths are one clear line."""

from __future__ import annotations

import json

import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.fileio import os_error
from latentexplorer.locks import folder_lock, output_lock
from latentexplorer.outputs import check_output, owner_of
from latentexplorer.render.images import check_grid_output


@pytest.fixture
def ws(tmp_path):
    """The files that make a folder a (trained) workspace; contents do not matter here."""
    ws = tmp_path / "ws"
    for sub in ("checkpoints/epoch-0001", "latents/v-0001", "results"):
        (ws / sub).mkdir(parents=True)
    (ws / "config.json").write_text("{}")
    (ws / "checkpoint.json").write_text("{}")
    (ws / "latents" / "meta.json").write_text("{}")
    return ws


@pytest.fixture
def store(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    (store / "meta.json").write_text("{}")
    (store / "images.npy").write_bytes(b"")
    return store


@pytest.mark.parametrize("name", ["checkpoint.png", "config.png", "gui_state.png", "latents/meta.png",
                                  "latents/v-0001/z.png", "checkpoints/epoch-0001/x.png",
                                  "latent_sets/held/x.png"])
def test_grids_never_land_on_a_workspaces_files(ws, name):
    with pytest.raises(InvalidInputError, match=f"belongs to the workspace {ws}"):
        check_grid_output(ws / name)


@pytest.mark.parametrize("name", ["meta.png", "images.png", "sub/x.png"])
def test_grids_never_land_in_a_store(store, name):
    with pytest.raises(InvalidInputError, match=f"belongs to the dataset store {store}"):
        check_grid_output(store / name)


def test_a_workspaces_results_and_other_folders_are_free(ws, tmp_path):
    for path in (ws / "results" / "g.png", ws / "g.png", tmp_path / "elsewhere" / "g.png"):
        assert check_grid_output(path) == path
    assert owner_of(ws / "results" / "analysis") is None
    assert owner_of(ws) is None  # the folder outputs that replace a workspace check that themselves


def test_folder_outputs_are_checked_where_their_lock_is_made(ws, store):
    for target in (ws / "latents" / "analysis", ws / "checkpoints", store / "sweep"):
        with pytest.raises(InvalidInputError, match="belongs to the"):
            output_lock(target)


def test_a_sidecar_replaces_only_an_earlier_sidecar(tmp_path):
    (tmp_path / "notes.json").write_text('{"mine": 1}')
    with pytest.raises(InvalidInputError, match=r"notes.json exists and is not a file this command wrote"):
        check_grid_output(tmp_path / "notes.png")
    (tmp_path / "old.json").write_text(json.dumps({"format": "latentexplorer-grid/1"}))
    check_grid_output(tmp_path / "old.png")


def test_impossible_paths_are_one_line(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "dir.png").mkdir()
    cases = [(tmp_path / "afile" / "g.png", "afile: is a file, expected a folder"),
             (tmp_path / "dir.png", "dir.png: is a folder, expected a file name"),
             (tmp_path / ("a" * 300 + ".png"), "name too long"),
             (tmp_path / ("b" * 230 + ".png"), "at most 207 bytes for the output's name")]
    for path, needle in cases:
        with pytest.raises(InvalidInputError) as info:
            check_grid_output(path)
        assert needle in str(info.value) and "\n" not in str(info.value)
        assert len(str(info.value)) < 600  # a long name is shortened in the middle


def test_raw_os_errors_become_one_readable_line(tmp_path):
    import errno

    (tmp_path / "afile").write_text("x")
    cases = [(OSError(errno.EISDIR, "Is a directory", "x"), tmp_path / "g", "g: is a folder, expected a file"),
             (OSError(errno.ENAMETOOLONG, "File name too long"), tmp_path / ("c" * 5000), "name too long"),
             (FileExistsError(errno.EEXIST, "File exists"), tmp_path / "afile" / "lock",
              "afile: is a file, expected a folder")]
    for exc, path, needle in cases:
        err = os_error(exc, path)
        assert isinstance(err, InvalidInputError) and needle in str(err) and "Errno" not in str(err)


def test_a_lock_path_that_is_a_folder_or_runs_through_a_file(tmp_path):
    (tmp_path / ".latentexplorer.lock").mkdir()
    with pytest.raises(InvalidInputError, match=r"\.latentexplorer\.lock: is a folder, expected the lock file"):
        folder_lock(tmp_path).acquire()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InvalidInputError, match=r"afile: is a file, expected a folder"):
        folder_lock(tmp_path / "afile").acquire()


def test_a_lock_removes_the_empty_folders_it_made(tmp_path):
    lock = folder_lock(tmp_path / "new" / "deeper").acquire()
    lock.release()
    assert not (tmp_path / "new").exists()  # a failed command leaves no empty --out folder
    lock = folder_lock(tmp_path / "kept").acquire()
    (tmp_path / "kept" / "grid.png").write_bytes(b"written")
    lock.release()
    assert (tmp_path / "kept" / "grid.png").exists()
    assert check_output(tmp_path / "kept", kind="folder") == tmp_path / "kept"
