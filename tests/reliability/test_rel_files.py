"""Workspaces and files passed between people: mismatched, truncated, foreign, poisoned.

Every case must end in an :class:`InvalidInputError` naming the file and what was expected (CLI: one
line on stderr, exit 2) — never a traceback, never silently wrong output, never code execution.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from latentexplorer import cli
from latentexplorer.errors import InvalidInputError
from latentexplorer.inputs import load_npy
from latentexplorer.workspace import Workspace

from rel_helpers import assert_one_line_error
from tiny_models import tiny_config


def _cli_error(capsys, *argv) -> str:
    """Run the CLI in-process: exit 2 and exactly one error line (warnings may precede it)."""
    rc = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2, err
    return assert_one_line_error(err, "latentexplorer ", ": error: ")


def _sample(capsys, ws: Path, tmp_path: Path, *extra) -> str:
    return _cli_error(capsys, "sample", "--workspace", ws, "--method", "uniform", "-n", 4, "--no-scores",
                      "--out", tmp_path / "grid.png", *extra)


def _model_dir(ws: Path) -> Path:
    """The committed epoch's model folder (``WS/checkpoints/epoch-NNNN``)."""
    return Workspace.open(ws).snapshot().dir


def _z_npy(ws: Path) -> Path:
    """The current latents version's ``z.npy`` (``WS/latents/v-NNNN/z.npy``)."""
    w = Workspace.open(ws)
    return w.latents_dir / w.latent_set().meta().dir / "z.npy"


# ----------------------------------------------------------------------------------- z_dim mismatch
def test_model_folder_from_another_run_with_other_z_dim(ws_copy, tmp_path, capsys):
    from latentexplorer.models.autoencoder import build_model
    from latentexplorer.models.io import save_model

    folder = _model_dir(ws_copy)
    save_model(build_model(tiny_config(z_dim=3)), folder)  # copied in from a z_dim-3 run
    ws = Workspace.open(ws_copy)
    with pytest.raises(InvalidInputError, match=r"model_config.json: the saved model has z_dim=3 .* z_dim=4"):
        ws.load_decoder()
    line = _sample(capsys, ws_copy, tmp_path)
    assert "z_dim=3" in line and "z_dim=4" in line
    assert not (tmp_path / "grid.png").exists()


def test_decoder_file_with_other_z_dim_than_its_config(ws_copy, tmp_path, capsys):
    from latentexplorer.models.autoencoder import build_model

    build_model(tiny_config(z_dim=3)).decoder.save(_model_dir(ws_copy) / "decoder.keras")
    with pytest.raises(InvalidInputError, match=r"decoder.keras: decoder maps \(3,\) to \(16, 16, 3\), but "
                                                 r"model_config.json expects \(4,\) to \(16, 16, 3\)"):
        Workspace.open(ws_copy).load_decoder()
    line = _sample(capsys, ws_copy, tmp_path)
    assert "decoder.keras" in line and "(3,)" in line
    assert not (tmp_path / "grid.png").exists()


def test_full_model_file_from_another_run(ws_copy, tmp_path, capsys):
    """model.keras swapped for one of another architecture (same z_dim): refused before resuming."""
    from latentexplorer.models.autoencoder import build_model

    other = build_model(tiny_config(encoder_filters=(4, 16)))
    other.fit(np.zeros((2, 16, 16, 3), np.float32), epochs=1, batch_size=2, verbose=0)  # as if trained
    other.save(_model_dir(ws_copy) / "model.keras")
    with pytest.raises(InvalidInputError, match=r"model.keras: its architecture differs from model_config.json"):
        Workspace.open(ws_copy).load_model()
    line = _cli_error(capsys, "train", "--workspace", ws_copy, "--resume", "--epochs", 2)
    assert "model.keras" in line and "architecture differs" in line
    assert Workspace.open(ws_copy).checkpoint_epoch == 1


def test_latents_with_other_z_dim_than_the_model(ws_copy, tmp_path, capsys):
    from latentexplorer.workspace.latents import LatentSet

    ws = Workspace.open(ws_copy)
    with pytest.raises(InvalidInputError, match=r"latents: shape \(64, 3\), expected \(n >= 1, 4\)"):
        ws.write_latents(np.zeros((64, 3), np.float32))  # never written in the first place
    # the latents folder of a z_dim-3 run copied in (a complete, valid set of its own)
    LatentSet(tmp_path / "other", z_dim=3, kind="ae", fix="").write(np.zeros((64, 3), np.float32),
                                                                     fingerprint=ws.model_fingerprint())
    shutil.rmtree(ws.latents_dir)
    shutil.copytree(tmp_path / "other", ws.latents_dir)
    with pytest.raises(InvalidInputError, match=r"meta.json: z_dim = 3, but the model has z_dim 4"):
        ws.latents()
    assert "z_dim = 3" in _sample(capsys, ws_copy, tmp_path)
    assert "z_dim = 3" in _cli_error(capsys, "analyze", "--workspace", ws_copy, "--no-plots")


