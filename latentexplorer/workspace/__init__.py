"""A workspace: the folder holding everything of one run (the unit the GUI opens).

Layout::

    WS/config.json            {"format", "model": ModelConfig, "data": absolute store path,
                               "training": {"epochs", "batch_size", "lr", "seed"}, "created"}
    WS/checkpoint.json        the current epoch: {"epoch", "model": "checkpoints/epoch-0003",
                               "previous", "fingerprint" (weights), "store" (fingerprint), "time"}
    WS/checkpoints/epoch-NNNN/ encoder.keras decoder.keras model.keras model_config.json
                               history.json (every epoch up to N)
    WS/latents/               meta.json + v-NNNN/ (z.npy; VAE: mu.npy, logvar.npy) — latents.py
    WS/latent_sets/NAME/      other encoded image sets, same layout
    WS/timelapse/             meta.json + epoch-NNNN.npy: a fixed probe subset encoded after every
                              epoch (timelapse.py)
    WS/results/               analyses and grids
    WS/gui_state.json         last plane, sliders, current point
    WS/.latentexplorer.lock   the writers' lock (locks.py)

An epoch is written completely into its own folder and becomes current when ``checkpoint.json`` is
replaced — one atomic rename. The previous epoch's folder stays until the next epoch is committed, so
a crash at any instant leaves the last complete epoch, and a reader that read the pointer keeps a
complete model to load. Every file is validated as it is read (:mod:`latentexplorer.schemas`).
TensorFlow is imported only by the methods that load models.
"""

from __future__ import annotations

import datetime as _dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from ..fileio import atomic_write_json, new_version, prune_versions, write_json
from ..inputs import printable, read_json
from ..locks import Lock, workspace_lock
from ..schemas import (HISTORY, WORKSPACE_FORMAT, Checkpoint, GuiState, LegacyCheckpoint, ModelConfig,
                       ModelInfo, StoreFingerprint, TrainingParams, WorkspaceConfig, parse,
                       parse_lenient)
from .latents import SET_NAME, Latents, LatentSet, check_set_name
from .timelapse import TIMELAPSE_DIR, Timelapse
from .staleness import Staleness, check_staleness

__all__ = ["Workspace", "Latents", "ModelSnapshot", "Staleness", "CONFIG_FILE"]

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.json"
CHECKPOINTS_DIR = "checkpoints"
EPOCH_PREFIX = "epoch"
DEFAULT_TRAINING = TrainingParams().model_dump()


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ModelSnapshot:
    """One committed epoch: the folder of its model files, read once from ``checkpoint.json``.

    A reader loads everything from ``dir``; that folder is never changed in place, so the weights it
    loads are the ones ``fingerprint`` names.
    """

    dir: Path
    epoch: int
    fingerprint: str | None
    store: StoreFingerprint | None = None


