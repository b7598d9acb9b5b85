"""Training precision: float32, or mixed precision with bfloat16 / float16 arithmetic.

Under a mixed policy Keras keeps every weight in float32 and computes the layers in the lower
precision. What must stay exact stays float32 (the layers are built with ``dtype="float32"``, see
:mod:`latentexplorer.models.autoencoder`): the encoder's output heads (so latents are float32), the
decoder's last activation, and every loss (``reconstruction_loss`` sums 9,216 pixels per 96 px
image: in bfloat16, with 8 bits of mantissa, a sum near 6,000 moves in steps of 32). float16 also
needs loss scaling, which Keras adds (``LossScaleOptimizer``) when the model is compiled under
that policy; our ``train_step`` calls ``optimizer.scale_loss``.

``auto`` picks bfloat16 where the hardware computes it natively (CPUs with AVX512_BF16 or AMX;
NVIDIA GPUs of compute capability 8.0 or newer), float16 on older GPUs, float32 otherwise.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from ..errors import InvalidInputError

PRECISIONS = ("float32", "bfloat16", "float16")
CHOICES = ("auto", *PRECISIONS)
_POLICY = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}

__all__ = ["PRECISIONS", "CHOICES", "resolve_precision", "cpu_has_bf16", "dtype_policy",
           "policy_name", "model_precision"]


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """True when the CPU computes bfloat16 natively (``avx512_bf16`` or ``amx_bf16`` flags)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                cpuinfo = f.read(1 << 20)
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[-1].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def _gpu_capabilities() -> list[tuple[int, int]]:
    from .. import _env  # noqa: F401

    import tensorflow as tf

    caps = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        caps.append(tuple(details.get("compute_capability") or (0, 0)))
    return caps


def resolve_precision(name: str) -> str:
    """``name`` (one of :data:`CHOICES`) as a concrete precision (one of :data:`PRECISIONS`)."""
    if name not in CHOICES:
        raise InvalidInputError(f"precision {name!r}: expected one of {', '.join(CHOICES)}")
    if name != "auto":
        return name
    gpus = _gpu_capabilities()
    if gpus:
        return "bfloat16" if min(gpus) >= (8, 0) else "float16"
    return "bfloat16" if cpu_has_bf16() else "float32"


def policy_name(precision: str) -> str:
    """The Keras dtype policy of a concrete precision."""
    return _POLICY[precision]


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Build (or load) models under ``precision``'s Keras policy; the previous policy after."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy_name(precision))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def model_precision(model) -> str:
    """The precision a built model computes in (that of its first convolution)."""
    for layer in model.encoder.layers:
        if hasattr(layer, "kernel"):
            compute = str(layer.dtype_policy.compute_dtype)
            return {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}[compute]
    return "float32"
