"""Encode a whole dataset store into latent vectors, batch by batch.

Only one batch of images is ever converted to float; the uint8 memmap is read in contiguous slices.
"""

from __future__ import annotations

from .. import _env  # noqa: F401

import keras
import numpy as np
import tensorflow as tf

from ..errors import InvalidInputError
from ..progress import ProgressReporter
from .autoencoder import LatentAutoencoder


def _encoder_kind(encoder: keras.Model) -> str:
    return "vae" if len(encoder.outputs) == 2 else "ae"


def encode_store(encoder_or_model: keras.Model, store, batch_size: int = 256,
                 progress: ProgressReporter | None = None, kind: str | None = None) -> dict:
    """Latent vectors of every image of ``store``.

    Parameters
    ----------
    encoder_or_model : keras.Model
        An encoder (image → z, or → [mu, logvar]) or a whole :class:`LatentAutoencoder`.
    store : DatasetStore
        ``store.images`` is a uint8 memmap (n, s, s, 3).
    batch_size : int
    progress : ProgressReporter, optional
        ``update(done_images, n, ...)`` per batch; cancelling raises :class:`Cancelled`.
    kind : {"ae", "vae"}, optional
        Checked against the encoder's outputs (inferred when omitted).

    Returns
    -------
    dict
        ``z`` (n, z_dim) float32; for a VAE also ``mu`` (= z) and ``logvar`` (n, z_dim) float32.
    """
    if isinstance(encoder_or_model, LatentAutoencoder):
        encoder = encoder_or_model.encoder
    else:
        encoder = encoder_or_model
    found = _encoder_kind(encoder)
    if kind is not None and kind != found:
        raise InvalidInputError(f"encoder {encoder.name!r} has {len(encoder.outputs)} output(s) "
                                f"(a {found.upper()}), but kind={kind!r} was requested")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInputError(f"batch_size={batch_size!r}: expected an integer >= 1")
    want = tuple(encoder.inputs[0].shape[1:])
    if tuple(store.images.shape[1:]) != want:
        raise InvalidInputError(f"{store.path}: images are {tuple(store.images.shape[1:])}, the encoder "
                                f"expects {want}")
    n = store.n
    z_dim = int(encoder.outputs[0].shape[-1])

    # One traced function (uint8 → float inside the graph) instead of eager calls per batch.
    @tf.function(reduce_retracing=True)
    def run(images):
        return encoder(tf.cast(images, tf.float32) / 255.0, training=False)

    z = np.empty((n, z_dim), dtype=np.float32)
    logvar = np.empty((n, z_dim), dtype=np.float32) if found == "vae" else None
    for start in range(0, n, batch_size):
        if progress is not None:
            progress.raise_if_cancelled()
        stop = min(n, start + batch_size)
        out = run(tf.constant(np.asarray(store.images[start:stop])))
        if found == "vae":
            z[start:stop] = out[0].numpy()
            logvar[start:stop] = out[1].numpy()
        else:
            z[start:stop] = out.numpy()
        if progress is not None:
            progress.update(stop, n, f"encoded {stop}/{n}")
    if found == "vae":
        return {"z": z, "mu": z.copy(), "logvar": logvar}
    return {"z": z}
