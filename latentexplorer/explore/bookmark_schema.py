"""The format of bookmark files (``WS/bookmarks.json`` and exported bookmarks): pydantic schemas in
the style of :mod:`latentexplorer.schemas` (strict types, closed objects, bounds where the tool can
still work). :mod:`latentexplorer.explore.bookmarks` reads, writes and applies them.

What a schema alone can check is checked here: types, finite values, lengths (the current vector and
a direction have ``z_dim`` values, plane axes lie below ``z_dim``), a known generator with known
settings, increasing selection indices. What depends on the workspace (its z_dim, its number of
points) is checked by the store.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, model_validator

from ..errors import InvalidInputError
from ..inputs import printable
from ..schemas import MAX_LATENT_ABS, MAX_SHARPEN, MAX_Z_DIM, Count, Finite, Fingerprint, Schema, Seed, Text
from .generate import DEFAULTS, METHODS, GeneratorSpec

BOOKMARKS_FORMAT = "latentexplorer-bookmarks/1"
MAX_BOOKMARKS = 10_000
MAX_NAME = 128
MAX_PATH_POINTS = 100_000
#: a selection of every point of the largest explorer set (2M) fits, with room
MAX_SELECTION = 20_000_000


def _name(value: str) -> str:
    if value != value.strip() or not value:
        raise ValueError("expected a name without leading or trailing spaces, not empty")
    if not value.isprintable():
        raise ValueError("expected a name without control characters")
    return value


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


BookmarkName = Annotated[str, Field(max_length=MAX_NAME), AfterValidator(_name)]
Axis = Annotated[int, Field(ge=0, le=MAX_Z_DIM)]
PlaneEntry = Annotated[tuple[Literal["latent", "pca"], Axis, Axis], BeforeValidator(_as_tuple)]
LatentValue = Annotated[float, Field(ge=-MAX_LATENT_ABS, le=MAX_LATENT_ABS, allow_inf_nan=False)]
PlanePoint = Annotated[list[Finite], Field(min_length=2, max_length=2)]


class PlanePathEntry(Schema):
    """A polyline in a plane (:class:`~latentexplorer.explore.paths.PlanePath`)."""

    kind: Literal["plane"]
    plane: PlaneEntry
    points: Annotated[list[PlanePoint], Field(min_length=1, max_length=MAX_PATH_POINTS)]


class DirectionPathEntry(Schema):
    """A line along a direction (:class:`~latentexplorer.explore.paths.DirectionPath`)."""

    kind: Literal["direction"]
    name: Annotated[str, Field(max_length=MAX_NAME)]
    unit: Annotated[list[Finite], Field(min_length=2, max_length=MAX_Z_DIM)]
    lo: Finite
    hi: Finite

    @model_validator(mode="after")
    def _range(self) -> "DirectionPathEntry":
        if not self.lo < self.hi:
            raise ValueError(f"path range [{self.lo}, {self.hi}]: expected lo < hi")
        if not any(self.unit):
            raise ValueError("path direction: expected a non-zero vector")
        return self


class GeneratorEntry(Schema):
    """A generator spec (:class:`~latentexplorer.explore.generate.GeneratorSpec`)."""

    method: Literal[METHODS]
    params: dict[Annotated[str, Field(max_length=64)], Union[bool, int, Finite]]
    n: Annotated[int, Field(ge=1, le=10_000_000)]
    seed: Seed

    @model_validator(mode="after")
    def _known(self) -> "GeneratorEntry":
        known = set(DEFAULTS[self.method]) | {"normal": {"center"}, "mvn": {"truncate"}}.get(self.method, set())
        unknown = sorted(set(self.params) - known)
        if unknown:
            raise ValueError(f"params: unknown settings {unknown} of the {self.method} generator "
                             f"(known: {', '.join(sorted(known)) or 'none'})")
        GeneratorSpec.from_dict(self.model_dump())  # values the generator refuses
        return self


class Bookmark(Schema):
    """One named explorer state (see the module docstring); immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    name: BookmarkName
    created: Text = ""
    z_dim: Annotated[int, Field(ge=2, le=MAX_Z_DIM)]
    plane: PlaneEntry
    current: Annotated[list[LatentValue], Field(min_length=2, max_length=MAX_Z_DIM)]
    current_index: Count | None = None
    path: Annotated[Union[PlanePathEntry, DirectionPathEntry], Field(discriminator="kind")] | None = None
    selection: Annotated[list[Count], Field(max_length=MAX_SELECTION)] | None = None
    generator: GeneratorEntry | None = None
    sigma_level: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    fact: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    sharpen: Annotated[float, Field(ge=0.0, le=MAX_SHARPEN)] | None = None
    decoder_fingerprint: Fingerprint | None = None
    #: set on import when the bookmark was made with another decoder than the workspace's
    decoder_mismatch: bool = False

    @model_validator(mode="after")
    def _shapes(self) -> "Bookmark":
        _check_plane(self.plane, self.z_dim, "plane")
        if len(self.current) != self.z_dim:
            raise ValueError(f"current: {len(self.current)} values, expected z_dim = {self.z_dim}")
        if isinstance(self.path, PlanePathEntry):
            _check_plane(self.path.plane, self.z_dim, "path.plane")
        elif isinstance(self.path, DirectionPathEntry) and len(self.path.unit) != self.z_dim:
            raise ValueError(f"path.unit: {len(self.path.unit)} values, expected z_dim = {self.z_dim}")
        sel = self.selection
        if sel and any(b <= a for a, b in zip(sel, sel[1:])):
            raise ValueError("selection: expected increasing point indices without repeats")
        return self

    # ------------------------------------------------------------------ views
    @property
    def vector(self) -> np.ndarray:
        return np.asarray(self.current, dtype=np.float32)

    @property
    def selection_indices(self) -> np.ndarray | None:
        return None if self.selection is None else np.asarray(self.selection, dtype=np.int64)

    def generator_spec(self) -> GeneratorSpec | None:
        return None if self.generator is None else GeneratorSpec.from_dict(self.generator.model_dump())

    def check_points(self, n_points: int | None) -> None:
        """Raise ValueError when a point index is not among ``n_points`` points."""
        if n_points is None:
            return
        if self.current_index is not None and self.current_index >= n_points:
            raise ValueError(f"current_index = {self.current_index}: expected an index below the "
                             f"{n_points:,} points")
        if self.selection and self.selection[-1] >= n_points:
            raise ValueError(f"selection: index {self.selection[-1]} is not among the "
                             f"{n_points:,} points (0..{n_points - 1})")

    def summary(self) -> str:
        """One line: plane, path, selection, generator, decoder."""
        kind, i, j = self.plane
        parts = [f"{kind} plane {i},{j}" if kind == "latent" else f"PCA plane {i + 1},{j + 1}"]
        if isinstance(self.path, PlanePathEntry):
            parts.append(f"path of {len(self.path.points)} points")
        elif self.path is not None:
            parts.append(f"path along {self.path.name!r}")
        if self.selection is not None:
            parts.append(f"{len(self.selection):,} selected")
        if self.generator is not None:
            parts.append(f"{self.generator.method} n={self.generator.n} seed={self.generator.seed}")
        if self.decoder_fingerprint:
            parts.append(f"decoder {self.decoder_fingerprint}"
                         + (" (another decoder)" if self.decoder_mismatch else ""))
        return ", ".join(parts)


