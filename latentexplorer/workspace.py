"""A workspace: the folder holding everything of one run (the unit the GUI opens).

Layout::

    WS/config.json        {"format", "model": ModelConfig dict, "data": absolute store path,
                           "training": {"epochs", "batch_size", "lr", "seed"}, "created"}
    WS/model/             encoder.keras decoder.keras model.keras model_config.json (latest epoch)
    WS/checkpoint.json    {"epoch": last complete epoch (1-based count), "time": ...}
    WS/history.json       [{"epoch": 1, "total_loss", "reco_loss", "kl_loss", "val_...", "seconds"}, ...]
    WS/latents/           z.npy (n, z_dim) float32, mu.npy, logvar.npy (VAE), meta.json
    WS/results/           analysis summaries, grids
    WS/gui_state.json     last plane, sliders, current point

``checkpoint.json`` is the commit marker of an epoch: it is written after the model files and the
history, so readers trust the history only up to the checkpoint epoch. ``latents/meta.json`` is
written last for the same reason. TensorFlow is imported only by the methods that load models.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidInputError
from .fileio import atomic_save_npy, atomic_write_json, load_npy, read_json
from .models.config import ModelConfig

WORKSPACE_FORMAT = "latentexplorer-workspace/1"
CONFIG_FILE = "config.json"
DEFAULT_TRAINING = {"epochs": 24, "batch_size": 128, "lr": 5e-4, "seed": 0}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _check_training(training: dict, where: str) -> dict:
    unknown = sorted(set(training) - set(DEFAULT_TRAINING))
    if unknown:
        raise InvalidInputError(f"{where}: unknown training parameter(s) {unknown}; known: {sorted(DEFAULT_TRAINING)}")
    out = {**DEFAULT_TRAINING, **training}
    for name in ("epochs", "batch_size"):
        v = out[name]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InvalidInputError(f"{where}: training {name}={v!r}, expected an integer >= 1")
    lr = out["lr"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (math.isfinite(lr) and lr > 0):
        raise InvalidInputError(f"{where}: training lr={lr!r}, expected a positive number")
    out["lr"] = float(lr)
    seed = out["seed"]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InvalidInputError(f"{where}: training seed={seed!r}, expected an integer >= 0 or null")
    return out


@dataclass(frozen=True)
class Latents:
    """Encoded dataset.

    Attributes
    ----------
    z : ndarray (n, z_dim) float32
        The latent vectors (VAE: z = mu).
    mu, logvar : ndarray (n, z_dim) float32 or None
        VAE only.
    fingerprint : str
        Weights fingerprint of the model that produced them.
    """

    z: np.ndarray
    mu: np.ndarray | None
    logvar: np.ndarray | None
    fingerprint: str

    @property
    def n(self) -> int:
        return int(self.z.shape[0])

    @property
    def z_dim(self) -> int:
        return int(self.z.shape[1])


class Workspace:
    """One run's folder; see the module docstring for the layout."""

    def __init__(self, path: Path, config: dict, model_config: ModelConfig) -> None:
        self.path = path
        self.config = config  # the parsed config.json
        self.model_config = model_config

    # ------------------------------------------------------------------ create / open
    @classmethod
    def create(cls, path: str | Path, data_dir: str | Path, model_config: ModelConfig,
               training: dict | None = None) -> "Workspace":
        """Make a new workspace for training ``model_config`` on the store at ``data_dir``.

        Raises
        ------
        InvalidInputError
            ``path`` already is a workspace or a non-empty folder; the store is missing or its image
            size differs from ``model_config.image_size``; bad training parameters.
        """
        from .data.store import DatasetStore

        path = Path(path)
        if (path / CONFIG_FILE).is_file():
            raise InvalidInputError(f"{path}: workspace exists, use --resume or another folder")
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise InvalidInputError(f"{path}: exists and is not an empty folder; choose another folder")
        data_dir = Path(data_dir).expanduser().resolve()
        store = DatasetStore.open(data_dir)
        if store.size != model_config.image_size:
            raise InvalidInputError(f"{data_dir}: images are {store.size}x{store.size} px but the model "
                                    f"expects image_size={model_config.image_size}")
        train = _check_training(dict(training or {}), f"{path}/{CONFIG_FILE}")
        path.mkdir(parents=True, exist_ok=True)
        config = {"format": WORKSPACE_FORMAT, "model": model_config.to_dict(), "data": str(data_dir),
                  "training": train, "created": _now()}
        atomic_write_json(path / CONFIG_FILE, config)
        return cls.open(path)

    @classmethod
    def open(cls, path: str | Path) -> "Workspace":
        """Open an existing workspace (validates config.json)."""
        path = Path(path)
        if not path.is_dir():
            raise InvalidInputError(f"{path}: workspace folder not found")
        cfg_path = path / CONFIG_FILE
        if not cfg_path.is_file():
            raise InvalidInputError(f"{path}: not a workspace ({CONFIG_FILE} missing)")
        config = read_json(cfg_path)
        if not isinstance(config, dict) or config.get("format") != WORKSPACE_FORMAT:
            fmt = config.get("format") if isinstance(config, dict) else None
            raise InvalidInputError(f"{cfg_path}: format {fmt!r}, expected {WORKSPACE_FORMAT!r}")
        for key in ("model", "data", "training"):
            if key not in config:
                raise InvalidInputError(f"{cfg_path}: missing entry {key!r}")
        try:
            model_config = ModelConfig.from_dict(config["model"])
        except InvalidInputError as exc:
            raise InvalidInputError(f"{cfg_path}: {exc}") from None
        config["training"] = _check_training(dict(config["training"]), str(cfg_path))
        return cls(path, config, model_config)

    # ------------------------------------------------------------------ paths and config
    @property
    def data_path(self) -> Path:
        return Path(self.config["data"])

    @property
    def training(self) -> dict:
        """Training parameters: epochs, batch_size, lr, seed."""
        return dict(self.config["training"])

    def update_training(self, **changes: Any) -> None:
        """Change training parameters (e.g. a larger ``epochs`` target on resume) and save config.json."""
        train = _check_training({**self.config["training"], **changes}, f"{self.path}/{CONFIG_FILE}")
        self.config["training"] = train
        self._write_config()

    def _write_config(self) -> None:
        atomic_write_json(self.path / CONFIG_FILE, self.config)

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def latents_dir(self) -> Path:
        return self.path / "latents"

    @property
    def results_dir(self) -> Path:
        d = self.path / "results"
        d.mkdir(exist_ok=True)
        return d

    def dataset(self):
        """The :class:`~latentexplorer.data.store.DatasetStore` this workspace trains on."""
        from .data.store import DatasetStore

        if not self.data_path.exists():
            raise InvalidInputError(f"{self.path}/{CONFIG_FILE}: dataset {self.data_path} not found "
                                    "(moved or deleted? put it back or edit the 'data' entry)")
        return DatasetStore.open(self.data_path)

    # ------------------------------------------------------------------ checkpoint and history
    @property
    def checkpoint_epoch(self) -> int:
        """Number of completed, saved epochs (0 before the first checkpoint)."""
        path = self.path / "checkpoint.json"
        if not path.is_file():
            return 0
        data = read_json(path)
        epoch = data.get("epoch") if isinstance(data, dict) else None
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise InvalidInputError(f"{path}: epoch={epoch!r}, expected an integer >= 0")
        if epoch > 0 and not (self.model_dir / "model.keras").is_file():
            raise InvalidInputError(f"{path}: says epoch {epoch} but {self.model_dir}/model.keras is missing")
        return epoch

    def write_checkpoint(self, epoch: int) -> None:
        atomic_write_json(self.path / "checkpoint.json", {"epoch": int(epoch), "time": _now()})

    def _read_history_file(self) -> list[dict]:
        path = self.path / "history.json"
        if not path.is_file():
            return []
        rows = read_json(path)
        if not isinstance(rows, list) or not all(isinstance(r, dict) and "epoch" in r for r in rows):
            raise InvalidInputError(f"{path}: expected a list of {{'epoch': ...}} objects")
        return rows

    def history(self) -> list[dict]:
        """Per-epoch losses up to the checkpoint epoch (later rows belong to an unsaved epoch)."""
        last = self.checkpoint_epoch
        return [r for r in self._read_history_file() if r["epoch"] <= last]

    def write_history(self, rows: list[dict]) -> None:
        atomic_write_json(self.path / "history.json", rows)

    # ------------------------------------------------------------------ models
    @property
    def has_model(self) -> bool:
        return self.checkpoint_epoch > 0

    def _require_model(self) -> None:
        if not self.has_model:
            raise InvalidInputError(f"{self.path}: no trained model yet (run 'latentexplorer train')")
        self._check_model_matches_config()

    def _check_model_matches_config(self) -> None:
        """The saved model must be this workspace's architecture (a model folder copied in from
        another run would decode the latents with the wrong z_dim or image size)."""
        path = self.model_dir / "model_config.json"
        if not path.is_file():
            return
        info = read_json(path)
        saved = info.get("model") if isinstance(info, dict) else None
        if not isinstance(saved, dict):
            raise InvalidInputError(f"{path}: not a LatentExplorer model config (no 'model' entry)")
        want = self.model_config
        for key in ("kind", "z_dim", "image_size"):
            if saved.get(key) != getattr(want, key):
                raise InvalidInputError(
                    f"{path}: the saved model has {key}={saved.get(key)!r} but {self.path}/{CONFIG_FILE} "
                    f"says {key}={getattr(want, key)!r} (model files from another workspace?)")

    def load_model(self):
        """The full AE/VAE of the last checkpoint (with optimizer state)."""
        from .models import io

        self._require_model()
        return io.load_model(self.model_dir)

    def load_encoder(self):
        from .models import io

        self._require_model()
        return io.load_encoder(self.model_dir)

    def load_decoder(self):
        from .models import io

        self._require_model()
        return io.load_decoder(self.model_dir)

    def model_fingerprint(self) -> str | None:
        """Fingerprint of the saved model's weights (from model/model_config.json), None if none."""
        path = self.model_dir / "model_config.json"
        if not path.is_file():
            return None
        info = read_json(path)
        return info.get("fingerprint") if isinstance(info, dict) else None

    # ------------------------------------------------------------------ latents
    @property
    def has_latents(self) -> bool:
        return (self.latents_dir / "meta.json").is_file()

    @property
    def latents_stale(self) -> bool:
        """True when the latents were encoded with other weights than the saved model's."""
        if not self.has_latents:
            return False
        meta = read_json(self.latents_dir / "meta.json")
        return not isinstance(meta, dict) or meta.get("fingerprint") != self.model_fingerprint()

    def write_latents(self, z: np.ndarray, mu: np.ndarray | None = None, logvar: np.ndarray | None = None,
                      fingerprint: str | None = None) -> None:
        """Store latents (each (n, z_dim) float32); meta.json goes last and marks them complete.

        The new arrays are first written to hidden temporary files; only then is the old marker
        removed and are the arrays renamed into place. A failed write (disk full) therefore keeps the
        previous latents usable, and a crash in between leaves no marker (absent, never mixed).
        """
        d = self.latents_dir
        d.mkdir(exist_ok=True)
        arrays = {"z": z, "mu": mu, "logvar": logvar}
        staged: list[tuple[Path, Path]] = []
        try:
            for name, arr in arrays.items():
                if arr is not None:
                    tmp = d / f".{name}.npy.new"
                    atomic_save_npy(tmp, np.asarray(arr, dtype=np.float32))
                    staged.append((tmp, d / f"{name}.npy"))
        except BaseException:
            for tmp, _ in staged:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            raise
        # Remove the old marker first: a crash mid-rename must not pair new arrays with old meta.
        with contextlib.suppress(FileNotFoundError):
            (d / "meta.json").unlink()
        for tmp, path in staged:
            os.replace(tmp, path)
        for name, arr in arrays.items():
            if arr is None:
                with contextlib.suppress(FileNotFoundError):
                    (d / f"{name}.npy").unlink()
        z = np.asarray(z)
        atomic_write_json(d / "meta.json", {
            "fingerprint": fingerprint if fingerprint is not None else self.model_fingerprint(),
            "n": int(z.shape[0]), "z_dim": int(z.shape[1]), "kind": self.model_config.kind,
            "arrays": [k for k, v in arrays.items() if v is not None], "created": _now()})

    def latents(self) -> Latents:
        """Load and validate the latents (shapes vs meta and z_dim; NaN/inf is an error)."""
        d = self.latents_dir
        if not self.has_latents:
            raise InvalidInputError(f"{d}: no latents yet (run 'latentexplorer encode --workspace {self.path}')")
        meta = read_json(d / "meta.json")
        if not isinstance(meta, dict):
            raise InvalidInputError(f"{d}/meta.json: expected a JSON object, got {type(meta).__name__} "
                                    f"(run 'latentexplorer encode --workspace {self.path}' again)")
        z_dim = self.model_config.z_dim
        n = meta.get("n")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidInputError(f"{d}/meta.json: n={n!r}, expected the number of latent vectors")
        if meta.get("z_dim") != z_dim:
            raise InvalidInputError(f"{d}/meta.json: z_dim={meta.get('z_dim')!r} but the model has z_dim={z_dim}")
        out: dict[str, np.ndarray | None] = {"z": None, "mu": None, "logvar": None}
        names = ["z", "mu", "logvar"] if self.model_config.kind == "vae" else ["z"]
        for name in names:
            path = d / f"{name}.npy"
            arr = load_npy(path)
            if arr.ndim != 2 or arr.shape != (n, z_dim):
                raise InvalidInputError(f"{path}: shape {arr.shape}, expected ({n}, {z_dim})")
            bad = int(np.count_nonzero(~np.isfinite(arr)))
            if bad:
                raise InvalidInputError(f"{path}: {bad} NaN/inf values (the model diverged? retrain with a "
                                        "lower --lr, then encode again)")
            out[name] = arr.astype(np.float32, copy=False)
        return Latents(out["z"], out["mu"], out["logvar"], str(meta.get("fingerprint")))

    def encode(self, batch_size: int = 256, progress=None) -> Latents:
        """Encode the whole dataset with the saved encoder and store the latents."""
        from .models.encode import encode_store

        encoder = self.load_encoder()
        result = encode_store(encoder, self.dataset(), batch_size=batch_size, progress=progress,
                              kind=self.model_config.kind)
        self.write_latents(result["z"], result.get("mu"), result.get("logvar"), self.model_fingerprint())
        return self.latents()

    # ------------------------------------------------------------------ GUI state
    def read_gui_state(self) -> dict:
        """The GUI's saved state, {} when absent or unreadable (it is disposable)."""
        path = self.path / "gui_state.json"
        if not path.is_file():
            return {}
        try:
            state = read_json(path)
        except InvalidInputError:
            return {}
        return state if isinstance(state, dict) else {}

    def write_gui_state(self, state: dict) -> None:
        atomic_write_json(self.path / "gui_state.json", state)
