"""Save / load models as ``.keras`` files plus a JSON config.

Folder layout (one epoch's folder, ``WS/checkpoints/epoch-NNNN/``; it is staged and committed as a
whole by the workspace, never changed in place)::

    encoder.keras       functional encoder (image → z, or → [mu, logvar])
    decoder.keras       functional decoder (z → image)
    model.keras         the full AE / VAE incl. optimizer state (for resuming training)
    model_config.json   {"model": ModelConfig dict, "kind", "fingerprint", "encoder_fingerprint",
                         "decoder_fingerprint", "keras_version", "epoch"}

Loading always uses ``safe_mode=True`` (no arbitrary code from lambdas in foreign files), and the
loaded weights must have the fingerprint ``model_config.json`` records for that file.
"""

from __future__ import annotations

import hashlib
import warnings
import zipfile
from pathlib import Path

from .. import _env  # noqa: F401

import keras
import numpy as np

from ..errors import InvalidInputError
from ..fileio import write_json
from ..inputs import check_regular_file, printable, read_json
from ..schemas import ModelConfig, ModelInfo
from .autoencoder import AE, VAE, LatentAutoencoder  # noqa: F401  (registers the classes)

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


def save_model(model: LatentAutoencoder, folder: str | Path, *, epoch: int | None = None) -> str:
    """Write encoder, decoder, full model and ``model_config.json`` into ``folder``; return the
    weights fingerprint.

    ``folder`` is a folder being staged (:func:`latentexplorer.fileio.new_version`): it becomes
    visible as a whole once complete, so the files are written plainly, without renames.
    """
    if not isinstance(model, LatentAutoencoder):
        raise TypeError(f"save_model expects an AE or VAE, got {type(model).__name__}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for obj, name in ((model.encoder, ENCODER_FILE), (model.decoder, DECODER_FILE),
                      (model, MODEL_FILE)):
        obj.save(folder / name, overwrite=True)
    fingerprint = weights_fingerprint(model)
    write_json(folder / CONFIG_FILE, ModelInfo(model=model.model_config, kind=model.kind,
                                               fingerprint=fingerprint,
                                               encoder_fingerprint=weights_fingerprint(model.encoder),
                                               decoder_fingerprint=weights_fingerprint(model.decoder),
                                               keras_version=keras.__version__, epoch=epoch))
    return fingerprint


def _check_fingerprint(model: keras.Model, path: Path, recorded: str | None) -> None:
    """The loaded weights must be those ``model_config.json`` records: a ``.keras`` file copied
    from another epoch or run has the right architecture but other weights, and every grid and
    encoding would silently name the wrong ones."""
    if recorded is None:  # written before per-file fingerprints were recorded
        return
    got = weights_fingerprint(model)
    if got != recorded:
        raise InvalidInputError(
            f"{printable(path)}: its weights (fingerprint {got}) are not the ones {CONFIG_FILE} next to "
            f"it records ({recorded}); the file was replaced by another epoch's or run's (restore "
            "it, or train again)")


def read_model_info(folder: str | Path) -> ModelInfo:
    """The validated ``model_config.json`` of ``folder`` (model config, kind, fingerprint)."""
    return read_json(Path(folder) / CONFIG_FILE, ModelInfo)


def load_model_config(folder: str | Path) -> ModelConfig:
    """The :class:`ModelConfig` saved next to the model files."""
    return read_model_info(folder).model


def _load(path: Path, what: str) -> keras.Model:
    check_regular_file(path, f"{what} file")
    if not zipfile.is_zipfile(path):  # Keras would call a damaged archive "file not found"
        raise InvalidInputError(f"{printable(path)}: truncated or not a .keras file (not a zip archive)")
    try:
        with warnings.catch_warnings():  # Keras' notes on optimizer state are noise for users
            warnings.simplefilter("ignore")
            return keras.saving.load_model(path, compile=True, safe_mode=True)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise InvalidInputError(f"{printable(path)}: truncated or not a .keras file ({exc})") from None
    except (ValueError, TypeError, KeyError, OSError, AttributeError) as exc:
        # Keras appends whole config dumps to its messages: keep the first line, at most 400 chars
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
        if len(first) > 400:
            first = first[:400] + " ..."
        raise InvalidInputError(f"{printable(path)}: cannot load the {what} ({type(exc).__name__}: "
                                f"{first})") from None


def _check_image_model(model: keras.Model, path: Path, what: str, cfg: ModelConfig) -> None:
    where = printable(path)
    if not isinstance(model, keras.Model):
        raise InvalidInputError(f"{where}: expected a Keras model ({what}), got {type(model).__name__}")
    image, z = (cfg.image_size, cfg.image_size, 3), (cfg.z_dim,)
    want_in, want_out = (image, z) if what == "encoder" else (z, image)
    got_in = tuple(model.inputs[0].shape[1:]) if model.inputs else None
    got_out = tuple(model.outputs[0].shape[1:]) if model.outputs else None
    if got_in != want_in or got_out != want_out:
        raise InvalidInputError(f"{where}: {what} maps {got_in} to {got_out}, but {CONFIG_FILE} "
                                f"expects {want_in} to {want_out}")


def load_model(folder: str | Path) -> LatentAutoencoder:
    """The full AE / VAE with its optimizer state (``folder/model.keras``)."""
    path = Path(folder) / MODEL_FILE
    info = read_model_info(folder)
    cfg = info.model
    model = _load(path, "model")
    if not isinstance(model, LatentAutoencoder):
        raise InvalidInputError(f"{printable(path)}: a {type(model).__name__}, not a LatentExplorer "
                                "AE/VAE")
    if model.model_config != cfg:
        raise InvalidInputError(f"{printable(path)}: its architecture differs from {CONFIG_FILE} "
                                "next to it (files mixed from two runs?)")
    _check_fingerprint(model, path, info.fingerprint)
    return model


def load_encoder(folder: str | Path) -> keras.Model:
    """The encoder (image (b, s, s, 3) → z (b, z_dim), or → [mu, logvar] for a VAE)."""
    folder = Path(folder)
    info = read_model_info(folder)
    model = _load(folder / ENCODER_FILE, "encoder")
    _check_image_model(model, folder / ENCODER_FILE, "encoder", info.model)
    _check_fingerprint(model, folder / ENCODER_FILE, info.encoder_fingerprint)
    return model


def load_decoder(folder: str | Path) -> keras.Model:
    """The decoder (z (b, z_dim) → image (b, s, s, 3) in [0, 1])."""
    folder = Path(folder)
    info = read_model_info(folder)
    model = _load(folder / DECODER_FILE, "decoder")
    _check_image_model(model, folder / DECODER_FILE, "decoder", info.model)
    _check_fingerprint(model, folder / DECODER_FILE, info.decoder_fingerprint)
    return model
