"""Bookmarks: capture → save → reload → apply, damaged files, two writers, a kill at every write.

The store tests run on a plain folder (z_dim 4, 32 points); the workspace tests on a tiny workspace
with an untrained committed epoch and encoded latents (no training: built in a second).
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import shutil
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

from latentexplorer.errors import InvalidInputError, LockedError, WriteFailedError
from latentexplorer.explore import compute_analysis
from latentexplorer.explore.bookmarks import (BOOKMARKS_FILE, Bookmark, BookmarkStore, apply, capture,
                                              read_bookmarks, workspace_decoder_fingerprint)
from latentexplorer.explore.generate import GeneratorSpec
from latentexplorer.explore.model import ExplorationModel
from latentexplorer.explore.plane import Plane

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
from rel_helpers import assert_one_line_error, run_cli, run_cli_killed_at  # noqa: E402

Z_DIM, N = 4, 32
FP = "abcd1234abcd1234"


def _z(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(N, Z_DIM)).astype(np.float32)


def _model(analysis: bool = True) -> ExplorationModel:
    m = ExplorationModel()
    m.set_data(_z())
    if analysis:
        m.set_analysis(compute_analysis(m.z))
    return m


def _explored(model: ExplorationModel) -> ExplorationModel:
    """A model moved away from its defaults in every recorded respect."""
    model.set_plane(("pca", 1, 2))
    model.set_plane_point(0.7, -0.4)
    model.set_path([[0.0, 0.0], [1.0, 0.5], [2.0, -1.0]])
    model.set_selection([3, 1, 17, 30])
    model.set_sigma_level(2.0)
    model.set_fact(0.5)
    model.set_sharpen(1.5)
    return model


def _store(folder: Path, **kw) -> BookmarkStore:
    return BookmarkStore(folder, z_dim=Z_DIM, n_points=N, decoder_fingerprint=FP, **kw)


def _state(m: ExplorationModel) -> dict:
    return {"plane": m.plane, "current": m.current.vector.tolist(), "index": m.current.index,
            "path": None if m.path is None else m.path.to_dict(), "selection": m.selection.tolist(),
            "sliders": (m.sigma_level, m.fact, m.sharpen)}


# ------------------------------------------------------------------------------ round trip
def test_capture_save_reload_apply_gives_the_same_state(tmp_path):
    m = _explored(_model())
    spec = GeneratorSpec.of("ellipse", n=12, seed=7, z_dim=Z_DIM)
    _store(tmp_path).add(capture(m, "smile", generator=spec, decoder_fingerprint=FP))

    again = _store(tmp_path).get("smile")  # a new store reads the file
    fresh = _model()
    assert _state(fresh) != _state(m)
    assert apply(again, fresh) == []
    assert _state(fresh) == _state(m)
    assert again.generator_spec() == spec
    assert again.decoder_fingerprint == FP and not again.decoder_mismatch


def test_a_pca_plane_waits_for_the_pca_and_a_direction_path_round_trips(tmp_path):
    m = _model()
    m.set_plane(("pca", 0, 3))
    m.select_point(5)
    m.set_direction_path("smile", np.array([1.0, 2.0, 0.0, -1.0]), -2.0, 3.0)
    _store(tmp_path).add(capture(m, "along"))
    fresh = _model(analysis=False)  # the PCA is still being computed
    apply(_store(tmp_path).get("along"), fresh)
    assert fresh.plane.kind == "latent" and fresh.current.index == 5
    assert fresh.path.name == "smile" and np.allclose(fresh.path.unit, m.path.unit)
    fresh.set_analysis(compute_analysis(fresh.z))
    assert fresh.plane == Plane("pca", 0, 3)


def test_list_rename_delete_export_import(tmp_path):
    ws, other = tmp_path / "ws", tmp_path / "other"
    store = _store(ws)
    m = _model()
    for name in ("a", "b", "c"):
        m.select_point("abc".index(name))
        store.add(capture(m, name))
    with pytest.raises(InvalidInputError, match="named 'a' exists"):
        store.add(capture(m, "a"))
    store.rename("b", "  bee ")
    store.delete("c")
    assert store.names() == ["a", "bee"]
    out = store.export(tmp_path / "out" / "one.json", ["bee"])
    assert [bm.name for bm in out] == ["bee"]
    store.export(tmp_path / "all.json")

    target = _store(other)
    target.add(capture(m, "a"))
    stored = target.import_file(tmp_path / "all.json")
    assert [bm.name for bm in stored] == ["a (2)", "bee"]  # a taken name gets a suffix
    assert target.names() == ["a", "a (2)", "bee"]
    assert target.get("a (2)").current == store.get("a").current
    target.import_file(tmp_path / "out" / "one.json", replace=True)
    assert target.names() == ["a", "a (2)", "bee"]
    with pytest.raises(InvalidInputError, match="own bookmark file"):
        store.export(ws / BOOKMARKS_FILE)


def test_a_bookmark_of_another_decoder_is_imported_flagged(tmp_path):
    m = _model()
    _store(tmp_path / "a").add(capture(m, "old", decoder_fingerprint="0123456789abcdef"))
    _store(tmp_path / "a").export(tmp_path / "x.json")
    (bm,) = _store(tmp_path / "b").import_file(tmp_path / "x.json")
    assert bm.decoder_mismatch and "another decoder" in bm.summary()
    assert _store(tmp_path / "b").get("old").decoder_mismatch


# ------------------------------------------------------------------------------ damaged files
def _valid(tmp_path: Path) -> dict:
    m = _explored(_model())
    _store(tmp_path / "src").add(capture(m, "good", generator=GeneratorSpec.of("uniform", n=4),
                                         decoder_fingerprint=FP))
    return json.loads((tmp_path / "src" / BOOKMARKS_FILE).read_text())


def _bookmark_edit(key, value):
    def edit(d):
        d["bookmarks"][0][key] = value
    return edit


DAMAGE = {
    "truncated": ("text", lambda t: t[:len(t) // 2], "not valid JSON"),
    "binary": ("text", lambda t: "\x00\xff garbage", "not valid JSON"),
    "a list": ("json", lambda d: [d], "expected"),
    "wrong format": ("json", lambda d: d.update(format="latentexplorer-grid/1"), "format"),
    "string vector": ("json", _bookmark_edit("current", "1,2,3,4"), "current"),
    "string z_dim": ("json", _bookmark_edit("z_dim", "4"), "z_dim"),
    "boolean index": ("json", _bookmark_edit("current_index", True), "current_index"),
    "axis out of range": ("json", _bookmark_edit("plane", ["latent", 0, 9]), "axes 0, 9"),
    "equal axes": ("json", _bookmark_edit("plane", ["pca", 2, 2]), "must differ"),
    "unknown plane": ("json", _bookmark_edit("plane", ["tsne", 0, 1]), "plane"),
    "NaN vector": ("text", lambda t: t.replace('"current":[', '"current":[NaN,', 1), "current[0]"),
    "NaN via edit": ("json", _bookmark_edit("current", [0.1, float("inf"), 0.0, 0.0]), "current[1]"),
    "short vector": ("json", _bookmark_edit("current", [0.1, 0.2, 0.3]), "3 values, expected z_dim"),
    "huge vector": ("json", _bookmark_edit("current", [0.0] * 70_000), "current"),
    "huge path": ("json", _bookmark_edit("path", {"kind": "plane", "plane": ["latent", 0, 1],
                                                  "points": [[0.0, 0.0]] * 100_001}), "path"),
    "path point of 3": ("json", _bookmark_edit("path", {"kind": "plane", "plane": ["latent", 0, 1],
                                                        "points": [[0.0, 0.0, 1.0]]}), "points[0]"),
    "index beyond the points": ("json", _bookmark_edit("selection", [1, 2, 10**9]), "not among the 32"),
    "negative index": ("json", _bookmark_edit("selection", [-1, 2]), "selection[0]"),
    "unsorted selection": ("json", _bookmark_edit("selection", [5, 2]), "increasing"),
    "unknown generator setting": ("json", _bookmark_edit("generator", {"method": "uniform",
                                  "params": {"bee": 1.0}, "n": 4, "seed": 0}), "bee"),
    "unknown key": ("json", _bookmark_edit("colour", "red"), "unknown entry"),
    "two of one name": ("json", lambda d: d["bookmarks"].append(d["bookmarks"][0]), "used twice"),
    "bad fingerprint": ("json", _bookmark_edit("decoder_fingerprint", "not-hex"), "fingerprint"),
}

#: what depends on the workspace's points: refused on import, warned about when applied
CHECKED_ON_IMPORT_AND_APPLY = {"index beyond the points"}


def _damaged(tmp_path: Path, case: str) -> bytes:
    kind, edit, _needle = DAMAGE[case]
    data = _valid(tmp_path)
    if kind == "text":
        return edit(json.dumps(data, separators=(",", ":"))).encode("utf-8", "surrogateescape")
    out = edit(data)
    return json.dumps(data if out is None else out).encode()


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_import_file_is_one_error_naming_it_and_changes_nothing(tmp_path, case):
    bad = tmp_path / "bad.json"
    bad.write_bytes(_damaged(tmp_path, case))
    store = _store(tmp_path / "ws")
    store.add(capture(_model(), "mine"))
    before = store.path.read_bytes()
    with pytest.raises(InvalidInputError) as err:
        store.import_file(bad)
    message = str(err.value)
    assert message.startswith(str(bad)) and "\n" not in message, message
    assert DAMAGE[case][2] in message, message
    assert store.path.read_bytes() == before


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_workspace_file_is_never_overwritten(tmp_path, case):
    store = _store(tmp_path / "ws")
    store.folder.mkdir()
    store.path.write_bytes(_damaged(tmp_path, case))
    before = store.path.read_bytes()
    if case in CHECKED_ON_IMPORT_AND_APPLY:  # the points may have been encoded again since
        assert store.names() == ["good"]
        return
    for action in (store.bookmarks, lambda: store.add(capture(_model(), "new")),
                   lambda: store.delete("good"), lambda: store.rename("good", "better")):
        with pytest.raises(InvalidInputError) as err:
            action()
        assert str(err.value).startswith(str(store.path)) and "nothing was changed" in str(err.value)
    assert store.path.read_bytes() == before


def test_a_file_bigger_than_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    import latentexplorer.explore.bookmarks as bookmarks

    monkeypatch.setattr(bookmarks, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_text(json.dumps(_valid(tmp_path)) + " " * 2000)
    with pytest.raises(InvalidInputError, match=r"big\.json: .*bytes, more than the 1,000"):
        read_bookmarks(big)


def test_applying_a_bookmark_of_other_points_keeps_what_fits():
    m = _explored(_model())
    bm = capture(m, "wide")
    small = ExplorationModel()
    small.set_data(_z()[:10])
    warnings = apply(bm, small)
    assert warnings and "not among the 10 points" in warnings[0]
    assert np.array_equal(small.current.vector, m.current.vector)
    with pytest.raises(InvalidInputError, match="z_dim 4"):
        other = ExplorationModel()
        other.set_data(np.zeros((5, 3), np.float32))
        apply(bm, other)


# ------------------------------------------------------------------------------ writers
# what each writer process runs (spawned, not forked: the test process may hold TensorFlow's
# threads; ``exec`` of a text is what a spawned child can unpickle, a test-module function is not)
_ADD_MANY = """
from latentexplorer.explore.bookmarks import Bookmark, BookmarkStore
store = BookmarkStore(FOLDER, z_dim=4, n_points=32, wait=60)
for k in range(15):
    store.add(Bookmark(name=f"{TAG}-{k}", z_dim=4, plane=("latent", 0, 1), current=[float(k)] * 4))
