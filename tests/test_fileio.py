"""Leftovers of killed writers are cleaned up by the next write (``remove_stale_temporaries``)."""

import os
import subprocess
import sys

import numpy as np

from latentexplorer.fileio import (atomic_directory, atomic_save_npy, remove_stale_temporaries,
                                   temp_sibling)


def _dead_pid() -> int:
    """The PID of a process that has finished (and been reaped)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_temporaries_carry_the_owner_pid(tmp_path):
    tmp = temp_sibling(tmp_path / "z.npy")
    assert tmp.name.startswith(f".z.npy.{os.getpid()}-") and tmp.name.endswith(".partial")
    with atomic_directory(tmp_path / "store") as d:
        assert d.name.startswith(f".store.{os.getpid()}-")


def test_leftovers_of_dead_processes_are_removed_live_ones_kept(tmp_path):
    dead = _dead_pid()
    stale_dir = tmp_path / f".store.{dead}-abc.partial"
    stale_dir.mkdir()
    (stale_dir / "images.npy").write_bytes(b"x" * 1000)
    stale_file = tmp_path / f".store.{dead}-xyz.partial"
    stale_file.write_bytes(b"half")
    live = tmp_path / f".store.{os.getpid()}-live.partial"   # an import running right now
    live.mkdir()
    other = tmp_path / f".storeX.{dead}-abc.partial"          # another target's leftover
    other.mkdir()
    unrelated = tmp_path / ".store.notes"
    unrelated.write_text("keep")
    removed = remove_stale_temporaries(tmp_path / "store")
    assert sorted(removed) == sorted([stale_dir, stale_file])
    assert live.exists() and other.exists() and unrelated.exists()


def test_next_build_removes_the_leftover(tmp_path):
    dead = _dead_pid()
    left = tmp_path / f".store.{dead}-k1.partial"
    left.mkdir()
    with atomic_directory(tmp_path / "store") as d:
        (d / "meta.json").write_text("{}")
    assert not left.exists() and (tmp_path / "store" / "meta.json").is_file()
    keras_left = tmp_path / f".model.keras.{dead}-k2.partial.keras"
    keras_left.write_bytes(b"zip")
    npy_left = tmp_path / f".z.npy.{dead}-k3.partial"
    npy_left.write_bytes(b"npy")
    atomic_save_npy(tmp_path / "z.npy", np.zeros(3))
    assert not npy_left.exists() and keras_left.exists()   # only z.npy's own leftovers
    remove_stale_temporaries(tmp_path / "model.keras")
    assert not keras_left.exists()


def test_a_folder_moved_aside_by_a_killed_overwrite_is_restored(tmp_path):
    """Killed between "move the old store aside" and "move the new one in": no lost work."""
    dead = _dead_pid()
    aside = tmp_path / f".store.old-{dead}"
    aside.mkdir()
    (aside / "meta.json").write_text('{"old": true}')
    remove_stale_temporaries(tmp_path / "store")
    assert (tmp_path / "store" / "meta.json").read_text() == '{"old": true}'
    assert not aside.exists()
    # when the new folder did arrive, the old copy is just deleted
    aside.mkdir()
    remove_stale_temporaries(tmp_path / "store")
    assert not aside.exists() and (tmp_path / "store" / "meta.json").is_file()