def test_latent_array_shape_disagrees_with_its_meta(ws_copy):
    np.save(_z_npy(ws_copy), np.zeros((10, 4), np.float32))  # replaced behind our back
    with pytest.raises(InvalidInputError, match=r"z.npy: shape \(10, 4\), expected \(64, 4\)"):
        Workspace.open(ws_copy).latents()


# ----------------------------------------------------------------------------------- .keras files
@pytest.mark.parametrize("damage", ["truncated", "empty", "text", "foreign-zip"])
def test_truncated_or_foreign_keras_file(ws_copy, tmp_path, capsys, damage):
    path = _model_dir(ws_copy) / "decoder.keras"
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "text":
        path.write_text("<html>download failed</html>")
    else:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("readme.txt", "a zip, but not a Keras model")
    with pytest.raises(InvalidInputError, match=r"decoder.keras: (truncated or not a \.keras file|cannot load)"):
        Workspace.open(ws_copy).load_decoder()
    assert "decoder.keras" in _sample(capsys, ws_copy, tmp_path)


def test_foreign_keras_model_with_the_right_input_is_refused(ws_copy, tmp_path, capsys):
    import keras

    foreign = keras.Sequential([keras.Input((4,)), keras.layers.Dense(7)])  # z -> not an image
    foreign.save(_model_dir(ws_copy) / "decoder.keras")
    with pytest.raises(InvalidInputError, match=r"decoder.keras: decoder maps \(4,\) to \(7,\), but "
                                                 r"model_config.json expects \(4,\) to \(16, 16, 3\)"):
        Workspace.open(ws_copy).load_decoder()
    line = _sample(capsys, ws_copy, tmp_path)
    assert "decoder.keras" in line and "to (7,)" in line and "(16, 16, 3)" in line
    assert not (tmp_path / "grid.png").exists()


def test_keras_safe_mode_refuses_lambda_code(ws_copy, tmp_path, capsys):
    """A decoder with a Python lambda (arbitrary code) is never deserialised, so never run."""
    import keras

    marker = str(tmp_path / "code-ran")
    inp = keras.Input((4,))
    x = keras.layers.Dense(16 * 16 * 3)(inp)
    x = keras.layers.Reshape((16, 16, 3))(x)
    # the lambda touches the marker whenever it is called (model construction and every decode)
    out = keras.layers.Lambda(lambda t: (pathlib.Path(marker).touch(), t * 0.0 + 0.5)[1],
                              output_shape=(16, 16, 3))(x)
    keras.Model(inp, out).save(_model_dir(ws_copy) / "decoder.keras")
    pathlib.Path(marker).unlink(missing_ok=True)
    with pytest.raises(InvalidInputError, match=r"decoder.keras: cannot load the decoder .*Lambda.*safe_mode"):
        Workspace.open(ws_copy).load_decoder()
    line = _sample(capsys, ws_copy, tmp_path)
    assert "safe_mode" in line and len(line) < 800  # Keras' config dump is cut
    assert not pathlib.Path(marker).exists()


# ----------------------------------------------------------------------------------- latents
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_latents_with_nan_or_inf_are_refused(ws_copy, tmp_path, capsys, bad):
    ws = Workspace.open(ws_copy)
    z = ws.latents().z.copy()
    z[5, 2] = bad
    z[7, 0] = bad
    ws.write_latents(z, store=ws.dataset().fingerprint())
    # the first bad value is named: file, row and column
    match = r"z.npy: NaN or infinite value at row 5, column 2 \(expected finite numbers\)"
    with pytest.raises(InvalidInputError, match=match):
        ws.latents()
    assert re.search(match, _sample(capsys, ws_copy, tmp_path))
    assert re.search(match, _cli_error(capsys, "analyze", "--workspace", ws_copy, "--no-plots"))
    assert not (tmp_path / "grid.png").exists()


