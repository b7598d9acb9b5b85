"""The one decoder and the one encoder wrapper: z-vectors into uint8 images and images back into
z-vectors, fast enough for the GUI and used by every command.

``keras.Model.predict`` builds a dataset, a data adapter and a step loop on every call: fine for a
large batch, ~100× too slow for one vector under the mouse. :class:`Decoder` instead calls the
model directly inside ``tf.function``\\ s with fixed input signatures, traced once (at
construction, as a warm-up) and reused for every call:

* :meth:`Decoder.decode_one` — signature ``(1, z_dim)``: one vector → one ``(H, W, 3)`` image,
  the GUI's click/drag path;
* :meth:`Decoder.decode` — signature ``(None, z_dim)`` (one trace serves every batch size, so no
  padding and no retracing), called in chunks of ``batch_size`` (default 256).

Scaling to uint8 (clip to [0, 1], ×255, round) happens inside the graph, so only uint8 pixels cross
back into NumPy.
"""

from __future__ import annotations

from .. import _env  # noqa: F401  (quiet TensorFlow before it is imported)

import numpy as np
import tensorflow as tf

from ..errors import InvalidInputError

__all__ = ["Decoder", "Encoder", "to_uint8"]


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Float images in [0, 1] → uint8 (clipped, rounded)."""
    arr = np.asarray(images, dtype=np.float32)
    return np.round(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)


def _check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InvalidInputError(f"batch_size: expected an integer >= 1, got {batch_size!r}")
    return int(batch_size)


class Decoder:
    """Wrap a Keras decoder (z ``(b, z_dim)`` → image ``(b, H, W, C)`` in [0, 1]).

    Parameters
    ----------
    keras_decoder : keras.Model
        A decoder such as ``Workspace.load_decoder()`` or ``model.decoder``.
    batch_size : int
        Chunk size of :meth:`decode`.
    warmup : bool
        Trace and run both graphs once now, so the first real call is already fast.

    Attributes
    ----------
    model, z_dim, image_shape (H, W, 3)
    """

    def __init__(self, keras_decoder, *, batch_size: int = 256, warmup: bool = True) -> None:
        self.model = keras_decoder
        self.batch_size = _check_batch_size(batch_size)
        try:
            in_shape = tuple(keras_decoder.inputs[0].shape)
            out_shape = tuple(keras_decoder.outputs[0].shape)
        except (AttributeError, IndexError, TypeError, ValueError):
            raise InvalidInputError("decoder: expected a built Keras model with one vector input") from None
        if len(in_shape) != 2 or in_shape[1] is None:
            raise InvalidInputError(f"decoder: input shape {in_shape}, expected (batch, z_dim)")
        if len(out_shape) != 4 or out_shape[-1] not in (1, 3):
            raise InvalidInputError(f"decoder: output shape {out_shape}, expected (batch, H, W, 1 or 3)")
        self.z_dim = int(in_shape[1])
        self.image_shape = (int(out_shape[1]), int(out_shape[2]), 3)
        self._channels = int(out_shape[-1])

        model = keras_decoder
        channels = self._channels

        def forward_float(z):
            y = model(z, training=False)
            if channels == 1:
                y = tf.repeat(y, 3, axis=-1)
            return tf.cast(y, tf.float32)

        def forward_uint8(z):
            y = tf.clip_by_value(forward_float(z), 0.0, 1.0)
            return tf.cast(tf.round(y * 255.0), tf.uint8)

        any_batch = [tf.TensorSpec((None, self.z_dim), tf.float32)]
        self._batch_uint8 = tf.function(forward_uint8, input_signature=any_batch)
        self._batch_float = tf.function(forward_float, input_signature=any_batch)
        self._one_uint8 = tf.function(forward_uint8,
                                      input_signature=[tf.TensorSpec((1, self.z_dim), tf.float32)])
        if warmup:
            self.warmup()

    def warmup(self) -> None:
        """Trace and run the single-vector and batch graphs once."""
        zero = np.zeros((1, self.z_dim), np.float32)
        self._one_uint8(zero)
        self._batch_uint8(zero)

    # ------------------------------------------------------------------ validation
    def _as_z(self, z) -> np.ndarray:
        arr = np.asarray(z, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.z_dim:
            raise InvalidInputError(f"z: expected shape (n, {self.z_dim}), got {np.shape(z)}")
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError("z: contains NaN or infinite values")
        return np.ascontiguousarray(arr)

    # ------------------------------------------------------------------ decoding
    def decode_one(self, z) -> np.ndarray:
        """One z-vector ``(z_dim,)`` → uint8 image ``(H, W, 3)`` (compiled single-vector graph)."""
        arr = self._as_z(z)
        if arr.shape[0] != 1:
            raise InvalidInputError(f"decode_one: expected one vector, got {arr.shape[0]}")
        return self._one_uint8(arr).numpy()[0]

    def decode(self, z, progress=None) -> np.ndarray:
        """z-vectors ``(n, z_dim)`` → uint8 images ``(n, H, W, 3)``, in chunks of ``batch_size``.

        ``progress`` (a :class:`~latentexplorer.progress.ProgressReporter`) gets one update per
        chunk and may cancel between chunks.
        """
        return self._run(self._as_z(z), self._batch_uint8, np.uint8, progress)

    def decode_float(self, z, progress=None) -> np.ndarray:
        """Like :meth:`decode` but float32 images in [0, 1] (unclipped model output)."""
        return self._run(self._as_z(z), self._batch_float, np.float32, progress)

    def _run(self, arr, fn, dtype, progress) -> np.ndarray:
        n = arr.shape[0]
        out = np.empty((n, *self.image_shape), dtype=dtype)
        for start in range(0, n, self.batch_size):
            if progress is not None:
                progress.raise_if_cancelled()
            stop = min(n, start + self.batch_size)
            out[start:stop] = fn(arr[start:stop]).numpy()
            if progress is not None:
                progress.update(stop, n, f"decoded {stop}/{n}")
        return out

    __call__ = decode


class Encoder:
    """Wrap a Keras encoder (image → z, or → [mu, logvar] for a VAE).

    :meth:`encode` gives z (VAE: mu); :meth:`encode_all` also the VAE's logvar. Images are uint8
    ``(n, H, W, 3)`` (scaled to [0, 1] inside the graph) or float in [0, 1].
    """

    def __init__(self, keras_encoder, *, batch_size: int = 256, warmup: bool = True) -> None:
        self.model = keras_encoder
        self.batch_size = _check_batch_size(batch_size)
        try:
            in_shape = tuple(keras_encoder.inputs[0].shape)
            outputs = list(keras_encoder.outputs)
        except (AttributeError, IndexError, TypeError, ValueError):
            raise InvalidInputError("encoder: expected a built Keras model with one image input") from None
        if len(in_shape) != 4:
            raise InvalidInputError(f"encoder: input shape {in_shape}, expected (batch, H, W, C)")
        self.image_shape = tuple(int(s) for s in in_shape[1:])
        self.kind = "vae" if len(outputs) == 2 else "ae"
        self.z_dim = int(outputs[0].shape[-1])
        model = keras_encoder
        vae = self.kind == "vae"

        def forward(x):
            y = model(x, training=False)
            return (y[0], y[1]) if vae else (y, y)

        def forward_uint8(images):
            return forward(tf.cast(images, tf.float32) / 255.0)

        shape = (None, *self.image_shape)
        self._from_uint8 = tf.function(forward_uint8, input_signature=[tf.TensorSpec(shape, tf.uint8)])
        self._from_float = tf.function(forward, input_signature=[tf.TensorSpec(shape, tf.float32)])
        if warmup:
            self._from_uint8(np.zeros((1, *self.image_shape), np.uint8))

    def encode(self, images, progress=None) -> np.ndarray:
        """Images ``(n, H, W, C)`` → z ``(n, z_dim)`` float32 (VAE: mu)."""
        return self.encode_all(images, progress)["z"]

    def encode_all(self, images, progress=None) -> dict:
        """Images ``(n, H, W, C)`` (an array or a uint8 memmap, read in chunks) → ``{"z"}``; for a
        VAE also ``{"mu" (= z), "logvar"}``, each (n, z_dim) float32."""
        arr = images if isinstance(images, np.memmap) else np.asarray(images)
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim != 4 or tuple(arr.shape[1:]) != self.image_shape:
            raise InvalidInputError(f"images: expected shape (n, {', '.join(map(str, self.image_shape))}), "
                                    f"got {np.shape(images)}")
        if arr.dtype == np.uint8:
            fn = self._from_uint8
        else:
            arr = np.asarray(arr, dtype=np.float32)
            fn = self._from_float
        n = arr.shape[0]
        vae = self.kind == "vae"
        out = np.empty((n, self.z_dim), np.float32)
        logvar = np.empty((n, self.z_dim), np.float32) if vae else None
        for start in range(0, n, self.batch_size):
            if progress is not None:
                progress.raise_if_cancelled()
            stop = min(n, start + self.batch_size)
            z, lv = fn(np.ascontiguousarray(arr[start:stop]))
            out[start:stop] = z.numpy()
            if vae:
                logvar[start:stop] = lv.numpy()
            if progress is not None:
                progress.update(stop, n, f"encoded {stop}/{n}")
        return {"z": out, "mu": out, "logvar": logvar} if vae else {"z": out}

    __call__ = encode
