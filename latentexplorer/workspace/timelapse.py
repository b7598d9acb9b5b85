"""The time-lapse: the latents of a fixed probe subset of the training images after every epoch.

Layout (``WS/timelapse/``)::

    meta.json          {"format", "seed", "z_dim", "kind", "store" (fingerprint), "indices" (the probe
                        images, sorted store rows), "frames": [{"epoch", "file", "fingerprint"
                        (the weights that encoded it), "time"}, ...] (epochs increasing), "created"}
    epoch-0003.npy     (m, z_dim) float32: the probe images encoded after epoch 3 (VAE: mu)

A frame and the ``meta.json`` that lists it are committed as one file group
(:func:`latentexplorer.fileio.atomic_files`): a crash leaves the recording before or after that
frame, never a listed frame that is missing or half written. Files no ``meta.json`` names are
deleted by the next recording.

Training records a frame right *after* each epoch's commit (:class:`TimelapseRecorder`, called by
:func:`latentexplorer.workspace.training.train`), as a separate best-effort step: the epoch's
commit stays one rename of ``checkpoint.json``, and a frame that cannot be written (a full disk, a
damaged recording) costs a warning, never the epoch. Workspaces trained before the time-lapse
existed can record the epochs whose weights are still kept (:func:`record_kept_epochs`): the
current one and the one before it.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Callable, Literal

import numpy as np
from pydantic import Field, model_validator

from ..errors import InvalidInputError, LatentExplorerError
from ..fileio import atomic_files, recover, remove_stale_temporaries, save_npy, write_json
from ..inputs import load_npy, printable, read_json
from ..schemas import (MAX_EPOCHS, MAX_LATENT_ABS, MAX_Z_DIM, Fingerprint, Schema, Seed,
                       StoreFingerprint, Text)

TIMELAPSE_DIR = "timelapse"
META_FILE = "meta.json"
TIMELAPSE_FORMAT = "latentexplorer-timelapse/1"
#: training images in the probe subset (fewer when the store has fewer)
PROBE_SIZE = 2000
#: seed of the probe subset's draw
PROBE_SEED = 0
#: most probe images a recording may list (bounds what a damaged meta.json can make us read)
MAX_PROBE = 100_000
FRAME_FILE = re.compile(r"^epoch-(\d{4,})\.npy$")
#: a staged temporary (``.NAME.PID-XXXX.partial``, :func:`latentexplorer.fileio.temp_sibling`)
_LEFTOVER = re.compile(r"^\.(?P<name>.+?)\.\d+-.*\.partial$")


def frame_file(epoch: int) -> str:
    return f"epoch-{epoch:04d}.npy"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class TimelapseFrame(Schema):
    """One recorded epoch of ``meta.json``."""

    epoch: Annotated[int, Field(ge=1, le=MAX_EPOCHS)]
    file: Annotated[str, Field(pattern=r"^epoch-\d{4,}\.npy$")]
    fingerprint: Fingerprint
    time: Text | None = None

    @model_validator(mode="after")
    def _file_of_epoch(self) -> "TimelapseFrame":
        if self.file != frame_file(self.epoch):
            raise ValueError(f"frame of epoch {self.epoch} names file {self.file!r}, expected "
                             f"{frame_file(self.epoch)!r}")
        return self


class TimelapseMeta(Schema):
    """``WS/timelapse/meta.json`` (see the module docstring)."""

    format: Literal["latentexplorer-timelapse/1"] = TIMELAPSE_FORMAT
    seed: Seed
    z_dim: Annotated[int, Field(ge=1, le=MAX_Z_DIM)]
    kind: Literal["ae", "vae"]
    store: StoreFingerprint
    indices: Annotated[list[Annotated[int, Field(ge=0, le=10**12)]],
                       Field(min_length=2, max_length=MAX_PROBE)]
    frames: Annotated[list[TimelapseFrame], Field(max_length=MAX_EPOCHS)]
    created: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "TimelapseMeta":
        idx = np.asarray(self.indices, dtype=np.int64)
        if np.any(np.diff(idx) <= 0):
            raise ValueError("indices must be distinct store rows in increasing order")
        if idx[-1] >= self.store.count:
            raise ValueError(f"index {int(idx[-1])} is beyond the store's {self.store.count} images")
        epochs = [f.epoch for f in self.frames]
        if any(b <= a for a, b in zip(epochs, epochs[1:])):
            raise ValueError(f"frames must have increasing epochs, got {epochs}")
        return self


@dataclass(frozen=True)
class Recording:
    """A loaded, validated time-lapse.

    Attributes
    ----------
    meta : TimelapseMeta
    indices : ndarray of shape (m,), int64
        The probe images (store rows).
    epochs : ndarray of shape (n_frames,), int64
    frames : list of ndarray of shape (m, z_dim), float32
        The probe images' latents after each recorded epoch.
    """

    meta: TimelapseMeta
    indices: np.ndarray
    epochs: np.ndarray
    frames: list

    @property
    def fingerprints(self) -> list[str]:
        return [f.fingerprint for f in self.meta.frames]


def probe_indices(store, size: int = PROBE_SIZE, seed: int = PROBE_SEED) -> np.ndarray:
    """The probe subset: ``size`` training images of ``store`` (its train split), drawn with
    ``seed``, sorted. The same store gives the same subset every time."""
    train_idx, _ = store.split()
    pool = train_idx if len(train_idx) >= 2 else np.arange(store.n)
    k = min(int(size), len(pool))
    if k < 2:
        raise InvalidInputError(f"{printable(store.path)}: {store.n} image(s); a time-lapse needs at "
                                "least 2")
    return np.sort(np.random.default_rng(seed).choice(pool, k, replace=False)).astype(np.int64)


class Timelapse:
    """The folder ``WS/timelapse`` of one workspace (see the module docstring).

    Parameters
    ----------
    root : Path
    z_dim : int
        The model's latent dimension (every frame must have it).
    kind : {"ae", "vae"}
    """

    def __init__(self, root: Path, *, z_dim: int, kind: str) -> None:
        self.root = Path(root)
        self.z_dim = int(z_dim)
        self.kind = kind

    @property
    def meta_path(self) -> Path:
        return self.root / META_FILE

    @property
    def exists(self) -> bool:
        return self.meta_path.is_file()

    # ------------------------------------------------------------------ reading
    def meta(self) -> TimelapseMeta | None:
        """The validated ``meta.json`` (None when nothing was recorded)."""
        if not self.meta_path.exists():
            return None
        meta = read_json(self.meta_path, TimelapseMeta)
        for key in ("z_dim", "kind"):
            if getattr(meta, key) != getattr(self, key):
                raise InvalidInputError(
                    f"{printable(self.meta_path)}: {key} = {getattr(meta, key)!r}, but the model has "
                    f"{key} {getattr(self, key)!r} (a recording of another model? delete "
                    f"{printable(self.root)} to record again)")
        return meta

    def load(self) -> Recording:
        """Every recorded frame, each checked (float, (m, z_dim), finite and bounded).

        Raises
        ------
        InvalidInputError
            Nothing recorded yet, or one clear line naming the damaged file.
        """
        for attempt in range(2):
            meta = self.meta()
            if meta is None:
                raise InvalidInputError(f"{printable(self.root)}: no time-lapse recorded yet")
            try:
                return self._load(meta)
            except InvalidInputError:
                # a recording that restarted meanwhile deleted our frames: read the new one
                if attempt or self.meta() == meta:
                    raise
        raise AssertionError("unreachable")

    def _load(self, meta: TimelapseMeta) -> Recording:
        m = len(meta.indices)
        frames = [load_npy(self.root / f.file, kinds="f", shape=(m, self.z_dim),
                           max_abs=MAX_LATENT_ABS, what="time-lapse frame").astype(np.float32, copy=False)
                  for f in meta.frames]
        return Recording(meta, np.asarray(meta.indices, dtype=np.int64),
                         np.asarray([f.epoch for f in meta.frames], dtype=np.int64), frames)

    # ------------------------------------------------------------------ writing
    def record(self, z: np.ndarray, *, epoch: int, fingerprint: str, store: StoreFingerprint,
               indices: np.ndarray, seed: int = PROBE_SEED, keep_later: bool = False) -> TimelapseMeta:
        """Commit the frame of ``epoch`` (the caller holds the workspace lock).

        Frames of the same probe subset (same store, same indices) are kept; a recording of
        another subset is replaced. Without ``keep_later`` frames of ``epoch`` and later are
        dropped (training from scratch again, or a resumed run, goes on from here); with it
        (recording kept checkpoints afterwards) only a frame of ``epoch`` itself is replaced.
        """
        z = np.asarray(z, dtype=np.float32)
        idx = np.asarray(indices, dtype=np.int64)
        if z.shape != (len(idx), self.z_dim):
            raise ValueError(f"time-lapse frame: shape {z.shape}, expected ({len(idx)}, {self.z_dim})")
        current = self.meta() if self.exists else None
        same = current is not None and current.store == store and current.seed == seed \
            and np.array_equal(current.indices, idx)
        frames = [f for f in (current.frames if same else [])
                  if f.epoch != epoch and (keep_later or f.epoch < epoch)]
        frame = TimelapseFrame(epoch=epoch, file=frame_file(epoch), fingerprint=fingerprint, time=_now())
        frames = sorted([*frames, frame], key=lambda f: f.epoch)
        meta = TimelapseMeta(seed=seed, z_dim=self.z_dim, kind=self.kind, store=store,
                             indices=[int(i) for i in idx], frames=frames,
                             created=current.created if same else _now())
        self.root.mkdir(parents=True, exist_ok=True)
        # the frame first: the group's renames run in this order, so a reader that sees the new
        # meta.json finds its frame in place
        with atomic_files(self.root / frame.file, self.meta_path) as (tmp_frame, tmp_meta):
            save_npy(tmp_frame, z)
            write_json(tmp_meta, meta)
        self._prune(meta)
        return meta

    def clean_leftovers(self) -> None:
        """Complete or delete what a killed recording left: a committed group's pending renames
        (its journal), staged temporaries of dead processes. The caller holds the workspace lock
        (training calls it at its start, also when no epoch is left to train)."""
        try:
            names = {m["name"] for e in os.scandir(self.root) if (m := _LEFTOVER.match(e.name))}
        except OSError:
            return  # no recording yet
        recover(self.root)
        for name in names:
            remove_stale_temporaries(self.root / name)

    def _prune(self, meta: TimelapseMeta) -> None:
        """Delete frame files ``meta`` does not list (dropped epochs, a replaced recording)."""
        listed = {f.file for f in meta.frames}
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return
        for entry in entries:
            if FRAME_FILE.match(entry.name) and entry.name not in listed:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass  # housekeeping: a leftover file is ignored by every reader


# ---------------------------------------------------------------------- recording during training
def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


class TimelapseRecorder:
    """Encodes the probe subset with the model in memory after each committed epoch.

    Parameters
    ----------
    timelapse : Timelapse
    store : DatasetStore
        The store training reads (the probe images come from it).
    on_warning : callable(str)
        Told when a frame is not recorded (training goes on).

    The probe subset of an existing recording of the same store is kept; otherwise a new one is
    drawn (:func:`probe_indices`) and the first frame replaces the old recording.
    """

    def __init__(self, timelapse: Timelapse, store, on_warning: Callable[[str], None] = warn) -> None:
        self.timelapse = timelapse
        self.store = store
        self.on_warning = on_warning
        self.fingerprint = store.fingerprint()
        self.enabled = True
        self._encoder = None
        self._encoder_of = None
        try:
            meta = timelapse.meta()
        except InvalidInputError as exc:
            self.enabled = False
            on_warning(f"{exc}; no time-lapse is recorded in this run (delete "
                       f"{printable(timelapse.root)} to start a new recording)")
            return
        if meta is not None and meta.store == self.fingerprint:
            self.indices, self.seed = np.asarray(meta.indices, dtype=np.int64), meta.seed
        else:
            if meta is not None and meta.frames:
                on_warning(f"{printable(timelapse.root)}: recorded on other images (the store "
                           "changed); the time-lapse starts again with this run")
            self.indices, self.seed = probe_indices(store), PROBE_SEED

    def encode(self, model) -> np.ndarray:
        """The probe images' latents (m, z_dim) float32 under ``model``'s encoder (VAE: mu)."""
        from ..models.codec import Encoder

        if self._encoder_of is not model:  # one traced encoder for the whole run
            self._encoder = Encoder(model.encoder, warmup=False)
            self._encoder_of = model
        return self._encoder.encode(self.store.batch(self.indices))

    def record(self, model, epoch: int, fingerprint: str) -> bool:
        """Record the committed ``epoch`` (best effort: a failure is a warning). True if written."""
        if not self.enabled:
            return False
        try:
            self.timelapse.record(self.encode(model), epoch=epoch, fingerprint=fingerprint,
                                  store=self.fingerprint, indices=self.indices, seed=self.seed)
        except (LatentExplorerError, OSError) as exc:
            self.on_warning(f"time-lapse frame of epoch {epoch} not recorded: {exc}")
            return False
        return True


# ---------------------------------------------------------------------- recording afterwards
def record_kept_epochs(ws, progress=None, wait: float | None = 0.0) -> list[int]:
    """Record the epochs whose weights the workspace still keeps (the current one and the one
    before it) that the time-lapse lacks; returns the epochs recorded.

    Earlier epochs' weights are gone (every commit deletes all but the last two), so a workspace
    trained before the time-lapse existed can replay at most these two epochs.
    """
    from .. import signals
    from ..models.codec import Encoder
    from ..models.io import load_encoder

    done: list[int] = []
    with ws.lock(wait, command="record time-lapse"), signals.polling():
        tl = ws.timelapse()
        store = ws.dataset()
        meta = tl.meta()  # a damaged recording: its one clear error, nothing replaced
        recorder = TimelapseRecorder(tl, store, on_warning=lambda msg: None)
        same = meta is not None and meta.store == recorder.fingerprint
        have = {(f.epoch, f.fingerprint) for f in meta.frames} if same else set()
        snaps = [s for s in ws.kept_snapshots() if (s.epoch, s.fingerprint) not in have]
        for k, snap in enumerate(snaps):
            if progress is not None:
                progress.raise_if_cancelled()
                progress.update(k, len(snaps), f"time-lapse: encoding with epoch {snap.epoch}")
            z = Encoder(load_encoder(snap.dir), warmup=False).encode(store.batch(recorder.indices))
            tl.record(z, epoch=snap.epoch, fingerprint=snap.fingerprint, store=recorder.fingerprint,
                      indices=recorder.indices, seed=recorder.seed, keep_later=True)
            done.append(snap.epoch)
        if progress is not None:
            progress.update(len(snaps), max(len(snaps), 1), "time-lapse recorded")
    return done