class Workspace:
    """One run's folder; see the module docstring for the layout."""

    def __init__(self, path: Path, config: WorkspaceConfig) -> None:
        self.path = path
        self._config = config

    # ------------------------------------------------------------------ create / open
    @classmethod
    def create(cls, path: str | Path, data_dir: str | Path, model_config: ModelConfig,
               training: dict | None = None) -> "Workspace":
        """Make a workspace for training ``model_config`` on the store at ``data_dir``.

        A folder that holds a workspace without any committed epoch (a first run that failed) is
        no work: its config is replaced.

        Raises
        ------
        InvalidInputError
            ``path`` holds a trained workspace or is a non-empty folder; the store is missing or its
            image size differs from ``model_config.image_size``; bad training parameters.
        """
        from ..data.store import DatasetStore

        from ..outputs import check_output

        path = check_output(Path(path), kind="folder", option="--workspace")
        where = printable(path)
        if (path / CONFIG_FILE).exists():
            if (path / CHECKPOINT_FILE).exists():
                raise InvalidInputError(f"{where}: workspace exists, use --resume or another folder")
        elif path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise InvalidInputError(f"{where}: exists and is not an empty folder; choose another folder")
        data_dir = Path(data_dir).expanduser().resolve()
        store = DatasetStore.open(data_dir)
        if store.size != model_config.image_size:
            raise InvalidInputError(f"{printable(data_dir)}: images are {store.size}x{store.size} px but "
                                    f"the model expects image_size={model_config.image_size}")
        train = parse(TrainingParams, {**DEFAULT_TRAINING, **(training or {})},
                      f"{where}/{CONFIG_FILE}: training")
        config = WorkspaceConfig(format=WORKSPACE_FORMAT, model=model_config, data=str(data_dir),
                                 training=train, created=_now())
        path.mkdir(parents=True, exist_ok=True)
        with workspace_lock(path):
            if (path / CHECKPOINT_FILE).exists():  # trained by another process meanwhile
                raise InvalidInputError(f"{where}: workspace exists, use --resume or another folder")
            atomic_write_json(path / CONFIG_FILE, config)
        return cls(path, config)

    @classmethod
    def open(cls, path: str | Path) -> "Workspace":
        """Open an existing workspace (validates config.json)."""
        path = Path(path)
        if not path.is_dir():
            raise InvalidInputError(f"{printable(path)}: workspace folder not found")
        if not (path / CONFIG_FILE).exists():
            raise InvalidInputError(f"{printable(path)}: not a workspace ({CONFIG_FILE} missing)")
        return cls(path, read_json(path / CONFIG_FILE, WorkspaceConfig))

    def lock(self, wait: float | None = 0.0, command: str | None = None) -> Lock:
        """Take the workspace's writer lock (``LockedError`` naming the holder when busy)."""
        return workspace_lock(self.path, command).acquire(wait)

    # ------------------------------------------------------------------ config
    @property
    def config(self) -> dict:
        return self._config.model_dump(mode="json")

    @property
    def model_config(self) -> ModelConfig:
        return self._config.model

    @property
    def data_path(self) -> Path:
        return Path(self._config.data)

    @property
    def training(self) -> dict:
        """Training parameters: epochs, batch_size, lr, seed."""
        return self._config.training.model_dump()

    def update_training(self, **changes: Any) -> None:
        """Change training parameters (e.g. a larger ``epochs`` target) and save config.json."""
        where = f"{printable(self.path)}/{CONFIG_FILE}: training"
        train = parse(TrainingParams, {**self.training, **changes}, where)
        self._config = self._config.model_copy(update={"training": train})
        atomic_write_json(self.path / CONFIG_FILE, self._config)

    @property
    def results_dir(self) -> Path:
        d = self.path / "results"
        d.mkdir(exist_ok=True)
        return d

    def dataset(self):
        """The :class:`~latentexplorer.data.store.DatasetStore` this workspace trains on."""
        from ..data.store import DatasetStore

        if not self.data_path.exists():
            raise InvalidInputError(f"{printable(self.path)}/{CONFIG_FILE}: dataset "
                                    f"{printable(self.data_path)} not found (moved or deleted? put it "
                                    "back or edit the 'data' entry)")
        return DatasetStore.open(self.data_path)

    # ------------------------------------------------------------------ epochs
    def checkpoint(self) -> Checkpoint | None:
        """The committed epoch's pointer (None before the first epoch)."""
        path = self.path / CHECKPOINT_FILE
        if not path.exists():
            return None
        data = read_json(path)
        if isinstance(data, dict) and "format" not in data:  # written before epoch folders
            old = read_json(path, LegacyCheckpoint)
            if old.epoch == 0:
                return None
            info = self._model_info(self.path / "model")
            return Checkpoint(epoch=old.epoch, model="model", fingerprint=info.fingerprint,
                              time=old.time)
        return read_json(path, Checkpoint)

    @property
    def checkpoint_epoch(self) -> int:
        """Number of completed, committed epochs (0 before the first)."""
        cp = self.checkpoint()
        return 0 if cp is None else cp.epoch

    @property
    def has_model(self) -> bool:
        return self.checkpoint() is not None

    def snapshot(self) -> ModelSnapshot:
        """The current epoch's model folder (read once; load everything of one use from it)."""
        cp = self.checkpoint()
        if cp is None:
            raise InvalidInputError(f"{printable(self.path)}: no trained model yet (run "
                                    f"'latentexplorer train --workspace {printable(self.path)}')")
        folder = self.path / cp.model
        if not folder.is_dir():
            raise InvalidInputError(f"{printable(self.path / CHECKPOINT_FILE)}: model = {cp.model!r}, "
                                    "but that folder is missing (files deleted by hand?)")
        info = self._model_info(folder)  # the architecture must be this workspace's
        if cp.model != "model" and (info.fingerprint != cp.fingerprint or
                                    (info.epoch is not None and info.epoch != cp.epoch)):
            # the pointer names a folder whose weights are not the ones it committed: loading them
            # would decode (and record) other weights than the checkpoint's
            raise InvalidInputError(
                f"{printable(self.path / CHECKPOINT_FILE)}: epoch {cp.epoch} with weights "
                f"{cp.fingerprint}, but its model = {cp.model!r} holds "
                f"{'epoch ' + str(info.epoch) + ' with ' if info.epoch is not None else ''}weights "
                f"{info.fingerprint} ({printable(folder / 'model_config.json')}); the pointer was "
                "edited or files were copied by hand (restore them, or train again)")
        return ModelSnapshot(folder, cp.epoch, cp.fingerprint, cp.store)

    def kept_snapshots(self) -> list[ModelSnapshot]:
        """The committed epochs whose weights are still on disk, oldest first: the previous epoch
        (its folder stays until the next commit; left out when missing or damaged) and the
        current one. Earlier epochs' weights are deleted when a later epoch is committed."""
        current = self.snapshot()
        cp = self.checkpoint()
        out = []
        folder = self.path / cp.previous if cp is not None and cp.previous else None
        found = re.fullmatch(rf"{EPOCH_PREFIX}-(\d{{4,}})", folder.name) if folder is not None else None
        if found and folder.is_dir() and int(found[1]) < current.epoch:
            try:
                info = self._model_info(folder)
            except InvalidInputError:
                info = None  # the current epoch does not depend on it: offer only that one
            if info is not None and info.epoch in (None, int(found[1])):
                out.append(ModelSnapshot(folder, int(found[1]), info.fingerprint))
        return [*out, current]

    @property
    def model_dir(self) -> Path:
        return self.snapshot().dir

    def _model_info(self, folder: Path) -> ModelInfo:
        path = folder / "model_config.json"
        info = read_json(path, ModelInfo)
        want = self.model_config
        for key in ("kind", "z_dim", "image_size"):
            if getattr(info.model, key) != getattr(want, key):
                raise InvalidInputError(
                    f"{printable(path)}: the saved model has {key}={getattr(info.model, key)!r} but "
                    f"{printable(self.path)}/{CONFIG_FILE} says {key}={getattr(want, key)!r} (model "
                    "files from another workspace?)")
        return info

    def model_fingerprint(self) -> str | None:
        """Fingerprint of the committed weights, None before the first epoch."""
        cp = self.checkpoint()
        return None if cp is None else cp.fingerprint

    def history(self, snapshot: ModelSnapshot | None = None) -> list[dict]:
        """Per-epoch losses of the committed epochs."""
        cp = self.checkpoint() if snapshot is None else snapshot
        if cp is None:
            return []
        folder = snapshot.dir if snapshot is not None else self.path / cp.model
        legacy = folder.name == "model"
        path = (self.path if legacy else folder) / "history.json"
        if legacy and not path.exists():
            return []
        rows = read_json(path, HISTORY)
        if legacy:
            rows = rows[:cp.epoch]
        elif len(rows) != cp.epoch:
            raise InvalidInputError(f"{printable(path)}: {len(rows)} rows for epoch {cp.epoch}")
        return [r.model_dump(exclude_none=True) for r in rows]

    def commit_epoch(self, model, history: list[dict], store: StoreFingerprint | None) -> Checkpoint:
        """Write the epoch ``history[-1]["epoch"]`` into its own folder and make it current with one
        atomic rename of checkpoint.json; then delete all but it and the previous epoch.

        The caller holds the workspace lock. The stop signals are held back during the switch.
        """
        from .. import signals
        from ..models.io import save_model

        rows = parse(HISTORY, history, "history")
        epoch = rows[-1].epoch
        current = self.checkpoint()
        if current is not None and epoch <= current.epoch:
            raise ValueError(f"commit_epoch: epoch {epoch} is not after the committed epoch "
                             f"{current.epoch}")
        root = self.path / CHECKPOINTS_DIR
        with new_version(root, EPOCH_PREFIX, epoch) as (tmp, final):
            fingerprint = save_model(model, tmp, epoch=epoch)
            write_json(tmp / "history.json", [r.model_dump(exclude_none=True) for r in rows])
        pointer = Checkpoint(epoch=epoch, model=f"{CHECKPOINTS_DIR}/{final.name}",
                             previous=None if current is None or current.model == "model" else current.model,
                             fingerprint=fingerprint, store=store, time=_now())
        with signals.deferred():
            atomic_write_json(self.path / CHECKPOINT_FILE, pointer)  # the commit
        prune_versions(root, EPOCH_PREFIX, {final, self.path / pointer.previous if pointer.previous else None})
        if current is not None and current.model == "model":  # the layout before epoch folders
            shutil.rmtree(self.path / "model", ignore_errors=True)
            (self.path / "history.json").unlink(missing_ok=True)
        return pointer

    # ------------------------------------------------------------------ models
    def load_model(self, snapshot: ModelSnapshot | None = None):
        """The full AE/VAE of the committed epoch (with optimizer state)."""
        from ..models import io

        return io.load_model((snapshot or self.snapshot()).dir)

    def load_encoder(self, snapshot: ModelSnapshot | None = None):
        from ..models import io

        return io.load_encoder((snapshot or self.snapshot()).dir)

    def load_decoder(self, snapshot: ModelSnapshot | None = None):
        from ..models import io

        return io.load_decoder((snapshot or self.snapshot()).dir)

    # ------------------------------------------------------------------ latents
    def latent_set(self, name: str | None = None) -> LatentSet:
        """The training latents (``name`` None) or a named set of other images."""
        cfg = self.model_config
        if name is not None:
            check_set_name(name)
        if name is None:
            root, fix = self.path / "latents", f"latentexplorer encode --workspace {printable(self.path)}"
        else:
            root = self.path / "latent_sets" / name
            fix = f"latentexplorer encode --workspace {printable(self.path)} --data STORE --name {name}"
        return LatentSet(root, z_dim=cfg.z_dim, kind=cfg.kind, fix=fix)

    @property
    def latents_dir(self) -> Path:
        return self.path / "latents"

    def latent_set_names(self) -> list[str]:
        """Names of the committed named latent sets (``WS/latent_sets/NAME``), sorted."""
        root = self.path / "latent_sets"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir()
                      if SET_NAME.fullmatch(p.name) and (p / "meta.json").is_file())

    @property
    def has_latents(self) -> bool:
        return self.latent_set().exists

    def latents(self, name: str | None = None) -> Latents:
        """Load and validate the current latents (shapes vs meta and z_dim; NaN/inf is an error)."""
        return self.latent_set(name).load()

    def staleness(self, latents: Latents | None = None) -> Staleness:
        """Do the latents still match the committed weights and the store? (messages if not)"""
        meta = latents.meta if latents is not None else self.latent_set().meta()
        return check_staleness(self, meta)

    @property
    def latents_stale(self) -> bool:
        return self.has_latents and self.staleness().stale

    def write_latents(self, z, mu=None, logvar=None, *, snapshot: ModelSnapshot | None = None,
                      store: StoreFingerprint | None = None, name: str | None = None,
                      data: str | None = None):
        """Commit latents encoded with ``snapshot``'s weights from ``store`` (caller holds the lock)."""
        snap = snapshot or self.snapshot()
        return self.latent_set(name).write(z, mu, logvar, fingerprint=snap.fingerprint,
                                           epoch=snap.epoch, store=store, data=data, name=name)

    def encode(self, batch_size: int = 256, progress=None, *, wait: float | None = 0.0,
               data=None, name: str | None = None) -> Latents:
        """Encode the store (default: the training store) with the committed encoder, under the
        workspace lock; the latents record the weights and the store they came from."""
        from .. import signals
        from ..models.encode import encode_store

        # stop signals are acted on between batches, never inside TensorFlow (signals.polling)
        with self.lock(wait), signals.polling():
            snap = self.snapshot()
            encoder = self.load_encoder(snap)
            store = self.dataset() if data is None else data
            result = encode_store(encoder, store, batch_size=batch_size, progress=progress,
                                  kind=self.model_config.kind)
            self.write_latents(result["z"], result.get("mu"), result.get("logvar"), snapshot=snap,
                               store=store.fingerprint(), name=name, data=str(store.path))
        return self.latents(name)

    # ------------------------------------------------------------------ time-lapse
    def timelapse(self) -> Timelapse:
        """The probe subset's latents after every recorded epoch (``WS/timelapse``)."""
        cfg = self.model_config
        return Timelapse(self.path / TIMELAPSE_DIR, z_dim=cfg.z_dim, kind=cfg.kind)

    # ------------------------------------------------------------------ GUI state
    def read_gui_state(self, warn=None) -> dict:
        """The GUI's saved state: the valid entries of gui_state.json ({} when absent)."""
        path = self.path / "gui_state.json"
        if not path.exists():
            return {}
        try:
            data = read_json(path)
        except InvalidInputError as exc:
            if warn is not None:
                warn(f"{exc}; ignored")
            return {}
        state = parse_lenient(GuiState, data, printable(path), warn)
        return state.model_dump(exclude_none=True)

    def write_gui_state(self, state: dict) -> None:
        atomic_write_json(self.path / "gui_state.json", state)
