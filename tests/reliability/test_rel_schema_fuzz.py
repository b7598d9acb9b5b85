"""Every file the tool reads, corrupted by hypothesis: the reader either accepts it (it is valid) or
refuses it with one InvalidInputError line naming the file — never another exception.

JSON files get a field replaced by any JSON value, a field deleted, an unknown field added, another
top level, truncated text or random bytes; arrays get other dtypes (strings, structures, pickled
objects, complex), shapes, NaN / infinity and Fortran order.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latentexplorer.data.store import DatasetStore
from latentexplorer.errors import InvalidInputError
from latentexplorer.workspace import Workspace

FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=6))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


def _paths(doc, prefix=()):
    """Every location inside a JSON document (as key/index tuples)."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            yield from _paths(v, prefix + (i,))


@st.composite
def corrupted(draw, valid) -> bytes:
    """The bytes of ``valid`` (a JSON document) with one corruption."""
    kind = draw(st.sampled_from(["replace", "replace", "delete", "add", "top", "truncate", "bytes"]))
    doc = json.loads(json.dumps(valid))
    if kind == "bytes":
        return draw(st.binary(max_size=40))
    if kind == "top":
        doc = draw(JSON_VALUES)
    elif kind in ("replace", "delete"):
        path = draw(st.sampled_from([p for p in _paths(doc) if p]))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if kind == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    elif kind == "add" and isinstance(doc, dict):
        doc[draw(st.text(min_size=1, max_size=6))] = draw(JSON_VALUES)
    text = json.dumps(doc)
    if kind == "truncate":
        text = text[:draw(st.integers(0, max(0, len(text) - 1)))]
    return text.encode()


def _refused_or_fine(read, path: Path) -> None:
    try:
        read()
    except InvalidInputError as exc:
        msg = str(exc)
        assert "\n" not in msg and path.name in msg, msg


@pytest.fixture(scope="module")
def base(tmp_path_factory, rel_ws):
    """A trained workspace and its store, with a grid, a sweep summary and a GUI state."""
    from latentexplorer.cli import main

    root = tmp_path_factory.mktemp("fuzz")
    ws_dir = root / "ws"
    shutil.copytree(rel_ws, ws_dir)
    assert main(["sample", "--workspace", str(ws_dir), "-n", "3", "--no-scores", "--out",
                 str(ws_dir / "results" / "g.png")]) == 0
    assert main(["sweep", "--workspace", str(ws_dir), "-n", "2", "--b", "1", "--no-scores", "--out",
                 str(ws_dir / "results" / "sweep")]) == 0
    Workspace.open(ws_dir).write_gui_state({"plane": ["pca", 0, 1], "sigma_level": 2.0})
    store = Path(json.loads((ws_dir / "config.json").read_text())["data"])
    return ws_dir, store


def _workspace_files(ws_dir: Path) -> dict:
    """{file name: (path relative to the workspace, reader)} for the workspace's JSON files."""
    ws = Workspace.open(ws_dir)
    snap = ws.snapshot().dir.relative_to(ws_dir)

    def open_all(w: Path):
        ws = Workspace.open(w)
        ws.snapshot()
        ws.history()
        ws.latents()
        ws.staleness()
        return ws

    def sidecar(w: Path):
        from latentexplorer.render.images import load_sidecar

        load_sidecar(w / "results" / "g.json")

    def sweep(w: Path):
        from latentexplorer.inputs import read_json
        from latentexplorer.schemas import SweepSummary

        read_json(w / "results" / "sweep" / "summary.json", SweepSummary)

    return {"config": (Path("config.json"), open_all),
            "checkpoint": (Path("checkpoint.json"), open_all),
            "history": (snap / "history.json", open_all),
            "model_config": (snap / "model_config.json", lambda w: Workspace.open(w).load_decoder()),
            "latents_meta": (Path("latents") / "meta.json", open_all),
            "grid_sidecar": (Path("results") / "g.json", sidecar),
            "sweep_summary": (Path("results") / "sweep" / "summary.json", sweep)}