"""


def test_two_writer_processes_never_lose_a_bookmark(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=exec, args=(_ADD_MANY, {"FOLDER": str(tmp_path), "TAG": tag}))
             for tag in ("left", "right")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    names = _store(tmp_path).names()
    assert sorted(names) == sorted(f"{t}-{k}" for t in ("left", "right") for k in range(15))


def test_a_held_lock_stops_a_writer_and_changes_nothing(tmp_path):
    store = _store(tmp_path, wait=0.2)
    store.add(capture(_model(), "one"))
    before = store.path.read_bytes()
    with store.lock().acquire():
        with pytest.raises(LockedError, match="bookmarks"):
            store.add(capture(_model(), "two"))
    assert store.path.read_bytes() == before
    store.add(capture(_model(), "two"))
    assert store.names() == ["one", "two"]


def test_a_refused_write_at_every_rename_keeps_the_old_file(tmp_path, monkeypatch):
    """The disk refuses (ENOSPC) the k-th rename of an add, for every k: one error naming the file,
    the old list intact, no temporaries, and the next add works."""
    import latentexplorer.fileio as fileio

    real = fileio.replace
    calls: list[str] = []

    def counting(src, dst):
        calls.append(str(dst))
        if len(calls) == fail_at:
            raise OSError(errno.ENOSPC, "No space left on device", str(src))
        return real(src, dst)

    monkeypatch.setattr(fileio, "replace", counting)
    fail_at = 0
    store = _store(tmp_path)
    store.add(capture(_model(), "one"))
    renames = len(calls)
    assert renames >= 2 and calls[-1] == str(store.path)  # the lock's note, then the commit
    before = store.path.read_bytes()
    for k in range(1, renames + 1):
        calls.clear()
        fail_at = k
        with pytest.raises(WriteFailedError, match=r"cannot write \S+: No space left"):
            store.add(capture(_model(), "two"))
        assert store.path.read_bytes() == before, k
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == [], k
    fail_at = 0
    store.add(capture(_model(), "two"))
    assert store.names() == ["one", "two"]


# ------------------------------------------------------------------------------ a workspace
@pytest.fixture(scope="module")
def bm_ws(tmp_path_factory) -> Path:
    """A workspace with an untrained committed epoch and latents of its 32 images (no training)."""
    from tiny_models import commit_untrained_epoch, make_store, tiny_config

    from latentexplorer.workspace import Workspace

    root = tmp_path_factory.mktemp("bmws")
    ws = Workspace.create(root / "ws", make_store(root / "store", n=N), tiny_config())
    commit_untrained_epoch(ws)
    ws.write_latents(_z())
    return ws.path


@pytest.fixture
def ws_dir(bm_ws, tmp_path) -> Path:
    dst = tmp_path / "ws"
    shutil.copytree(bm_ws, dst)
    return dst


def _export_file(tmp_path: Path, fingerprint: str | None = FP) -> Path:
    folder = tmp_path / "exported"
    _store(folder).add(capture(_explored(_model()), "smile", decoder_fingerprint=fingerprint))
    _store(folder).add(capture(_model(), "plain", decoder_fingerprint=fingerprint))
    return folder / BOOKMARKS_FILE


def test_the_workspace_store_knows_its_points_and_decoder(ws_dir, tmp_path):
    from latentexplorer.workspace import Workspace

    ws = Workspace.open(ws_dir)
    store = BookmarkStore.for_workspace(ws)
    assert (store.z_dim, store.n_points) == (Z_DIM, N)
    assert store.decoder_fingerprint == workspace_decoder_fingerprint(ws) is not None
    stored = store.import_file(_export_file(tmp_path))
    assert [bm.decoder_mismatch for bm in stored] == [True, True]
    same = _export_file(tmp_path / "same", store.decoder_fingerprint)
    assert not any(bm.decoder_mismatch for bm in store.import_file(same))


def test_cli_list_export_import_and_errors(ws_dir, tmp_path):
    src = _export_file(tmp_path)
    r = run_cli("bookmarks", "--workspace", ws_dir, "import", src)
    assert r.returncode == 0, r.stderr
    assert "2 imported" in r.stdout and r.stderr.count("warning: ") == 2  # another decoder
    r = run_cli("bookmarks", "--workspace", ws_dir, "list")
    assert r.returncode == 0 and r.stdout.splitlines()[0].startswith("smile: PCA plane 2,3"), r.stdout
    out = tmp_path / "one.json"
    r = run_cli("bookmarks", "--workspace", ws_dir, "export", "--out", out, "--name", "plain")
    assert r.returncode == 0 and [bm.name for bm in read_bookmarks(out)] == ["plain"]

    garbled = ws_dir / BOOKMARKS_FILE
    garbled.write_bytes(garbled.read_bytes()[:-40])
    for args in (["list"], ["import", src], ["delete", "plain"]):
        r = run_cli("bookmarks", "--workspace", ws_dir, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert_one_line_error(r.stderr, str(garbled), "not valid JSON")
    r = run_cli("bookmarks", "--workspace", ws_dir, "import", tmp_path / "missing.json")
    assert r.returncode == 2
    assert_one_line_error(r.stderr, "missing.json", "not found")


def test_cli_waits_for_or_reports_the_lock_holder(ws_dir, tmp_path):
    store = BookmarkStore(ws_dir, z_dim=Z_DIM)
    with store.lock().acquire():
        r = run_cli("bookmarks", "--workspace", ws_dir, "import", _export_file(tmp_path))
    assert r.returncode == 1
    assert_one_line_error(r.stderr, "bookmarks", "being written by process")


def test_a_kill_at_every_rename_leaves_the_old_or_the_new_file(ws_dir, tmp_path):
    src = _export_file(tmp_path)
    BookmarkStore(ws_dir, z_dim=Z_DIM).add(capture(_model(), "before"))
    trace, new = tmp_path / "trace.txt", tmp_path / "new"
    shutil.copytree(ws_dir, new)
    r = run_cli_killed_at(0, "bookmarks", "--workspace", new, "import", src, trace=trace)
    assert r.returncode == 0, r.stderr
    renames = len(trace.read_text().splitlines())
    assert renames >= 2  # the lock holder's note and the commit
    old_names = ["before"]
    new_names = BookmarkStore(new, z_dim=Z_DIM).names()
    assert new_names == ["before", "smile", "plain"]
    for k in range(1, renames + 1):
        work = tmp_path / f"k{k}"
        shutil.copytree(ws_dir, work)
        r = run_cli_killed_at(k, "bookmarks", "--workspace", work, "import", src)
        assert r.returncode == -signal.SIGKILL, (k, r.stderr)
        store = BookmarkStore(work, z_dim=Z_DIM, wait=5)
        assert store.names() in (old_names, new_names), k
        store.add(capture(_model(), "after"))  # the killed writer's lock is free again
        assert store.names()[-1] == "after"
        left = [p.name for p in work.iterdir() if p.name.endswith(".partial")]
        assert left == [], (k, left)


def test_bookmark_names_are_checked():
    m = _model()
    for bad in ("", "   ", "a\nb", "x" * 129):
        with pytest.raises(InvalidInputError, match="bookmark"):
            capture(m, bad)
    with pytest.raises(InvalidInputError, match="no current z-vector"):
        capture(ExplorationModel(), "empty")
    assert isinstance(capture(m, " spaced "), Bookmark) and capture(m, " spaced ").name == "spaced"
