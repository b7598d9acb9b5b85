"""Model configuration: one frozen dataclass, two presets from the seeds (SPEC §3).

No TensorFlow here, so a workspace's config can be read and validated without loading Keras.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError

KINDS = ("ae", "vae")
ACTIVATIONS = ("leaky_relu", "relu", "selu")
LOSSES = ("bce", "mse")

#: The seeds' two architectures. Strides are 2 everywhere ('same' padding).
PRESETS: dict[str, dict[str, tuple[int, ...]]] = {
    "case1": dict(encoder_filters=(32, 64, 128, 256), encoder_kernels=(3, 3, 3, 3),
                  decoder_filters=(128, 64, 32, 3), decoder_kernels=(3, 3, 3, 3)),
    "case2": dict(encoder_filters=(64, 64, 128, 128), encoder_kernels=(5, 5, 3, 3),
                  decoder_filters=(128, 64, 64, 3), decoder_kernels=(3, 3, 5, 5)),
}

_TUPLE_FIELDS = ("encoder_filters", "encoder_kernels", "encoder_strides",
                 "decoder_filters", "decoder_kernels", "decoder_strides")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and loss of an AE or a VAE; validated on construction.

    Attributes
    ----------
    kind : {"ae", "vae"}
    preset : str
        Name of the preset the layer lists came from ("case1", "case2" or "custom").
    image_size : int
        Input images are (image_size, image_size, 3); must be divisible by the product of the
        encoder strides.
    z_dim : int
        Latent dimension.
    encoder_filters, encoder_kernels, encoder_strides : tuple of int
        One entry per Conv2D layer.
    decoder_filters, decoder_kernels, decoder_strides : tuple of int
        One entry per Conv2DTranspose (or UpSampling2D + Conv2D) layer; the last filter count is 3.
    activation : {"leaky_relu", "relu", "selu"}
    batchnorm : bool
    dropout : float
        Dropout rate after each hidden convolution (0 = none).
    loss : {"bce", "mse"}
        Per-pixel reconstruction loss, channel mean, summed over the pixels of each image.
    upsampling : bool
        Decoder uses UpSampling2D + Conv2D instead of Conv2DTranspose (fewer grid artefacts).
    fact : float
        VAE weight of the KL term.
    eps_factor : float
        VAE: z = mu + exp(logvar / 2) * eps * eps_factor.
    eps_clip : float
        VAE: |eps| is clipped to this value (one extreme eps once threw a seed run to radius 66).
    """

    kind: str = "ae"
    preset: str = "case1"
    image_size: int = 96
    z_dim: int = 256
    encoder_filters: tuple[int, ...] = PRESETS["case1"]["encoder_filters"]
    encoder_kernels: tuple[int, ...] = PRESETS["case1"]["encoder_kernels"]
    encoder_strides: tuple[int, ...] = (2, 2, 2, 2)
    decoder_filters: tuple[int, ...] = PRESETS["case1"]["decoder_filters"]
    decoder_kernels: tuple[int, ...] = PRESETS["case1"]["decoder_kernels"]
    decoder_strides: tuple[int, ...] = (2, 2, 2, 2)
    activation: str = "leaky_relu"
    batchnorm: bool = False
    dropout: float = 0.0
    loss: str = "bce"
    upsampling: bool = False
    fact: float = 5.0
    eps_factor: float = 1.0
    eps_clip: float = 5.0

    def __post_init__(self) -> None:
        # Normalise lists (from JSON) to tuples so the dataclass stays hashable and comparable.
        for name in _TUPLE_FIELDS:
            value = getattr(self, name)
            try:
                tup = tuple(int(v) for v in value)
            except (TypeError, ValueError):
                raise InvalidInputError(f"model config {name}={value!r}: expected a list of integers") from None
            if any(float(v) != t for v, t in zip(value, tup)):
                raise InvalidInputError(f"model config {name}={value!r}: expected a list of integers")
            object.__setattr__(self, name, tup)
        self._validate()

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        def bad(what: str) -> InvalidInputError:
            return InvalidInputError(f"model config: {what}")

        if self.kind not in KINDS:
            raise bad(f"kind={self.kind!r}, expected one of {KINDS}")
        if self.activation not in ACTIVATIONS:
            raise bad(f"activation={self.activation!r}, expected one of {ACTIVATIONS}")
        if self.loss not in LOSSES:
            raise bad(f"loss={self.loss!r}, expected one of {LOSSES}")
        for name in ("image_size", "z_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise bad(f"{name}={value!r}, expected an integer >= 1")
        for side in ("encoder", "decoder"):
            f, k, s = (getattr(self, f"{side}_{p}") for p in ("filters", "kernels", "strides"))
            if not f:
                raise bad(f"{side}_filters is empty, expected at least one layer")
            if not len(f) == len(k) == len(s):
                raise bad(f"{side} filters/kernels/strides have lengths {len(f)}/{len(k)}/{len(s)}, "
                          "expected equal lengths")
            for p, values in (("filters", f), ("kernels", k), ("strides", s)):
                if min(values) < 1:
                    raise bad(f"{side}_{p}={values}, expected positive integers")
        if self.decoder_filters[-1] != 3:
            raise bad(f"decoder_filters={self.decoder_filters}: the last layer must have 3 filters (RGB)")
        down, up = math.prod(self.encoder_strides), math.prod(self.decoder_strides)
        if self.image_size % down:
            raise bad(f"image_size={self.image_size} is not divisible by the product of the encoder "
                      f"strides {self.encoder_strides} = {down}")
        if up != down:
            raise bad(f"decoder strides {self.decoder_strides} (product {up}) must undo the encoder "
                      f"strides {self.encoder_strides} (product {down}) to give back {self.image_size} px")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise bad(f"dropout={self.dropout}, expected 0 <= value < 1")
        if not float(self.fact) >= 0.0:
            raise bad(f"fact={self.fact}, expected a number >= 0")
        if not float(self.eps_factor) >= 0.0:
            raise bad(f"eps_factor={self.eps_factor}, expected a number >= 0")
        if not float(self.eps_clip) > 0.0:
            raise bad(f"eps_clip={self.eps_clip}, expected a number > 0")

    # ------------------------------------------------------------------ derived
    @property
    def feature_shape(self) -> tuple[int, int, int]:
        """Shape (h, w, c) of the encoder's last feature map = the decoder's reshape target."""
        h = self.image_size // math.prod(self.encoder_strides)
        return (h, h, self.encoder_filters[-1])

    # ------------------------------------------------------------------ construction / (de)serialisation
    @classmethod
    def from_preset(cls, name: str = "case1", **overrides: Any) -> "ModelConfig":
        """Config of preset ``name`` ("case1" default, "case2") with ``overrides`` applied."""
        if name not in PRESETS:
            raise InvalidInputError(f"preset={name!r}, expected one of {sorted(PRESETS)}")
        values: dict[str, Any] = {"preset": name, **PRESETS[name]}
        values.update(overrides)
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples as lists)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        """Inverse of :meth:`to_dict`; unknown keys are an error (a typo must not pass silently)."""
        if not isinstance(data, dict):
            raise InvalidInputError(f"model config: expected a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(f"model config: unknown key(s) {unknown}; known: {sorted(known)}")
        values = dict(data)
        for name in ("batchnorm", "upsampling"):
            if name in values and not isinstance(values[name], bool):
                raise InvalidInputError(f"model config: {name}={values[name]!r}, expected true/false")
        for name in ("dropout", "fact", "eps_factor", "eps_clip"):
            if name in values:
                try:
                    values[name] = float(values[name])
                except (TypeError, ValueError):
                    raise InvalidInputError(f"model config: {name}={values[name]!r}, expected a number") from None
        return cls(**values)

    def replace(self, **changes: Any) -> "ModelConfig":
        """A copy with ``changes`` (validated)."""
        return self.from_dict({**self.to_dict(), **changes})
