"""File groups: only journals that atomic_files wrote are ever acted on; a failed commit leaves
nothing behind; readers complete a commit only under the folder's lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.fileio import atomic_files, recover
from latentexplorer.locks import folder_lock


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".partial", ".commit")))


def _interrupted_commit(folder, pid: int) -> None:
    """What a writer killed between its journal and its renames leaves: staged files + journal."""
    (folder / "g.png").write_bytes(b"old png")
    (folder / "g.json").write_text('{"old": true}')
    (folder / f".g.png.{pid}-abcd1234.partial").write_bytes(b"new png")
    (folder / f".g.json.{pid}-efgh5678.partial").write_text('{"new": true}')
    (folder / f".g.png.{pid}.commit").write_text(json.dumps({"moves": [
        [f".g.png.{pid}-abcd1234.partial", "g.png"], [f".g.json.{pid}-efgh5678.partial", "g.json"]]}))


@pytest.mark.parametrize("moves", [
    [["config.json", "checkpoint.json"]],                          # user files: the reported attack
    [[".config.json.{pid}-abcd1234.partial", "checkpoint.json"]],  # a temporary of another target
    [[".x.{pid}-abcd1234.partial", "../x"]],                       # a target outside the folder
    [[".x.1-abcd1234.partial", "x"]],                              # another process's temporary
    "not a list",
])
def test_a_journal_that_atomic_files_did_not_write_renames_nothing(tmp_path, moves):
    pid = _dead_pid()
    (tmp_path / "config.json").write_text("config")
    (tmp_path / "checkpoint.json").write_text("checkpoint")
    (tmp_path / f".config.json.{pid}-abcd1234.partial").write_text("staged elsewhere")
    (tmp_path / f".x.{pid}-abcd1234.partial").write_text("x")
    text = json.dumps({"moves": moves}).replace("{pid}", str(pid))
    journal = tmp_path / f".x.{pid}.commit"
    journal.write_text(text)
    recover(tmp_path)                 # as a writer
    recover(tmp_path, reader=True)    # as a reader
    assert (tmp_path / "config.json").read_text() == "config"
    assert (tmp_path / "checkpoint.json").read_text() == "checkpoint"
    assert not (tmp_path.parent / "x").exists() and not (tmp_path / "x").exists()
    assert journal.read_text() == text  # left alone


def test_a_valid_journal_of_a_dead_writer_is_completed(tmp_path):
    pid = _dead_pid()
    _interrupted_commit(tmp_path, pid)
    recover(tmp_path)
    assert (tmp_path / "g.png").read_bytes() == b"new png"
    assert json.loads((tmp_path / "g.json").read_text()) == {"new": True}
    assert _leftovers(tmp_path) == []


def test_a_reader_completes_a_commit_only_under_the_folder_lock(tmp_path):
    pid = _dead_pid()
    lock = folder_lock(tmp_path).acquire()  # a writer is busy in this folder (it recovers itself)
    _interrupted_commit(tmp_path, pid)
    try:
        recover(tmp_path, reader=True)
        assert (tmp_path / "g.png").read_bytes() == b"old png"  # not behind the writer's back
    finally:
        lock.release()
    recover(tmp_path, reader=True)  # the lock is free: the reader takes it and completes
    assert (tmp_path / "g.png").read_bytes() == b"new png"
    assert _leftovers(tmp_path) == [] and not (tmp_path / ".latentexplorer.lock").exists()


def test_a_target_that_is_a_folder_is_refused_and_leaves_nothing(tmp_path):
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(InvalidInputError, match=r"dir.png: is a folder; expected a file"):
        with atomic_files(tmp_path / "dir.png", tmp_path / "dir.json") as (a, b):
            a.write_bytes(b"png")
            b.write_text("{}")
    assert _leftovers(tmp_path) == [] and not (tmp_path / "dir.json").exists()


def test_a_rename_that_fails_after_the_commit_removes_journal_and_temporaries(tmp_path, monkeypatch):
    """A rename fails after the journal was written (the target turned into a folder meanwhile):
    nobody can complete that commit, so nothing of it may stay (no journal replayed forever)."""
    import errno

    from latentexplorer import fileio

    real = fileio.replace

    def replace(src, dst):
        if os.path.basename(dst) == "g.json":
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(src), None, str(dst))
        real(src, dst)

    monkeypatch.setattr(fileio, "replace", replace)
    with pytest.raises(InvalidInputError, match=r"g.json: is a folder"):
        with atomic_files(tmp_path / "g.png", tmp_path / "g.json") as (a, b):
            a.write_bytes(b"png")
            b.write_text("{}")
    assert _leftovers(tmp_path) == []
