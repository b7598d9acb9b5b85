"""Save / load models as ``.keras`` files plus a JSON config, each file replaced atomically.

Folder layout (``WS/model/``)::

    encoder.keras       functional encoder (image → z, or → [mu, logvar])
    decoder.keras       functional decoder (z → image)
    model.keras         the full AE / VAE incl. optimizer state (for resuming training)
    model_config.json   {"model": ModelConfig dict, "kind", "fingerprint", "keras_version"}

Loading always uses ``safe_mode=True`` (no arbitrary code from lambdas in foreign files).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import zipfile
from pathlib import Path

from .. import _env  # noqa: F401

import keras
import numpy as np

from ..errors import InvalidInputError
from ..fileio import (temp_sibling, _fsync_dir, atomic_write_json, is_write_error, read_json,
                      write_error)
from .autoencoder import AE, VAE, LatentAutoencoder  # noqa: F401  (registers the classes)
from .config import ModelConfig

ENCODER_FILE = "encoder.keras"
DECODER_FILE = "decoder.keras"
MODEL_FILE = "model.keras"
CONFIG_FILE = "model_config.json"


def weights_fingerprint(model: keras.Model) -> str:
    """sha256 over the shapes and bytes of all weights (optimizer excluded); first 16 hex digits."""
    h = hashlib.sha256()
    for w in model.weights:
        arr = np.ascontiguousarray(keras.ops.convert_to_numpy(w))
        # Names are left out: Keras may renumber layers on load, the values are what matters.
        h.update(f"{arr.dtype}:{arr.shape};".encode())
        h.update(arr.tobytes())
    return h.hexdigest()[:16]


def _save_to_temp(obj: keras.Model, path: Path) -> Path:
    """Save ``obj`` to a fsynced temporary sibling of ``path``; return the temporary path.

    Keras insists on a ".keras" suffix, so fileio.atomic_path (".partial") cannot be used directly;
    the temporary name still contains ".partial" so .gitignore and clean-ups recognise it.
    """
    tmp = temp_sibling(path, suffix=".partial.keras")
    try:
        obj.save(tmp, overwrite=True)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if is_write_error(exc):
            raise write_error(path, exc) from exc
        raise
    return tmp


def save_model(model: LatentAutoencoder, folder: str | Path) -> str:
    """Write encoder, decoder, full model and config into ``folder``; return the weights fingerprint.

    All three ``.keras`` files are first written to temporary siblings; only when every one is
    complete are they renamed over the old ones, so a failed save (disk full: :class:`WriteFailedError`)
    leaves the previous encoder, decoder and model together and untouched. model_config.json (with
    the fingerprint) is written last.
    """
    if not isinstance(model, LatentAutoencoder):
        raise TypeError(f"save_model expects an AE or VAE, got {type(model).__name__}")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if is_write_error(exc):
            raise write_error(folder, exc) from exc
        raise
    staged: list[tuple[Path, Path]] = []
    try:
        for obj, name in ((model.encoder, ENCODER_FILE), (model.decoder, DECODER_FILE),
                          (model, MODEL_FILE)):
            staged.append((_save_to_temp(obj, folder / name), folder / name))
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    _fsync_dir(folder)
    fingerprint = weights_fingerprint(model)
    atomic_write_json(folder / CONFIG_FILE, {
        "model": model.model_config.to_dict(), "kind": model.kind, "fingerprint": fingerprint,
        "keras_version": keras.__version__})
    return fingerprint


def read_model_info(folder: str | Path) -> dict:
    """The parsed ``model_config.json`` of ``folder`` (keys model, kind, fingerprint)."""
    path = Path(folder) / CONFIG_FILE
    info = read_json(path)
    if not isinstance(info, dict) or "model" not in info:
        raise InvalidInputError(f"{path}: not a LatentExplorer model config (no 'model' entry)")
    return info


def load_model_config(folder: str | Path) -> ModelConfig:
    """The :class:`ModelConfig` saved next to the model files."""
    path = Path(folder) / CONFIG_FILE
    try:
        return ModelConfig.from_dict(read_model_info(folder)["model"])
    except InvalidInputError as exc:
        if str(path) in str(exc):
            raise
        raise InvalidInputError(f"{path}: {exc}") from None


def _load(path: Path, what: str) -> keras.Model:
    if not path.is_file():
        raise InvalidInputError(f"{path}: {what} file not found (has the model been trained and saved?)")
    try:
        return keras.saving.load_model(path, compile=True, safe_mode=True)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise InvalidInputError(f"{path}: truncated or not a .keras file ({exc})") from None
    except (ValueError, TypeError, KeyError, OSError, AttributeError) as exc:
        # Keras appends whole config dumps to its messages: keep the first line, at most 400 chars
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
        if len(first) > 400:
            first = first[:400] + " ..."
        raise InvalidInputError(f"{path}: cannot load the {what} ({type(exc).__name__}: {first})") from None


def _check_image_model(model: keras.Model, path: Path, what: str, cfg: ModelConfig | None) -> None:
    if not isinstance(model, keras.Model):
        raise InvalidInputError(f"{path}: expected a Keras model ({what}), got {type(model).__name__}")
    if cfg is None:
        return
    want_in = (cfg.image_size, cfg.image_size, 3) if what == "encoder" else (cfg.z_dim,)
    got_in = tuple(model.inputs[0].shape[1:]) if model.inputs else None
    if got_in != want_in:
        raise InvalidInputError(f"{path}: {what} input shape {got_in} does not match "
                                f"{CONFIG_FILE} (expected {want_in})")


def load_model(folder: str | Path) -> LatentAutoencoder:
    """The full AE / VAE with its optimizer state (``folder/model.keras``)."""
    path = Path(folder) / MODEL_FILE
    model = _load(path, "model")
    if not isinstance(model, LatentAutoencoder):
        raise InvalidInputError(f"{path}: a {type(model).__name__}, not a LatentExplorer AE/VAE")
    return model


def load_encoder(folder: str | Path) -> keras.Model:
    """The encoder (image (b, s, s, 3) → z (b, z_dim), or → [mu, logvar] for a VAE)."""
    folder = Path(folder)
    cfg = load_model_config(folder) if (folder / CONFIG_FILE).is_file() else None
    model = _load(folder / ENCODER_FILE, "encoder")
    _check_image_model(model, folder / ENCODER_FILE, "encoder", cfg)
    return model


def load_decoder(folder: str | Path) -> keras.Model:
    """The decoder (z (b, z_dim) → image (b, s, s, 3) in [0, 1])."""
    folder = Path(folder)
    cfg = load_model_config(folder) if (folder / CONFIG_FILE).is_file() else None
    model = _load(folder / DECODER_FILE, "decoder")
    _check_image_model(model, folder / DECODER_FILE, "decoder", cfg)
    return model
