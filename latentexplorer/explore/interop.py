"""Exports for the tools users already have: TensorBoard's Embedding Projector and Parquet.

:func:`export_latents` writes one folder, built aside and renamed into place when complete
(:func:`~latentexplorer.fileio.atomic_directory`; an earlier export there is replaced, any other
non-empty folder is refused):

* ``"projector"`` — ``tensor.tsv`` (one z-vector per row), ``metadata.tsv`` (a header row, then
  ``index``, ``file_name`` and every attribute of the store), ``sprite.png`` (the data images as
  square thumbnails in a square grid, row-major from the top left, at most
  :data:`SPRITE_MAX_PX` pixels a side) and ``projector_config.pbtxt``;
* ``"parquet"`` — ``latents.parquet``: ``index``, ``file_name``, ``z`` (one
  ``fixed_size_list<float32>[z_dim]``), ``z_0`` .. ``z_{d-1}`` (float32), the attributes,
  ``pca_1`` / ``pca_2`` (the workspace's PCA) and ``tsne_*`` / ``umap_*`` when a saved analysis of
  these latents holds them; the schema metadata ``latentexplorer`` is a JSON object (workspace,
  model fingerprint, epoch, z_dim, ...).

Both folders hold ``export.json``, which names what was written and what was capped. Images are
read from the store in chunks, z-rows and table rows are written in chunks: a 200,000-point set is
never held as images in memory (the sprite itself is at most 8192 x 8192 x 3 bytes).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..fileio import atomic_directory, check_replaceable, write_json
from ..inputs import load_npy, printable, read_json
from ..locks import output_lock
from ..outputs import check_output

__all__ = ["FORMATS", "EXPORT_FORMAT", "MANIFEST", "SPRITE_MAX_PX", "PROJECTOR_MAX_POINTS",
           "ExportSource", "ExportReport", "SpriteLayout", "sprite_layout", "load_source",
           "workspace_pca", "export_latents"]

FORMATS = ("projector", "parquet")
#: the ``"format"`` of ``export.json``, the file that marks a folder as an export of ours
EXPORT_FORMAT = "latentexplorer-export/1"
MANIFEST = "export.json"
#: TensorBoard's projector reads sprite images up to 8192 x 8192 pixels
SPRITE_MAX_PX = 8192
#: TensorBoard's projector asks its server for at most 100,000 rows (its LIMIT_NUM_POINTS); more
#: rows only make the files larger, so the projector export keeps a seeded subset by default
PROJECTOR_MAX_POINTS = 100_000
#: rows per chunk of TSV rows and Parquet row groups
CHUNK_ROWS = 8192
#: images read from the store at once for the sprite (28 MB of 96 px images)
IMAGE_CHUNK = 1024
#: our own columns; an attribute of the same name is written as ``attr_NAME``
_RESERVED = {"index", "file_name", "z", "pca_1", "pca_2", "tsne_1", "tsne_2", "umap_1", "umap_2"}


@dataclass(frozen=True)
class ExportSource:
    """What one export writes: a latent set of a workspace with its images and labels.

    Attributes
    ----------
    z : ndarray of shape (n_points, z_dim), float32
        The exported rows (all points, or a seeded subset of them).
    rows : ndarray of shape (n_points,), int64
        The row of each exported point in the whole set (the store's image index).
    n_total : int
        Points in the whole set.
    store : DatasetStore
        The images of the set (read in chunks by :meth:`DatasetStore.batch`).
    filenames : list of str, length n_points
    attributes : ndarray of shape (n_points, n_attributes), float32, or None
        NaN marks an unknown value.
    attribute_names : list of str
        Column names of the attributes (clashes with our columns get ``attr_``).
    info : dict
        Workspace, set, model fingerprint, epoch, kind, z_dim (the export's metadata).
    train_z : ndarray of shape (n_train, z_dim) or None
        The training latents (the workspace's PCA is fitted on them).
    """

    z: np.ndarray
    rows: np.ndarray
    n_total: int
    store: object
    filenames: list
    attributes: np.ndarray | None
    attribute_names: list
    info: dict
    train_z: np.ndarray | None


@dataclass
class ExportReport:
    """What :func:`export_latents` wrote: ``out``, ``files``, ``n_points`` of ``n_total`` and
    ``notes`` (every cap and every column left out, with the reason; also in ``export.json``)."""

    format: str
    out: Path
    n_points: int
    n_total: int
    z_dim: int
    files: list = field(default_factory=list)
    columns: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    #: projector: the sprite's ``columns``, ``thumbnail``, ``side``, ``image_size``, ``limit``
    sprite: dict | None = None


@dataclass(frozen=True)
class SpriteLayout:
    """A square sprite: ``columns`` x ``columns`` cells of ``thumbnail`` px, ``side`` px a side."""

    columns: int
    thumbnail: int

    @property
    def side(self) -> int:
        return self.columns * self.thumbnail

    def cell(self, i: int) -> tuple[int, int]:
        """(top, left) pixel of point ``i`` (row-major from the top left)."""
        return (i // self.columns) * self.thumbnail, (i % self.columns) * self.thumbnail


def sprite_layout(n_points: int, image_size: int, limit: int = SPRITE_MAX_PX) -> SpriteLayout:
    """The largest thumbnail (at most ``image_size``) for which ``n_points`` fit a square sprite of
    at most ``limit`` pixels a side: ``columns = ceil(sqrt(n))``, ``thumbnail = min(image_size,
    limit // columns)``."""
    if n_points < 1:
        raise InvalidInputError(f"sprite: {n_points} points, expected at least 1")
    columns = math.isqrt(n_points - 1) + 1  # ceil(sqrt(n)) without float rounding
    thumbnail = min(int(image_size), limit // columns)
    if thumbnail < 1:
        raise InvalidInputError(f"sprite: {n_points:,} thumbnails do not fit {limit}x{limit} pixels "
                                "(pass --max-points to export a subset)")
    return SpriteLayout(columns, thumbnail)


# ------------------------------------------------------------------------------ the source
def _column_names(names: list[str]) -> list[str]:
    """Attribute names as unique column names (tabs and newlines would break a TSV header)."""
    out: list[str] = []
    for name in names:
        col = " ".join(str(name).split()) or "attribute"
        if col in _RESERVED or col.startswith("z_") or col in out:
            col = f"attr_{col}"
        while col in out:
            col += "_"
        out.append(col)
    return out


def load_source(ws, set_name: str | None = None, *, max_points: int | None = None,
                seed: int = 0) -> ExportSource:
    """The training latents of ``ws`` (or its named set ``set_name``), their store, file names and
    attributes; with ``max_points`` a seeded subset of the rows (kept in store order).

    Stale latents are warned about (``UserWarning``); a store whose image count no longer matches
    the latents is refused (its rows would label other images).
    """
    from ..data.store import DatasetStore
    from ..workspace.latents import check_set_name

    if set_name is not None:
        check_set_name(set_name, "--set")
        if set_name not in ws.latent_set_names():
            have = ", ".join(ws.latent_set_names()) or "none"
            raise InvalidInputError(f"--set {printable(set_name)}: no such latent set in "
                                    f"{printable(ws.path)} (have: {have}; make one with 'latentexplorer "
                                    f"encode --workspace WS --data STORE --name {printable(set_name)}')")
    lat = ws.latents(set_name)
    staleness = ws.staleness(lat)
    if staleness.stale:
        warnings.warn(staleness.message, stacklevel=2)
    if set_name is None:
        store = ws.dataset()
    else:
        if not lat.meta.data:
            raise InvalidInputError(f"latent set {set_name!r}: its meta.json does not say which images "
                                    "it holds (encode it again)")
        store = DatasetStore.open(lat.meta.data)
    if store.n != lat.n:
        raise InvalidInputError(f"{printable(store.path)}: {store.n:,} images, but the latents hold "
                                f"{lat.n:,} points (run '{staleness.fix}')")
    if set_name is not None and lat.meta.store is not None \
            and lat.meta.store.digest != store.fingerprint().digest:
        warnings.warn(f"{printable(store.path)}: the images changed since set {set_name!r} was encoded "
                      f"(run '{staleness.fix}')", stacklevel=2)
    rows = np.arange(lat.n, dtype=np.int64)
    if max_points and lat.n > max_points:
        rows = np.sort(np.random.default_rng(seed).choice(lat.n, max_points, replace=False))
    train_z = lat.z if set_name is None else (ws.latents().z if ws.has_latents else None)
    attributes = None if store.attributes is None else np.asarray(store.attributes[rows], np.float32)
    info = {"workspace": str(Path(ws.path).resolve()), "set": set_name, "model_kind": lat.meta.kind,
            "z_dim": lat.z_dim, "model_fingerprint": lat.fingerprint, "epoch": lat.meta.epoch,
            "latents_created": lat.meta.created, "store": str(Path(store.path).resolve()),
            "stale": staleness.message if staleness.stale else None}
    subset = rows.size < lat.n
    return ExportSource(z=lat.z[rows] if subset else lat.z, rows=rows, n_total=lat.n, store=store,
                        filenames=[store.filenames[i] for i in rows], attributes=attributes,
                        attribute_names=_column_names(store.attribute_names), info=info,
                        train_z=train_z)


def workspace_pca(train_z: np.ndarray, *, seed: int = 0):
    """The explorer's PCA of the training latents (the same subset and axes as
    :func:`latentexplorer.explore.analysis.compute_analysis`, so ``pca_1`` / ``pca_2`` are the
    coordinates of its PCA plane 0, 1). None with fewer than 2 points."""
    from ..analysis.pca import LatentPCA
    from .analysis import ANALYSIS_MAX_POINTS, PCA_MAX_COMPONENTS

    if train_z is None or train_z.shape[0] < 2:
        return None
    fit_z = train_z
    if train_z.shape[0] > ANALYSIS_MAX_POINTS:
        idx = np.sort(np.random.default_rng(seed).choice(train_z.shape[0], ANALYSIS_MAX_POINTS,
                                                          replace=False))
        fit_z = train_z[idx]
    k = int(min(PCA_MAX_COMPONENTS, train_z.shape[1], max(fit_z.shape[0] - 1, 1)))
    return LatentPCA(n_components=k, random_state=seed).fit(np.asarray(fit_z, dtype=np.float32))


def _saved_embeddings(src: ExportSource, analysis: Path | None, explicit: bool,
                      notes: list[str]) -> dict[str, np.ndarray]:
    """``{"tsne": (n_points, 2), "umap": ...}`` from a saved analysis of exactly these latents
    (NaN for points outside the embedded subset). A default folder that does not fit is noted and
    skipped; one the user named is an error."""
    from ..analysis.report import SUMMARY_FORMAT

    found: dict[str, np.ndarray] = {}
    if src.info["set"] is not None and not explicit:
        notes.append("no t-SNE/UMAP columns: 'analyze' embeds the training latents, not a named set")
        return found
    if analysis is None or not (analysis / "summary.json").is_file():
        if explicit:
            raise InvalidInputError(f"--analysis {printable(analysis)}: no summary.json (not an "
                                    "analysis folder of 'latentexplorer analyze')")
        notes.append("no t-SNE/UMAP columns: no saved analysis (run 'latentexplorer analyze "
                     f"--workspace {printable(src.info['workspace'])} --tsne --umap')")
        return found
    summary = read_json(analysis / "summary.json")
    source = summary.get("source") if isinstance(summary, dict) else None
    why = None
    if not isinstance(summary, dict) or summary.get("format") != SUMMARY_FORMAT:
        why = "its summary.json is not an analysis of ours"
    elif src.info["set"] is not None:
        why = f"it analyses the training latents, not set {src.info['set']!r}"
    elif not isinstance(source, dict) or summary.get("n_points") != src.n_total \
            or source.get("latents_fingerprint") != src.info["model_fingerprint"]:
        why = "it analyses other latents (another epoch or another workspace)"
    if why is not None:
        if explicit:
            raise InvalidInputError(f"--analysis {printable(analysis)}: {why}")
        notes.append(f"no t-SNE/UMAP columns from {printable(analysis)}: {why}")
        return found
    position = np.full(src.n_total, -1, np.int64)
    position[src.rows] = np.arange(src.rows.size)
    for name in ("tsne", "umap"):
        if not (analysis / f"{name}.npy").is_file():
            continue
        emb = load_npy(analysis / f"{name}.npy", kinds="f", ndim=2, shape=(None, 2),
                       what=f"{name} embedding")
        idx = load_npy(analysis / f"{name}_indices.npy", kinds="iu", shape=(emb.shape[0],),
                       what=f"{name} indices").astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= src.n_total):
            raise InvalidInputError(f"{printable(analysis / f'{name}_indices.npy')}: indices outside "
                                    f"0..{src.n_total - 1}")
        col = np.full((src.rows.size, 2), np.nan, np.float32)
        keep = position[idx] >= 0
        col[position[idx[keep]]] = emb[keep]
        found[name] = col
        if idx.size < src.n_total:
            notes.append(f"{name}_1/{name}_2: {idx.size:,} of {src.n_total:,} points were embedded; "
                         "the others are null")
    return found


# ------------------------------------------------------------------------------ writing
def _tsv_value(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.7g}"


def _tsv_text(text: str) -> str:
    return printable(str(text))  # escapes tabs and newlines, which would break the table


def _report(progress, done: int, total: int, message: str) -> None:
    if progress is not None:
        progress.update(done, total, message, {"points": done})
        progress.raise_if_cancelled()


def _pbtxt_string(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _write_projector(src: ExportSource, tmp: Path, report: ExportReport, progress,
                     sprite_limit: int) -> None:
    n, d = src.z.shape
    total = 3 * n
    with open(tmp / "tensor.tsv", "w", encoding="utf-8") as fh:
        for start in range(0, n, CHUNK_ROWS):
            # %.9g: every float32 survives the round trip through text
            np.savetxt(fh, src.z[start:start + CHUNK_ROWS], fmt="%.9g", delimiter="\t")
            _report(progress, min(n, start + CHUNK_ROWS), total, "tensor.tsv")
    # at least two columns, so TensorBoard always reads the first line as the header
    header = ["index", "file_name", *src.attribute_names]
    with open(tmp / "metadata.tsv", "w", encoding="utf-8") as fh:
        fh.write("\t".join(header) + "\n")
        for i in range(n):
            values = [str(int(src.rows[i])), _tsv_text(src.filenames[i])]
            if src.attributes is not None:
                values += [_tsv_value(float(v)) for v in src.attributes[i]]
            fh.write("\t".join(values) + "\n")
            if (i + 1) % CHUNK_ROWS == 0 or i + 1 == n:
                _report(progress, n + i + 1, total, "metadata.tsv")
    layout = sprite_layout(n, src.store.size, sprite_limit)
    _write_sprite(src, layout, tmp / "sprite.png", progress, done=2 * n, total=total)
    if layout.thumbnail < src.store.size:
        report.notes.append(f"sprite: {n:,} thumbnails of {layout.thumbnail}x{layout.thumbnail} px "
                            f"(the images are {src.store.size} px; TensorBoard reads sprites of at "
                            f"most {sprite_limit}x{sprite_limit} px)")
    name = f"z of {Path(src.info['workspace']).name}"
    if src.info["set"]:
        name += f" ({src.info['set']})"
    comment = "".join(f"# {note}\n" for note in report.notes)
    (tmp / "projector_config.pbtxt").write_text(
        f"# written by 'latentexplorer export'; open with: tensorboard --logdir THIS_FOLDER\n{comment}"
        "embeddings {\n"
        f"  tensor_name: {_pbtxt_string(name)}\n"
        f"  tensor_shape: {n}\n  tensor_shape: {d}\n"
        '  tensor_path: "tensor.tsv"\n  metadata_path: "metadata.tsv"\n'
        '  sprite {\n    image_path: "sprite.png"\n'
        f"    single_image_dim: {layout.thumbnail}\n    single_image_dim: {layout.thumbnail}\n"
        "  }\n}\n", encoding="utf-8")
    report.files += ["tensor.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt"]
    report.columns = header
    report.sprite = {"columns": layout.columns, "thumbnail": layout.thumbnail, "side": layout.side,
                     "image_size": int(src.store.size), "limit": sprite_limit}


def _write_sprite(src: ExportSource, layout: SpriteLayout, path: Path, progress, *, done: int,
                  total: int) -> None:
    """Thumbnails of the exported rows, read from the store one chunk at a time."""
    from PIL import Image

    from ..judge.detectors import resize_batch  # area averaging, the judge's own resize

    t = layout.thumbnail
    sprite = np.zeros((layout.side, layout.side, 3), np.uint8)
    n = src.rows.size
    for start in range(0, n, IMAGE_CHUNK):
        thumbs = resize_batch(src.store.batch(src.rows[start:start + IMAGE_CHUNK]), t)
        for k, thumb in enumerate(thumbs):
            top, left = layout.cell(start + k)
            sprite[top:top + t, left:left + t] = thumb
        _report(progress, done + min(n, start + IMAGE_CHUNK), total, "sprite.png")
    Image.fromarray(sprite).save(path, format="PNG", compress_level=3)


def _write_parquet(src: ExportSource, tmp: Path, report: ExportReport, progress,
                   analysis: Path | None, explicit_analysis: bool) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n, d = src.z.shape
    pca = workspace_pca(src.train_z)
    if pca is None:
        report.notes.append("no PCA columns: the workspace has no training latents of 2 or more "
                            "points to fit its PCA on")
    elif pca.n_components_ < 2:
        report.notes.append("pca_2 left out: the latents have 1 dimension")
    axes = [] if pca is None else list(range(min(2, pca.n_components_)))
    embeddings = _saved_embeddings(src, analysis, explicit_analysis, report.notes)
    fields = [pa.field("index", pa.int64()), pa.field("file_name", pa.string()),
              pa.field("z", pa.list_(pa.float32(), d))]
    fields += [pa.field(f"z_{j}", pa.float32()) for j in range(d)]
    fields += [pa.field(name, pa.float32()) for name in src.attribute_names]
    fields += [pa.field(f"pca_{a + 1}", pa.float32()) for a in axes]
    for name in embeddings:
        fields += [pa.field(f"{name}_1", pa.float32()), pa.field(f"{name}_2", pa.float32())]
    meta = {"format": EXPORT_FORMAT, **src.info, "n_points": n, "n_total": src.n_total}
    schema = pa.schema(fields, metadata={"latentexplorer": json.dumps(meta)})
    with pq.ParquetWriter(tmp / "latents.parquet", schema, compression="zstd") as writer:
        for start in range(0, n, CHUNK_ROWS):
            stop = min(n, start + CHUNK_ROWS)
            z = np.ascontiguousarray(src.z[start:stop], dtype=np.float32)
            cols = [pa.array(src.rows[start:stop]), pa.array(src.filenames[start:stop], pa.string()),
                    pa.FixedSizeListArray.from_arrays(pa.array(z.reshape(-1)), d)]
            cols += [pa.array(z[:, j]) for j in range(d)]
            if src.attributes is not None:  # NaN (unknown) becomes null
                cols += [pa.array(src.attributes[start:stop, j], pa.float32(), from_pandas=True)
                         for j in range(len(src.attribute_names))]
            if axes:
                coords = pca.project(z, axes)
                cols += [pa.array(coords[:, a].astype(np.float32)) for a in axes]
            for emb in embeddings.values():
                cols += [pa.array(emb[start:stop, a], pa.float32(), from_pandas=True) for a in (0, 1)]
            writer.write_table(pa.Table.from_arrays(cols, schema=schema))
            _report(progress, stop, n, "latents.parquet")
    report.files.append("latents.parquet")
    report.columns = [f.name for f in fields]


#: every file an export writes: a folder holding anything else is not replaced as a whole
_EXPORT_FILES = {MANIFEST, "tensor.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt",
                 "latents.parquet"}


def _check_out(out: Path) -> None:
    check_output(out, kind="folder")
    check_replaceable(out, MANIFEST, "an export folder", formats=(EXPORT_FORMAT,))
    if out.is_dir():  # e.g. 'train --tensorboard' logs written into an earlier export
        other = sorted(p.name for p in out.iterdir() if p.name not in _EXPORT_FILES)
        if other:
            listed = ", ".join(other[:3]) + (", ..." if len(other) > 3 else "")
            raise InvalidInputError(f"{printable(out)}: an earlier export, but it also holds "
                                    f"{printable(listed)}, which replacing it would delete; choose "
                                    "another output folder")


def export_latents(ws, out, fmt: str, *, set_name: str | None = None,
                   max_points: int | None = None, seed: int = 0, analysis=None,
                   progress=None, wait: float | None = 0.0,
                   sprite_limit: int = SPRITE_MAX_PX) -> ExportReport:
    """Write the latents of ``ws`` for another tool (see the module docstring).

    Parameters
    ----------
    ws : Workspace
    out : path
        The folder to write (built aside; an earlier export there is replaced when the new one is
        complete, another non-empty folder is refused).
    fmt : {"projector", "parquet"}
    set_name : str, optional
        A named latent set (``encode --data STORE --name NAME``) instead of the training latents.
    max_points : int or None
        Export a seeded subset of at most this many points (None or 0: all; the CLI's projector
        default is :data:`PROJECTOR_MAX_POINTS`).
    seed : int
        Random state of the subset.
    analysis : path, optional
        Parquet: a folder of ``latentexplorer analyze`` whose t-SNE / UMAP become columns
        (default: ``WS/results/analysis`` when it analyses these latents).
    progress : ProgressReporter, optional
    wait : float or None
        Seconds to wait for another writer of ``out`` (None: as long as it takes).
    sprite_limit : int
        Largest sprite side in pixels.

    Returns
    -------
    ExportReport
    """
    if fmt not in FORMATS:
        raise InvalidInputError(f"--format {printable(fmt)}: expected one of {', '.join(FORMATS)}")
    if analysis is not None and fmt != "parquet":
        raise InvalidInputError("--analysis goes with --format parquet (the projector computes its own "
                                "t-SNE and UMAP)")
    out = Path(out)
    _check_out(out)  # before the work: a folder we may not replace fails now
    src = load_source(ws, set_name, max_points=max_points or None, seed=seed)
    n, d = src.z.shape
    report = ExportReport(fmt, out, n, src.n_total, d)
    if n < src.n_total:
        why = (f"; TensorBoard's projector loads at most {PROJECTOR_MAX_POINTS:,} rows"
               if fmt == "projector" else "")
        report.notes.append(f"{n:,} of {src.n_total:,} points (a random subset, seed {seed}; "
                            f"the index column gives each point's row in the whole set{why})")
    with output_lock(out).acquire(wait):
        _check_out(out)  # again: another writer may have finished meanwhile
        with atomic_directory(out, overwrite=True) as tmp:
            if fmt == "projector":
                _write_projector(src, tmp, report, progress, sprite_limit)
            else:
                explicit = analysis is not None
                folder = Path(analysis) if explicit else Path(ws.path) / "results" / "analysis"
                _write_parquet(src, tmp, report, progress, folder, explicit)
            write_json(tmp / MANIFEST, {
                "format": EXPORT_FORMAT, "kind": fmt, **src.info, "n_points": n,
                "n_total": src.n_total, "subset_seed": seed if n < src.n_total else None,
                "files": report.files, "columns": report.columns,
                "sprite": report.sprite, "notes": report.notes,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})
    return report
