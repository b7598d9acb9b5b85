"""Merge several dataset stores of the same image size into one (e.g. two CelebA folders)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InvalidInputError
from ..progress import ProgressReporter
from .store import DatasetStore, StoreWriter

_CHUNK = 2048


def merge_stores(sources: Sequence[str | Path], out: str | Path, *, overwrite: bool = False,
                 progress: ProgressReporter | None = None, wait: float | None = 0.0) -> DatasetStore:
    """Concatenate the images of ``sources`` (in order) into a new store at ``out``.

    Attributes are the union of all attribute names; a store that lacks an attribute gets NaN
    (unknown) in that column, so colouring by it simply leaves those points out. File names are
    prefixed with the source store's folder name to stay unique.

    Returns
    -------
    DatasetStore
        The new store, opened.
    """
    if len(sources) < 2:
        raise InvalidInputError("merge needs at least two stores")
    stores = [DatasetStore.open(s) for s in sources]
    sizes = {s.size for s in stores}
    if len(sizes) != 1:
        raise InvalidInputError(
            "stores have different image sizes: "
            + ", ".join(f"{s.path} ({s.size}px)" for s in stores) + "; prepare them with the same --size")
    size = sizes.pop()
    names: list[str] = []
    for s in stores:
        names += [a for a in s.attribute_names if a not in names]
    total = sum(s.n for s in stores)
    attrs = np.full((total, len(names)), np.nan, dtype=np.float32) if names else None
    filenames: list[str] = []
    with StoreWriter(out, total, size, overwrite=overwrite, wait=wait) as writer:
        row = 0
        for s in stores:
            for start in range(0, s.n, _CHUNK):
                stop = min(s.n, start + _CHUNK)
                writer.images[row + start:row + stop] = s.images[start:stop]
                if progress is not None:
                    progress.update(row + stop, total, s.path.name)
                    progress.raise_if_cancelled()
            if attrs is not None and s.attributes is not None:
                cols = [names.index(a) for a in s.attribute_names]
                attrs[row:row + s.n, cols] = s.attributes
            filenames += [f"{s.path.name}/{f}" for f in s.filenames]
            row += s.n
        writer.set_filenames(filenames)
        if attrs is not None:
            writer.set_attributes(attrs, names)
        writer.finish({"source": "merge", "preset": "merge",
                       "sources": [{"path": str(s.path.resolve()), "count": s.n,
                                    "preset": s.meta.get("preset")} for s in stores]})
    return DatasetStore.open(out)