@pytest.mark.parametrize("name", ["config", "checkpoint", "history", "model_config", "latents_meta",
                                  "grid_sidecar", "sweep_summary"])
def test_corrupt_workspace_json(base, name):
    ws_dir, _ = base
    rel, read = _workspace_files(ws_dir)[name]
    valid = json.loads((ws_dir / rel).read_text())

    @FUZZ
    @given(data=corrupted(valid))
    def run(data):
        work = Path(tempfile.mkdtemp()) / "ws"
        try:
            shutil.copytree(ws_dir, work)
            (work / rel).write_bytes(data)
            _refused_or_fine(lambda: read(work), work / rel)
        finally:
            shutil.rmtree(work.parent)

    run()


@pytest.mark.parametrize("name", ["meta.json", "filenames.json", "attribute_names.json"])
def test_corrupt_store_json(base, name):
    _, store = base
    valid = json.loads((store / name).read_text())

    @FUZZ
    @given(data=corrupted(valid))
    def run(data):
        work = Path(tempfile.mkdtemp()) / "store"
        try:
            shutil.copytree(store, work)
            (work / name).write_bytes(data)
            _refused_or_fine(lambda: DatasetStore.open(work), work / name)
        finally:
            shutil.rmtree(work.parent)

    run()


def test_corrupt_gui_state_is_never_an_error(base):
    ws_dir, _ = base
    valid = json.loads((ws_dir / "gui_state.json").read_text())

    @FUZZ
    @given(data=corrupted(valid))
    def run(data):
        (ws_dir / "gui_state.json").write_bytes(data)
        state = Workspace.open(ws_dir).read_gui_state()
        assert isinstance(state, dict)  # the valid entries, or nothing

    run()


# ------------------------------------------------------------------------------- arrays
DTYPES = ["<f4", "<f8", "<f2", "<i4", "|u1", "|b1", "<c8", "<U3", "|S2", "[('a', '<f4')]", "object"]


@st.composite
def arrays(draw, good_shape):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.sampled_from([good_shape, good_shape[:-1], (0,) + good_shape[1:],
                                  good_shape[:1] + (1,) * (len(good_shape) - 1), good_shape + (1,), ()]))
    dt = np.dtype(eval(dtype)) if dtype.startswith("[") else np.dtype(dtype)
    if dt.kind == "O":
        arr = np.empty(shape, dtype=object)
    else:
        arr = np.zeros(shape, dtype=dt)
    if dt.kind == "f" and arr.size:
        arr.flat[draw(st.integers(0, arr.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1.0]))
    if draw(st.booleans()) and arr.ndim > 1:
        arr = np.asfortranarray(arr)
    return arr


@pytest.mark.parametrize("target", ["latents", "images", "attributes"])
def test_corrupt_arrays(base, target):
    ws_dir, store = base
    ws = Workspace.open(ws_dir)
    z_rel = Path("latents") / ws.latent_set().meta().dir / "z.npy"
    good = {"latents": (64, 4), "images": (64, 16, 16, 3), "attributes": (64, 1)}[target]

    @FUZZ
    @given(arr=arrays(good))
    def run(arr):
        tmp = Path(tempfile.mkdtemp())
        try:
            if target == "latents":
                work = tmp / "ws"
                shutil.copytree(ws_dir, work)
                path, read = work / z_rel, lambda: Workspace.open(work).latents()
            else:
                work = tmp / "store"
                shutil.copytree(store, work)
                path = work / f"{target}.npy"
                read = lambda: DatasetStore.open(work)  # noqa: E731
            np.save(path, arr, allow_pickle=True)  # a hostile file may hold pickles
            _refused_or_fine(read, path)
        finally:
            shutil.rmtree(tmp)

    run()
