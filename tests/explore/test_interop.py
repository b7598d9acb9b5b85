"""The projector and Parquet exports, read back: every row, file name, attribute, thumbnail and
projection is the workspace's own (Qt-free, in-process)."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image
from tiny_models import commit_untrained_epoch, make_store, tiny_config

from latentexplorer.data.store import DatasetStore, StoreWriter
from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.explore.interop import (EXPORT_FORMAT, SPRITE_MAX_PX, export_latents, sprite_layout,
                                            workspace_pca)
from latentexplorer.progress import ProgressReporter

N, SIZE = 80, 16
ODD_NAMES = ["tab\there", "new\nline", "plain.png", "ünï cödé.jpg"]


def _odd_store(path):
    """Four images whose file names hold a tab and a newline, and an attribute with unknowns."""
    with StoreWriter(path, 4, SIZE) as w:
        w.images[:] = np.arange(4, dtype=np.uint8)[:, None, None, None] * 60
        w.set_filenames(ODD_NAMES)
        w.set_attributes(np.array([[1.0], [np.nan], [-1.0], [0.5]], np.float32), ["Smiling"])
        w.finish({"source": "test", "preset": "synthetic"})
    return path


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """An encoded tiny workspace (80 images, z_dim 4, attribute "index" = row) with two named sets."""
    from latentexplorer.workspace import Workspace

    root = tmp_path_factory.mktemp("interop")
    ws = Workspace.create(root / "ws", make_store(root / "store", n=N), tiny_config())
    commit_untrained_epoch(ws)
    ws.encode()
    ws.encode(data=DatasetStore.open(make_store(root / "other", n=20, seed=5)), name="other")
    ws.encode(data=DatasetStore.open(_odd_store(root / "odd")), name="odd")
    return ws


def _metadata(folder):
    lines = (folder / "metadata.tsv").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""  # every row ends in a newline, no row holds one
    return [line.split("\t") for line in lines[:-1]]


def test_projector_files_hold_every_point_with_its_name_and_attributes(ws, tmp_path):
    out = tmp_path / "proj"
    report = export_latents(ws, out, "projector")
    lat, store = ws.latents(), ws.dataset()
    z = np.loadtxt(out / "tensor.tsv", delimiter="\t", dtype=np.float64)
    np.testing.assert_array_equal(z.astype(np.float32), lat.z)  # %.9g: lossless for float32
    rows = _metadata(out)
    assert rows[0] == ["index", "file_name", "attr_index"]  # "index" is ours: the attribute yields
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(N)]
    assert [r[1] for r in rows[1:]] == store.filenames
    assert [float(r[2]) for r in rows[1:]] == list(store.attributes[:, 0])
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["format"] == EXPORT_FORMAT and manifest["kind"] == "projector"
    assert manifest["n_points"] == manifest["n_total"] == N and manifest["notes"] == report.notes == []
    assert manifest["model_fingerprint"] == lat.fingerprint
    assert sorted(p.name for p in out.iterdir()) == \
        ["export.json", "metadata.tsv", "projector_config.pbtxt", "sprite.png", "tensor.tsv"]


def test_projector_config_is_what_tensorboard_parses(ws, tmp_path):
    projector = pytest.importorskip("tensorboard.plugins.projector.projector_config_pb2")
    from google.protobuf import text_format

    out = tmp_path / "proj"
    export_latents(ws, out, "projector")
    config = text_format.Parse((out / "projector_config.pbtxt").read_text(), projector.ProjectorConfig())
    (emb,) = config.embeddings
    assert (emb.tensor_path, emb.metadata_path, emb.sprite.image_path) == \
        ("tensor.tsv", "metadata.tsv", "sprite.png")
    assert list(emb.tensor_shape) == [N, 4] and list(emb.sprite.single_image_dim) == [SIZE, SIZE]


def test_sprite_thumbnail_i_is_image_i(ws, tmp_path):
    out = tmp_path / "proj"
    export_latents(ws, out, "projector")
    sprite = np.asarray(Image.open(out / "sprite.png").convert("RGB"))
    columns = math.ceil(math.sqrt(N))
    assert sprite.shape == (columns * SIZE, columns * SIZE, 3)  # square, full-size thumbnails
    images = ws.dataset().images
    for i in range(N):
        top, left = (i // columns) * SIZE, (i % columns) * SIZE
        np.testing.assert_array_equal(sprite[top:top + SIZE, left:left + SIZE], images[i])
    assert not sprite[(N // columns) * SIZE:, (N % columns) * SIZE:].any()  # empty cells stay black


def test_a_small_sprite_limit_shrinks_the_thumbnails_and_says_so(ws, tmp_path):
    out = tmp_path / "proj"
    report = export_latents(ws, out, "projector", sprite_limit=64)
    layout = sprite_layout(N, SIZE, 64)
    assert (layout.columns, layout.thumbnail) == (9, 7)
    sprite = np.asarray(Image.open(out / "sprite.png").convert("RGB")).astype(float)
    assert sprite.shape == (63, 63, 3)
    images = ws.dataset().images.astype(float)
    for i in range(N):  # an area-averaged thumbnail keeps its image's mean colour
        top, left = layout.cell(i)
        thumb = sprite[top:top + 7, left:left + 7]
        assert np.abs(thumb.mean(axis=(0, 1)) - images[i].mean(axis=(0, 1))).max() < 8
    assert any("7x7 px" in note for note in report.notes)
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["sprite"] == {"columns": 9, "thumbnail": 7, "side": 63, "image_size": SIZE,
                                  "limit": 64}
    assert "7x7 px" in (out / "projector_config.pbtxt").read_text()  # a comment in the config


@pytest.mark.parametrize("n, size, columns, thumbnail", [
    (1, 96, 1, 96), (2, 96, 2, 96), (80, 16, 9, 16), (85, 96, 10, 96), (100_000, 96, 317, 25),
    (200_000, 96, 448, 18), (2_000_000, 96, 1415, 5)])
def test_sprite_layout_keeps_within_tensorboards_limit(n, size, columns, thumbnail):
    layout = sprite_layout(n, size)
    assert (layout.columns, layout.thumbnail) == (columns, thumbnail)
    assert (columns - 1) ** 2 < n <= columns ** 2 and layout.side <= SPRITE_MAX_PX
    assert layout.thumbnail == size or (columns * (thumbnail + 1) > SPRITE_MAX_PX)  # the largest
    assert layout.cell(n - 1) == (((n - 1) // columns) * thumbnail, ((n - 1) % columns) * thumbnail)


def test_sprite_layout_refuses_what_cannot_fit():
    with pytest.raises(InvalidInputError, match="at least 1"):
        sprite_layout(0, 16)
    with pytest.raises(InvalidInputError, match="--max-points"):
        sprite_layout(SPRITE_MAX_PX ** 2 + 1, 16)


def test_a_subset_keeps_the_rows_of_the_whole_set(ws, tmp_path):
    out = tmp_path / "proj"
    report = export_latents(ws, out, "projector", max_points=30, seed=3)
    rows = np.array([int(r[0]) for r in _metadata(out)[1:]])
    assert rows.size == 30 and (np.diff(rows) > 0).all() and rows.max() < N
    z = np.loadtxt(out / "tensor.tsv", delimiter="\t").astype(np.float32)
    np.testing.assert_array_equal(z, ws.latents().z[rows])
    assert report.n_points == 30 and report.n_total == N and "30 of 80 points" in report.notes[0]
    again = export_latents(ws, tmp_path / "again", "parquet", max_points=30, seed=3)
    assert pq.read_table(tmp_path / "again" / "latents.parquet").column("index").to_pylist() == \
        rows.tolist() and again.n_points == 30


def test_parquet_table_columns_and_metadata(ws, tmp_path):
    out = tmp_path / "pq"
    report = export_latents(ws, out, "parquet")
    table = pq.read_table(out / "latents.parquet")
    lat, store = ws.latents(), ws.dataset()
    assert table.column_names == ["index", "file_name", "z", "z_0", "z_1", "z_2", "z_3", "attr_index",
                                  "pca_1", "pca_2"] == report.columns
    assert table.column("index").to_pylist() == list(range(N))
    assert table.column("file_name").to_pylist() == store.filenames
    z = np.stack(table.column("z").to_numpy(zero_copy_only=False))
    np.testing.assert_array_equal(z, lat.z)
    for j in range(4):
        np.testing.assert_array_equal(table.column(f"z_{j}").to_numpy(), lat.z[:, j])
    np.testing.assert_array_equal(table.column("attr_index").to_numpy(), store.attributes[:, 0])
    # the explorer's own PCA plane 0, 1
    from latentexplorer.explore.analysis import compute_analysis

    expected = compute_analysis(lat.z).pca.project(lat.z, [0, 1])
    got = np.column_stack([table.column("pca_1").to_numpy(), table.column("pca_2").to_numpy()])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    meta = json.loads(table.schema.metadata[b"latentexplorer"])
    assert meta["workspace"] == str(ws.path.resolve()) and meta["z_dim"] == 4
    assert meta["model_fingerprint"] == lat.fingerprint == ws.model_fingerprint()
    assert any("no t-SNE/UMAP" in note for note in report.notes)


def test_parquet_takes_tsne_from_a_saved_analysis_of_these_latents(ws, tmp_path):
    from latentexplorer.reports import write_analysis

    analysis = tmp_path / "analysis"
    write_analysis(ws, analysis, plots=False, tsne=True, tsne_max_points=50, random_state=0)
    emb, idx = np.load(analysis / "tsne.npy"), np.load(analysis / "tsne_indices.npy")
    report = export_latents(ws, tmp_path / "pq", "parquet", analysis=analysis)
    table = pq.read_table(tmp_path / "pq" / "latents.parquet")
    assert {"tsne_1", "tsne_2"} <= set(table.column_names) and "umap_1" not in table.column_names
    tsne = np.column_stack([table.column("tsne_1").to_numpy(zero_copy_only=False),
                            table.column("tsne_2").to_numpy(zero_copy_only=False)])
    np.testing.assert_array_equal(tsne[idx], emb)
    assert table.column("tsne_1").null_count == N - 50  # the points t-SNE did not embed
    assert any("50 of 80" in note for note in report.notes)
    bare = tmp_path / "bare"  # an analysis of a bare array: not these latents
    write_analysis(ws.latents().z.copy(), bare, plots=False)
    with pytest.raises(InvalidInputError, match="other latents"):
        export_latents(ws, tmp_path / "pq2", "parquet", analysis=bare)
    assert not (tmp_path / "pq2").exists()


def test_a_named_set_is_projected_with_the_training_pca(ws, tmp_path):
    report = export_latents(ws, tmp_path / "pq", "parquet", set_name="other")
    table = pq.read_table(tmp_path / "pq" / "latents.parquet")
    other = ws.latents("other")
    assert table.num_rows == 20 == report.n_points
    assert table.column("file_name").to_pylist() == DatasetStore.open(other.meta.data).filenames
    expected = workspace_pca(ws.latents().z).project(other.z, [0, 1])
    np.testing.assert_allclose(table.column("pca_1").to_numpy(), expected[:, 0], atol=1e-5)
    assert json.loads(table.schema.metadata[b"latentexplorer"])["set"] == "other"
    with pytest.raises(InvalidInputError, match="no such latent set"):
        export_latents(ws, tmp_path / "x", "parquet", set_name="missing")


def test_odd_file_names_stay_on_one_row_and_unknown_attributes_stay_unknown(ws, tmp_path):
    export_latents(ws, tmp_path / "proj", "projector", set_name="odd")
    rows = _metadata(tmp_path / "proj")
    assert len(rows) == 5 and all(len(r) == 3 for r in rows)
    assert [r[1] for r in rows[1:]] == ["tab\\there", "new\\nline", "plain.png", "ünï cödé.jpg"]
    assert [r[2] for r in rows[1:]] == ["1", "", "-1", "0.5"]
    export_latents(ws, tmp_path / "pq", "parquet", set_name="odd")
    table = pq.read_table(tmp_path / "pq" / "latents.parquet")
    assert table.column("file_name").to_pylist() == ODD_NAMES  # Parquet keeps them as they are
    assert table.column("Smiling").to_pylist() == [1.0, None, -1.0, 0.5]


def test_an_export_replaces_an_export_but_never_a_foreign_folder(ws, tmp_path):
    out = tmp_path / "out"
    export_latents(ws, out, "projector")
    export_latents(ws, out, "parquet")
    assert sorted(p.name for p in out.iterdir()) == ["export.json", "latents.parquet"]
    (out / "train").mkdir()  # say, 'train --tensorboard OUT' logs written into the export
    with pytest.raises(InvalidInputError, match="also holds train"):
        export_latents(ws, out, "parquet")
    assert (out / "train").is_dir()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(InvalidInputError, match="not an export folder"):
        export_latents(ws, mine, "parquet")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    with pytest.raises(InvalidInputError, match="belongs to the workspace"):
        export_latents(ws, ws.path / "latents" / "x", "parquet")
    with pytest.raises(InvalidInputError, match="--format"):
        export_latents(ws, tmp_path / "y", "csv")


def test_a_cancelled_export_leaves_nothing(ws, tmp_path):
    seen = []
    # the Cancel button, pressed as the first progress report arrives
    reporter = ProgressReporter(on_update=lambda *update: (seen.append(update), reporter.cancel()))
    with pytest.raises(Cancelled):
        export_latents(ws, tmp_path / "proj", "projector", progress=reporter)
    done, total, message, metrics = seen[0]
    assert (total, message, metrics) == (3 * N, "tensor.tsv", {"points": done})
    assert not (tmp_path / "proj").exists() and not list(tmp_path.glob(".proj.*partial"))
