"""Encode a whole dataset store into latent vectors, batch by batch (with the one Encoder).

Only one batch of images is ever converted to float; the uint8 memmap is read in contiguous slices.
"""

from __future__ import annotations

from .. import _env  # noqa: F401

import keras

from ..errors import InvalidInputError
from ..progress import ProgressReporter
from .autoencoder import LatentAutoencoder
from .codec import Encoder


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
    encoder = encoder_or_model.encoder if isinstance(encoder_or_model, LatentAutoencoder) \
        else encoder_or_model
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInputError(f"batch_size={batch_size!r}: expected an integer >= 1")
    wrapped = Encoder(encoder, batch_size=batch_size, warmup=False)
    if kind is not None and kind != wrapped.kind:
        raise InvalidInputError(f"encoder {encoder.name!r} has {len(encoder.outputs)} output(s) "
                                f"(a {wrapped.kind.upper()}), but kind={kind!r} was requested")
    if tuple(store.images.shape[1:]) != wrapped.image_shape:
        raise InvalidInputError(f"{store.path}: images are {tuple(store.images.shape[1:])}, the encoder "
                                f"expects {wrapped.image_shape}")
    out = wrapped.encode_all(store.images, progress)
    if "mu" in out:
        out["mu"] = out["z"].copy()
    return out
