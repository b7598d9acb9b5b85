"""Bookmarks: named states of the explorer, kept in ``WS/bookmarks.json``.

A :class:`Bookmark` records the plane, the current vector (and its data point), the path, the
selection (sorted point indices), the generator settings and seed, the overlay sliders and the
fingerprint of the decoder it was made with. :func:`capture` takes one from an
:class:`~latentexplorer.explore.model.ExplorationModel`, :func:`apply` puts it back.

:class:`BookmarkStore` is the workspace's list. Every change is a read → modify → write of the one
file, atomic (:func:`latentexplorer.fileio.atomic_write_text`) and under the lock
``WS/.bookmarks.json.lock`` (:mod:`latentexplorer.locks`; not the workspace lock, which training
holds for hours): two writers never interleave, and a writer killed at any instant leaves the old
or the new complete file. A damaged file is refused with one line naming it and is never
overwritten, so the bookmarks in it stay recoverable. Export writes the same format; import
validates every field against the workspace (axes within z_dim, vector length and finite values,
path shape, indices within the number of points) and keeps a bookmark made with another decoder,
flagged ``decoder_mismatch``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..errors import InvalidInputError
from ..fileio import atomic_write_text
from ..inputs import printable, read_bytes, read_json
from ..locks import Lock, folder_lock
from ..schemas import ModelInfo, parse
from .bookmark_schema import (BOOKMARKS_FORMAT, MAX_BOOKMARKS, MAX_NAME, Bookmark, BookmarkFile,
                              DirectionPathEntry, GeneratorEntry, PlanePathEntry, check_name)
from .generate import GeneratorSpec
from .model import ExplorationModel
from .paths import path_from_dict
from .plane import Plane

BOOKMARKS_FILE = "bookmarks.json"
#: bookmark files are read whole; a selection of 2M points is about 20 MB of JSON
MAX_FILE_BYTES = 256 * 1024 * 1024
#: seconds a writer waits for another one (they hold the lock for milliseconds)
LOCK_WAIT = 30.0


# ------------------------------------------------------------------------------ the model
def selection_of(model: ExplorationModel) -> np.ndarray | None:
    """The model's selection (sorted unique indices), None when nothing is selected."""
    sel = np.asarray(model.selection, dtype=np.int64).reshape(-1)
    return np.unique(sel) if sel.size else None


def restore_selection(model: ExplorationModel, indices: np.ndarray | None) -> None:
    """Select ``indices`` in the model (None: nothing)."""
    model.set_selection(np.zeros(0, np.int64) if indices is None else indices)


def capture(model: ExplorationModel, name: str, *, generator: GeneratorSpec | dict | None = None,
            decoder_fingerprint: str | None = None, selection: np.ndarray | None = None) -> Bookmark:
    """The bookmark ``name`` of the model's state.

    ``generator`` defaults to the spec of the samples shown (``model.sample_info["spec"]``),
    ``selection`` to :func:`selection_of`. Raises InvalidInputError without a current vector.
    """
    if model.current is None or model.z_dim == 0:
        raise InvalidInputError("bookmark: no current z-vector to save (load z-points first)")
    if generator is None:
        generator = (model.sample_info or {}).get("spec")
    if isinstance(generator, GeneratorSpec):
        generator = generator.to_dict()
    if selection is None:
        selection = selection_of(model)
    data = {"name": check_name(name),
            "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "z_dim": model.z_dim, "plane": model.plane.as_list(),
            "current": [float(x) for x in model.current.vector], "current_index": model.current.index,
            "path": None if model.path is None else model.path.to_dict(),
            "selection": None if selection is None else np.unique(selection).tolist(),
            "generator": generator, "sigma_level": model.sigma_level, "fact": model.fact,
            "sharpen": model.sharpen, "decoder_fingerprint": decoder_fingerprint}
    return parse(Bookmark, _plain(data), f"bookmark {printable(name)!r}")