def test_pickled_object_array_is_refused_and_never_unpickled(ws_copy, tmp_path, capsys):
    marker = tmp_path / "pickle-ran"

    class Payload:
        def __reduce__(self):
            return (pathlib.Path.touch, (pathlib.Path(marker),))

    arr = np.empty((64, 4), dtype=object)
    arr[:] = 0.0
    arr[0, 0] = Payload()
    z_npy = _z_npy(ws_copy)
    with open(z_npy, "wb") as fh:
        np.save(fh, arr, allow_pickle=True)
    with pytest.raises(InvalidInputError, match=r"z.npy: not a readable .npy array .*allow_pickle=False"):
        Workspace.open(ws_copy).latents()
    with pytest.raises(InvalidInputError, match="Python objects|allow_pickle"):
        load_npy(z_npy, mmap=True)
    line = _cli_error(capsys, "analyze", "--latents", z_npy, "--out", tmp_path / "a")
    assert "z.npy" in line
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_damaged_npy_files(ws_copy, tmp_path, capsys, damage):
    path = _z_npy(ws_copy)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"\x93NUMPY junk"}[damage])
    expected = {"truncated": r"z.npy: its header says shape \(64, 4\) of float32 .* but the file "
                             r"holds 448 bytes of data \(truncated or damaged file\)"}
    with pytest.raises(InvalidInputError, match=expected.get(damage, r"z.npy: not a readable .npy array")):
        Workspace.open(ws_copy).latents()
    assert "z.npy" in _cli_error(capsys, "analyze", "--latents", path, "--out", tmp_path / "a")


def test_truncated_store_images_are_refused(rel_ws, tmp_path):
    from latentexplorer.data.store import DatasetStore

    store = Path(Workspace.open(rel_ws).data_path)
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    data = (copy / "images.npy").read_bytes()
    (copy / "images.npy").write_bytes(data[: len(data) - 1000])
    with pytest.raises(InvalidInputError, match=r"images.npy: its header says shape .* but the file "
                                                 r"holds .* \(truncated or damaged file\)"):
        DatasetStore.open(copy)


# ----------------------------------------------------------------------------------- sidecars
def _grid(ws_path: Path, tmp_path: Path) -> tuple[Path, str]:
    from latentexplorer.render.images import save_grid, weights_fingerprint

    ws = Workspace.open(ws_path)
    dec = ws.load_decoder()
    z = ws.latents().z[:4]
    images = (np.clip(dec.predict(z, verbose=0), 0, 1) * 255).astype(np.uint8)
    fp = weights_fingerprint(dec)
    sidecar = save_grid(tmp_path / "g.png", images, z, generator="uniform", settings={"b": 1.0}, seed=0,
                        fingerprint=fp)
    return sidecar, fp


def test_sidecar_from_another_model_is_refused(rel_ws, tmp_path):
    from latentexplorer.render.images import redecode_sidecar

    sidecar, fp = _grid(rel_ws, tmp_path)
    dec = Workspace.open(rel_ws).load_decoder()
    assert redecode_sidecar(sidecar, dec, fp).shape == (4, 16, 16, 3)
    with pytest.raises(InvalidInputError, match=r"g.json: grid was made with decoder [0-9a-f]{16}, but this "
                                                 r"decoder is 0123456789abcdef"):
        redecode_sidecar(sidecar, dec, "0123456789abcdef")


@pytest.mark.parametrize("edit,match", [
    (lambda d: d.update(z_dim=3, z=[r[:3] for r in d["z"]]), r"g.json: z_dim 3, the decoder expects 4"),
    (lambda d: d.update(z=d["z"][:2]), r"g.json: 'z' must be 4 lists of 4 numbers"),
    (lambda d: d["z"][0].__setitem__(0, float("nan")), r"g.json: z\[0\]\[0\] = nan: expected a finite number"),
    (lambda d: d.pop("fingerprint"), r"g.json: missing entry 'fingerprint'"),
    (lambda d: d.update(format="something-else/9"),
     r"g.json: format = 'something-else/9': expected 'latentexplorer-grid/1'"),
], ids=["z_dim", "rows", "nan", "no-fingerprint", "format"])
def test_damaged_sidecars(rel_ws, tmp_path, edit, match):
    from latentexplorer.render.images import redecode_sidecar

    sidecar, fp = _grid(rel_ws, tmp_path)
    data = json.loads(sidecar.read_text())
    edit(data)
    sidecar.write_text(json.dumps(data))  # json writes nan as the (non-standard) token NaN
    with pytest.raises(InvalidInputError, match=match):
        redecode_sidecar(sidecar, Workspace.open(rel_ws).load_decoder(), fp)


