"""Latent sets: encoded images, stored as versions that become current with one atomic switch.

Layout of a set (``WS/latents/`` for the training images, ``WS/latent_sets/NAME/`` for others)::

    meta.json        the pointer and the description: {"dir": "v-0003", "previous": "v-0002",
                     "fingerprint" (weights), "epoch", "store" (count, size, digest), "n", "z_dim",
                     "kind", "arrays", "data", "name", "created"}
    v-0003/          z.npy (n, z_dim) float32; VAE: mu.npy, logvar.npy

A new encoding is written into a new version folder; rewriting ``meta.json`` (one rename) makes it
current, and only then is the version before the previous one deleted. A reader reads ``meta.json``
once and loads the arrays of the version it names, so it always sees one complete encoding whose
weights and images are the ones recorded — even while a writer commits the next one.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..fileio import atomic_write_json, new_version, prune_versions, save_npy
from ..inputs import load_npy, printable, read_json
from ..schemas import MAX_LATENT_ABS, LatentsMeta, LegacyLatentsMeta, StoreFingerprint

META_FILE = "meta.json"
VERSION_PREFIX = "v"


#: a named latent set is a folder name: letters, digits, '.', '_', '-' (not leading '.'), 1-64 chars
SET_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")


def check_set_name(name: str, option: str = "--name") -> str:
    """``name`` if it can name a latent set (a plain folder name), else one clear error."""
    if not isinstance(name, str) or not SET_NAME.fullmatch(name):
        raise InvalidInputError(f"{option} {printable(str(name))}: expected 1 to 64 letters, digits, '.', '_' "
                                "or '-' (not starting with '.')")
    return name


@dataclass(frozen=True)
class Latents:
    """An encoded image set.

    Attributes
    ----------
    z : ndarray of shape (n, z_dim), float32
        The latent vectors (VAE: z = mu).
    mu, logvar : ndarray of shape (n, z_dim), float32, or None
        VAE only.
    meta : LatentsMeta
        The weights fingerprint and epoch, the store fingerprint, the set's name.
    """

    z: np.ndarray
    mu: np.ndarray | None
    logvar: np.ndarray | None
    meta: LatentsMeta

    @property
    def fingerprint(self) -> str | None:
        return self.meta.fingerprint

    @property
    def n(self) -> int:
        return int(self.z.shape[0])

    @property
    def z_dim(self) -> int:
        return int(self.z.shape[1])


class LatentSet:
    """One folder of versioned latents (see the module docstring).

    Parameters
    ----------
    root : Path
        The set's folder.
    z_dim : int
        The model's latent dimension (every array must have it).
    kind : {"ae", "vae"}
    fix : str
        The command that rebuilds the set (quoted in error messages).
    """

    def __init__(self, root: Path, *, z_dim: int, kind: str, fix: str) -> None:
        self.root = Path(root)
        self.z_dim = z_dim
        self.kind = kind
        self.fix = fix

    # ------------------------------------------------------------------ reading
    @property
    def exists(self) -> bool:
        return (self.root / META_FILE).is_file()

    def meta(self) -> LatentsMeta | None:
        """The current version's description (None when nothing was encoded yet)."""
        path = self.root / META_FILE
        if not path.exists():
            return None
        data = read_json(path)
        if isinstance(data, dict) and "format" not in data:
            old = read_json(path, LegacyLatentsMeta)  # written before versions: arrays in root
            return LatentsMeta(fingerprint=old.fingerprint if old.fingerprint else None, n=old.n,
                               z_dim=old.z_dim, kind=old.kind, arrays=old.arrays,
                               created=old.created, dir="v-0000")
        meta = read_json(path, LatentsMeta)
        if meta.z_dim != self.z_dim:
            raise InvalidInputError(f"{printable(path)}: z_dim = {meta.z_dim}, but the model has "
                                    f"z_dim {self.z_dim} (run '{self.fix}')")
        if meta.kind != self.kind:
            raise InvalidInputError(f"{printable(path)}: kind = {meta.kind!r}, but the model is a "
                                    f"{self.kind.upper()} (run '{self.fix}')")
        return meta

    def _array_dir(self, meta: LatentsMeta) -> Path:
        return self.root if meta.dir == "v-0000" else self.root / meta.dir

    def load(self) -> Latents:
        """The current version's arrays, each checked (float, (n, z_dim), finite, C order)."""
        for attempt in range(2):
            meta = self.meta()
            if meta is None:
                raise InvalidInputError(f"{printable(self.root)}: no latents yet (run '{self.fix}')")
            try:
                return self._load(meta)
            except InvalidInputError:
                # a writer may have committed twice meanwhile and pruned our version: read again
                if attempt or self.meta() == meta:
                    raise
        raise AssertionError("unreachable")

    def _load(self, meta: LatentsMeta) -> Latents:
        folder = self._array_dir(meta)
        wanted = ("z", "mu", "logvar") if self.kind == "vae" else ("z",)
        missing = [a for a in wanted if a not in meta.arrays]
        if missing:
            raise InvalidInputError(f"{printable(self.root / META_FILE)}: arrays = {meta.arrays}, "
                                    f"a {self.kind.upper()} needs {list(wanted)} (run '{self.fix}')")
        out: dict[str, np.ndarray | None] = {"z": None, "mu": None, "logvar": None}
        for name in wanted:
            # z and mu are latent values (bounded); logvar is only checked to be finite
            arr = load_npy(folder / f"{name}.npy", kinds="f", shape=(meta.n, self.z_dim),
                           max_abs=MAX_LATENT_ABS if name != "logvar" else None,
                           what="latent array")
            out[name] = arr.astype(np.float32, copy=False)
        return Latents(out["z"], out["mu"], out["logvar"], meta)

    # ------------------------------------------------------------------ writing
    def write(self, z: np.ndarray, mu: np.ndarray | None = None, logvar: np.ndarray | None = None,
              *, fingerprint: str | None, epoch: int | None = None,
              store: StoreFingerprint | None = None, data: str | None = None,
              name: str | None = None) -> LatentsMeta:
        """Commit a new version (the caller holds the workspace lock)."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.z_dim or z.shape[0] < 1:
            raise InvalidInputError(f"latents: shape {z.shape}, expected (n >= 1, {self.z_dim})")
        arrays = {"z": z, "mu": mu, "logvar": logvar}
        current = self.meta() if self.exists else None
        with new_version(self.root, VERSION_PREFIX) as (tmp, version):
            for key, arr in arrays.items():
                if arr is not None:
                    save_npy(tmp / f"{key}.npy", np.asarray(arr, dtype=np.float32))
        meta = LatentsMeta(
            fingerprint=fingerprint, n=int(z.shape[0]), z_dim=self.z_dim, kind=self.kind,
            arrays=[k for k, v in arrays.items() if v is not None], epoch=epoch, store=store,
            data=data, name=name, dir=version.name,
            previous=None if current is None or current.dir == "v-0000" else current.dir,
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        atomic_write_json(self.root / META_FILE, meta)  # the commit
        prune_versions(self.root, VERSION_PREFIX,
                       {self.root / meta.dir, self.root / meta.previous if meta.previous else None})
        if current is not None and current.dir == "v-0000":  # arrays of the old layout
            for key in ("z", "mu", "logvar"):
                (self.root / f"{key}.npy").unlink(missing_ok=True)
        return meta