def _plain(obj: Any) -> Any:
    """Python floats and ints (strict schemas refuse NumPy scalars), tuples as lists."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def apply(bookmark: Bookmark, model: ExplorationModel) -> list[str]:
    """Put the state of ``bookmark`` into ``model``; returns warnings (what was not restored).

    The generator settings are not the model's: the caller applies :meth:`Bookmark.generator_spec`.
    A PCA plane waits for the PCA when it is still being computed (as a restored GUI state does).
    """
    if model.z_dim != bookmark.z_dim:
        raise InvalidInputError(f"bookmark {bookmark.name!r}: made for z_dim {bookmark.z_dim}, the "
                                f"loaded z-points have z_dim {model.z_dim or 'none'}")
    warnings: list[str] = []
    try:
        bookmark.check_points(model.n_points)
    except ValueError as exc:
        warnings.append(f"{exc}; not restored")
    index = bookmark.current_index
    index = index if index is not None and index < model.n_points else None
    model.set_current(bookmark.vector, index)
    plane = Plane.parse(bookmark.plane)
    if plane.kind == "pca" and model.analysis is None:
        model._pending_plane = plane  # set_analysis applies it (as explore.persist does)
    else:
        try:
            model.set_plane(plane)
        except InvalidInputError as exc:
            warnings.append(f"plane not restored ({exc})")
    model.set_path(None if bookmark.path is None else path_from_dict(bookmark.path.model_dump()))
    for value, setter in ((bookmark.sigma_level, model.set_sigma_level), (bookmark.fact, model.set_fact),
                          (bookmark.sharpen, model.set_sharpen)):
        if value is not None:
            setter(value)
    sel = bookmark.selection_indices
    if sel is None or not sel.size or sel[-1] < model.n_points:  # else: warned above
        restore_selection(model, sel)
    return warnings


# ------------------------------------------------------------------------------ the store
def workspace_decoder_fingerprint(ws) -> str | None:
    """Fingerprint of the committed decoder's own weights (what grids and the GUI record), read
    from the epoch's ``model_config.json`` without loading TensorFlow; None without a model or
    for epochs written before it was recorded."""
    if not ws.has_model:
        return None
    return read_json(ws.snapshot().dir / "model_config.json", ModelInfo).decoder_fingerprint


class BookmarkStore:
    """The bookmarks of one workspace folder (see the module docstring).

    Parameters
    ----------
    folder : path
        The workspace folder; the bookmarks are ``folder/bookmarks.json``.
    z_dim : int
        The workspace model's latent dimension (every bookmark must have it).
    n_points : int, optional
        Number of z-points; imported indices must lie below it.
    decoder_fingerprint : str, optional
        The current decoder's fingerprint; imported bookmarks of another decoder are flagged.
    wait : float or None
        Seconds to wait for another writer (None: as long as it takes).
    """

    def __init__(self, folder: str | Path, *, z_dim: int, n_points: int | None = None,
                 decoder_fingerprint: str | None = None, wait: float | None = LOCK_WAIT) -> None:
        self.folder = Path(folder)
        self.path = self.folder / BOOKMARKS_FILE
        self.z_dim = int(z_dim)
        self.n_points = n_points
        self.decoder_fingerprint = decoder_fingerprint
        self.wait = wait

    @classmethod
    def for_workspace(cls, ws, *, n_points: int | None = None, wait: float | None = LOCK_WAIT,
                      **kw) -> "BookmarkStore":
        """The store of workspace ``ws``; ``n_points`` defaults to its latents' count and the
        decoder fingerprint (keyword ``decoder_fingerprint``) to its committed decoder's."""
        if n_points is None:
            meta = ws.latent_set().meta()
            n_points = None if meta is None else meta.n
        fingerprint = kw.pop("decoder_fingerprint") if "decoder_fingerprint" in kw \
            else workspace_decoder_fingerprint(ws)
        if kw:
            raise TypeError(f"unknown arguments {sorted(kw)}")
        return cls(ws.path, z_dim=ws.model_config.z_dim, n_points=n_points,
                   decoder_fingerprint=fingerprint, wait=wait)

    # ------------------------------------------------------------------ reading
    def bookmarks(self) -> list[Bookmark]:
        """All bookmarks, in the order they were added (none when the file does not exist)."""
        if not self.path.exists() and not self.path.is_symlink():
            return []
        try:
            return read_bookmarks(self.path, z_dim=self.z_dim)
        except InvalidInputError as exc:  # never overwritten: the bookmarks in it stay recoverable
            raise InvalidInputError(f"{exc}; nothing was changed (repair the file or move it "
                                    "aside)") from None

    def names(self) -> list[str]:
        return [bm.name for bm in self.bookmarks()]

    def get(self, name: str) -> Bookmark:
        for bm in self.bookmarks():
            if bm.name == name:
                return bm
        raise InvalidInputError(f"{printable(self.path)}: no bookmark named {printable(name)!r}")

    # ------------------------------------------------------------------ writing
    def lock(self) -> Lock:
        return Lock(self.folder / f".{BOOKMARKS_FILE}.lock", f"bookmarks {printable(self.path)}")

    @contextlib.contextmanager
    def _editing(self) -> Iterator[list[Bookmark]]:
        """The list, read under the lock; written back atomically when the block succeeds."""
        with self.lock().acquire(self.wait):
            items = self.bookmarks()
            yield items
            atomic_write_text(self.path, file_text(items))

    def add(self, bookmark: Bookmark, *, replace: bool = False) -> Bookmark:
        """Store ``bookmark``; a bookmark of the same name is an error unless ``replace``."""
        self._check(bookmark, f"bookmark {bookmark.name!r}")
        with self._editing() as items:
            at = _index(items, bookmark.name)
            if at is not None and not replace:
                raise InvalidInputError(f"{printable(self.path)}: a bookmark named "
                                        f"{printable(bookmark.name)!r} exists; choose another name")
            if at is None:
                items.append(bookmark)
            else:
                items[at] = bookmark
        return bookmark

    def rename(self, old: str, new: str) -> Bookmark:
        new = check_name(new)
        with self._editing() as items:
            at = _index(items, old)
            if at is None:
                raise InvalidInputError(f"{printable(self.path)}: no bookmark named {printable(old)!r}")
            if new != old and _index(items, new) is not None:
                raise InvalidInputError(f"{printable(self.path)}: a bookmark named "
                                        f"{printable(new)!r} exists; choose another name")
            items[at] = items[at].model_copy(update={"name": new})
        return items[at]

    def delete(self, name: str) -> None:
        with self._editing() as items:
            at = _index(items, name)
            if at is None:
                raise InvalidInputError(f"{printable(self.path)}: no bookmark named {printable(name)!r}")
            del items[at]

    def export(self, out: str | Path, names: list[str] | None = None) -> list[Bookmark]:
        """Write the bookmarks ``names`` (default: all) to the JSON file ``out``; returns them."""
        from ..outputs import check_output

        out = check_output(Path(out), kind="file")
        if out.suffix.lower() != ".json":
            raise InvalidInputError(f"{printable(out)}: a bookmark file must end in .json")
        if out.resolve() == self.path.resolve():
            raise InvalidInputError(f"{printable(out)}: is the workspace's own bookmark file; "
                                    "export to another file")
        items = self.bookmarks()
        if names is not None:
            missing = [n for n in names if _index(items, n) is None]
            if missing:
                raise InvalidInputError(f"{printable(self.path)}: no bookmark named "
                                        f"{printable(missing[0])!r}")
            items = [bm for bm in items if bm.name in set(names)]
        out.parent.mkdir(parents=True, exist_ok=True)
        with folder_lock(out.parent).acquire(self.wait):
            atomic_write_text(out, file_text(items))
        return items

    def import_file(self, path: str | Path, *, replace: bool = False) -> list[Bookmark]:
        """Add every bookmark of the file ``path``, each checked against this workspace; all or
        none. A name in use gets a suffix (" (2)") unless ``replace``. Bookmarks of another
        decoder are flagged ``decoder_mismatch``. Returns the bookmarks as stored."""
        where = printable(path)
        incoming = read_bookmarks(path, z_dim=self.z_dim, n_points=self.n_points)
        flagged = [bm.model_copy(update={"decoder_mismatch": self._mismatch(bm)}) for bm in incoming]
        stored: list[Bookmark] = []
        with self._editing() as items:
            if len(items) + len(flagged) > MAX_BOOKMARKS and not replace:
                raise InvalidInputError(f"{where}: {len(flagged)} bookmarks would exceed the "
                                        f"{MAX_BOOKMARKS:,} a workspace may hold")
            for bm in flagged:
                at = _index(items, bm.name)
                if at is not None and replace:
                    items[at] = bm
                else:
                    if at is not None:
                        bm = bm.model_copy(update={"name": _free_name(items, bm.name)})
                    items.append(bm)
                stored.append(bm)
        return stored

    def _mismatch(self, bm: Bookmark) -> bool:
        return bool(bm.decoder_fingerprint and self.decoder_fingerprint
                    and bm.decoder_fingerprint != self.decoder_fingerprint)

    def _check(self, bm: Bookmark, where: str) -> None:
        if bm.z_dim != self.z_dim:
            raise InvalidInputError(f"{where}: z_dim = {bm.z_dim}, but the workspace's model has "
                                    f"z_dim {self.z_dim}")
        try:
            bm.check_points(self.n_points)
        except ValueError as exc:
            raise InvalidInputError(f"{where}: {exc}") from None