def test_sidecar_that_is_not_json(tmp_path):
    from latentexplorer.render.images import load_sidecar

    (tmp_path / "g.json").write_text('{"format": "latentexplorer-grid/1", "z": [[1, 2')
    with pytest.raises(InvalidInputError, match=r"g.json: not valid JSON"):
        load_sidecar(tmp_path / "g.png")


# ----------------------------------------------------------------------------------- workspace files
def test_missing_dataset_is_named(ws_copy, tmp_path, capsys):
    ws = Workspace.open(ws_copy)
    store = ws.data_path
    moved = tmp_path / "moved-store"
    shutil.copytree(store, moved)
    cfg = json.loads((ws_copy / "config.json").read_text())
    cfg["data"] = str(tmp_path / "gone")
    (ws_copy / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(InvalidInputError, match=r"dataset .*gone not found"):
        Workspace.open(ws_copy).dataset()
    assert "gone not found" in _cli_error(capsys, "encode", "--workspace", ws_copy)
    assert "gone not found" in _cli_error(capsys, "train", "--workspace", ws_copy, "--resume", "--epochs", 2)


def _set(**changes):
    """An edit of a JSON object: set these entries."""
    return lambda d: d.update(changes)


@pytest.mark.parametrize("name,content,match", [
    ("config.json", "{ not json", r"config.json: not valid JSON"),
    ("config.json", '{"format": "latentexplorer-workspace/1"}', r"config.json: missing entry 'model'"),
    ("checkpoint.json", _set(epoch="three"), r"checkpoint.json: epoch = 'three': expected a valid integer"),
    ("checkpoint.json", '{"epoch": "three"}', r"checkpoint.json: epoch = 'three': expected a valid integer"),
    ("checkpoint.json", "", r"checkpoint.json: not valid JSON"),
    ("checkpoint.json", _set(model="../../elsewhere"),
     r"checkpoint.json: model = '../../elsewhere': expected a relative folder inside the workspace"),
    ("checkpoint.json", _set(model="checkpoints/epoch-0009"),
     r"checkpoint.json: model = 'checkpoints/epoch-0009', but that folder is missing"),
    ("{model}/history.json", '{"epoch": 1}', r"history.json: expected a valid array \(got dict\)"),
    ("{model}/history.json", "[]", r"history.json: 0 rows for epoch 1"),
    ("latents/meta.json", "[]", r"meta.json: expected an object \(got list\)"),
    ("latents/meta.json", _set(n="many"), r"meta.json: n = 'many': expected a valid integer"),
    ("latents/meta.json", lambda d: d.pop("dir"), r"meta.json: missing entry 'dir'"),
    ("latents/meta.json", _set(dir="../../etc"), r"meta.json: dir = '../../etc': "),
    ("latents/meta.json", _set(x=1), r"meta.json: unknown entry 'x'"),
    ("latents/meta.json", _set(dir="v-0009"), r"v-0009/z.npy: latent array not found"),
], ids=["config-garbage", "config-incomplete", "checkpoint-type", "checkpoint-legacy-type",
        "checkpoint-empty", "checkpoint-outside", "checkpoint-missing-folder", "history", "history-rows",
        "latents-meta-list", "latents-meta-n", "latents-meta-incomplete", "latents-meta-dir",
        "latents-meta-unknown", "latents-meta-missing-version"])
def test_damaged_workspace_json(ws_copy, tmp_path, capsys, name, content, match):
    """``content``: the new file text, or an edit of the file's current JSON object."""
    path = ws_copy / name.format(model=_model_dir(ws_copy).relative_to(ws_copy))
    if callable(content):
        data = json.loads(path.read_text())
        content(data)
        content = json.dumps(data)
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=match):
        ws = Workspace.open(ws_copy)
        ws.snapshot()
        ws.history()
        ws.latents()
    cmd = ("train", "--workspace", ws_copy, "--resume", "--epochs", 2) if name.endswith("history.json") \
        else ("sample", "--workspace", ws_copy, "-n", 2, "--no-scores", "--out", tmp_path / "g.png")
    line = _cli_error(capsys, *cmd)
    assert re.search(match, line)
    assert not (tmp_path / "g.png").exists()


def test_workspace_that_is_not_one(tmp_path, capsys):
    (tmp_path / "somefolder").mkdir()
    assert "not a workspace" in _cli_error(capsys, "encode", "--workspace", tmp_path / "somefolder")
    assert "workspace folder not found" in _cli_error(capsys, "encode", "--workspace", tmp_path / "nope")