def _check_plane(plane: tuple, z_dim: int, where: str) -> None:
    _kind, i, j = plane
    if i == j:
        raise ValueError(f"{where}: the two axes must differ (both are {i})")
    if max(i, j) >= z_dim:  # a PCA of z_dim components has at most z_dim axes too
        raise ValueError(f"{where}: axes {i}, {j}: expected axes in 0..{z_dim - 1} (z_dim = {z_dim})")


def _unique_names(items: list[Bookmark]) -> list[Bookmark]:
    seen: set[str] = set()
    for k, bm in enumerate(items):
        if bm.name in seen:
            raise ValueError(f"bookmarks[{k}]: the name {bm.name!r} is used twice")
        seen.add(bm.name)
    return items


class BookmarkFile(Schema):
    """``WS/bookmarks.json`` and every exported bookmark file."""

    format: Literal["latentexplorer-bookmarks/1"]
    bookmarks: Annotated[list[Bookmark], Field(max_length=MAX_BOOKMARKS),
                         AfterValidator(_unique_names)]


def check_name(name: Any) -> str:
    """A valid bookmark name (stripped) or InvalidInputError."""
    if not isinstance(name, str):
        raise InvalidInputError(f"bookmark name: expected text, got {type(name).__name__}")
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidInputError(f"bookmark name {printable(name)!r}: expected 1 to {MAX_NAME} "
                                "printable characters")
    return name