def read_bookmarks(path: str | Path, *, z_dim: int | None = None,
                   n_points: int | None = None) -> list[Bookmark]:
    """The bookmarks of a bookmark file, each checked against ``z_dim`` and ``n_points`` when
    given; any problem is one InvalidInputError naming the file, the bookmark and the field."""
    path = Path(path)
    where = printable(path)
    data = parse(BookmarkFile, read_bytes(path, "bookmark file", MAX_FILE_BYTES), where)
    for k, bm in enumerate(data.bookmarks):
        label = f"{where}: bookmarks[{k}] ({printable(bm.name)!r})"
        if z_dim is not None and bm.z_dim != z_dim:
            raise InvalidInputError(f"{label}: z_dim = {bm.z_dim}, but the workspace's model has "
                                    f"z_dim {z_dim}")
        try:
            bm.check_points(n_points)
        except ValueError as exc:
            raise InvalidInputError(f"{label}: {exc}") from None
    return list(data.bookmarks)


def file_text(items: list[Bookmark]) -> str:
    """The JSON text of a bookmark file: one bookmark a line (a selection of a million indices
    stays one line instead of a million)."""
    lines = [json.dumps(bm.model_dump(mode="json", exclude_none=True), separators=(",", ":"),
                        ensure_ascii=False) for bm in items]
    body = ",\n    ".join(lines)
    return (f'{{\n  "format": "{BOOKMARKS_FORMAT}",\n  "bookmarks": [' +
            (f"\n    {body}\n  " if lines else "") + "]\n}\n")


def _index(items: list[Bookmark], name: str) -> int | None:
    return next((k for k, bm in enumerate(items) if bm.name == name), None)


def _free_name(items: list[Bookmark], name: str) -> str:
    taken = {bm.name for bm in items}
    for k in range(2, MAX_BOOKMARKS + 2):
        suffix = f" ({k})"
        candidate = name[:MAX_NAME - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    raise InvalidInputError(f"bookmark {name!r}: no free name")  # unreachable below MAX_BOOKMARKS


__all__ = ["Bookmark", "BookmarkFile", "BookmarkStore", "DirectionPathEntry", "GeneratorEntry",
           "PlanePathEntry", "apply", "capture", "check_name", "file_text", "read_bookmarks",
           "restore_selection", "selection_of", "workspace_decoder_fingerprint", "BOOKMARKS_FILE",
           "BOOKMARKS_FORMAT"]
