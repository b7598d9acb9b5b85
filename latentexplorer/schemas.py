"""Schemas of every JSON file the tool reads or writes, and the one parser that applies them.

Every JSON file enters through :func:`parse` (via :func:`latentexplorer.fileio.read_json`); a file
that does not match raises :class:`~latentexplorer.errors.InvalidInputError` naming the file, the
field, the value and what was expected, e.g.::

    ws/config.json: training.epochs = '1': expected a valid integer

Types are strict (a string is not a number, ``true`` is not 1, ``1.0`` is not an integer); bounds
are those where the tool can still work (an epoch count of 10^18 is refused here, not in Keras).
pydantic v2 does the checking; no module hand-writes ``isinstance`` chains for file content.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError,
                      field_validator, model_validator)

from .errors import InvalidInputError

# ------------------------------------------------------------------------------ the parser
SchemaT = TypeVar("SchemaT", bound=BaseModel)

_SHOULD_BE = re.compile(r"^Input should be\s+")


def _loc_text(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _value_text(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def describe(exc: ValidationError, where: str) -> str:
    """One line for the first problem of ``exc``: ``WHERE: FIELD = VALUE: expected ...``."""
    err = exc.errors(include_url=False)[0]
    msg = _SHOULD_BE.sub("expected ", err["msg"])
    msg = msg.replace("Value error, ", "").replace("Assertion failed, ", "")
    loc = _loc_text(tuple(err.get("loc", ())))
    if err["type"] == "missing":
        return f"{where}: missing entry {loc!r}"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown entry {loc!r}"
    if err["type"] in ("json_invalid", "json_type"):
        return f"{where}: not valid JSON ({msg})"
    if not loc:
        if err["type"] in ("value_error", "assertion_error"):
            return f"{where}: {msg}"
        return f"{where}: {msg} (got {type(err.get('input')).__name__})"
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' * (more > 1)})" if more else ""
    return f"{where}: {loc} = {_value_text(err.get('input'))}: {msg}{tail}"


def parse(schema: type[SchemaT] | TypeAdapter, data: Any, where: str) -> SchemaT:
    """Validate ``data`` (bytes / str: JSON text; anything else: decoded Python objects) against a
    schema class or a ``TypeAdapter`` (files whose top level is a list).

    Raises
    ------
    InvalidInputError
        One line naming ``where``, the field, the value and what was expected.
    """
    try:
        if isinstance(schema, TypeAdapter):
            if isinstance(data, (bytes, str)):
                return schema.validate_json(data)
            return schema.validate_python(data)
        if isinstance(data, (bytes, str)):
            return schema.model_validate_json(data)
        return schema.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(describe(exc, where)) from None


class Schema(BaseModel):
    """Strict, closed objects (unknown keys are typos, not extensions)."""

    model_config = ConfigDict(strict=True, extra="forbid")


class OpenSchema(BaseModel):
    """Strict known fields; other keys are kept (files that carry free-form extras)."""

    model_config = ConfigDict(strict=True, extra="allow")


Count = Annotated[int, Field(ge=0, le=10**12)]
PositiveCount = Annotated[int, Field(ge=1, le=10**12)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
_HEX = re.compile(r"^[0-9a-f]{4,64}$")


def _hex_digest(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError("expected a fingerprint of 4 to 64 hex digits")
    return value


Fingerprint = Annotated[str, AfterValidator(_hex_digest)]
Text = Annotated[str, Field(max_length=4096)]
#: at most this many epochs in one workspace (far above any real run; bounds every loop)
MAX_EPOCHS = 1_000_000
Epoch = Annotated[int, Field(ge=0, le=MAX_EPOCHS)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]


# ------------------------------------------------------------------------------ model config
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
_LAYERS = ("encoder_filters", "encoder_kernels", "encoder_strides",
           "decoder_filters", "decoder_kernels", "decoder_strides")
#: largest latent dimension and image side accepted (memory is checked separately, before building)
MAX_Z_DIM = 65_536
MAX_IMAGE_SIZE = 2048
#: latent values beyond this magnitude come from no working model (a diverged one, a damaged file):
#: latents are refused beyond it, and generators refuse settings whose vectors would leave it, so
#: that statistics bins and a decoder's float32 arithmetic stay finite
MAX_LATENT_ABS = 1e6
LayerList = tuple[Annotated[int, Field(ge=1, le=8192)], ...]


class ModelConfig(Schema):
    """Architecture and loss of an AE or a VAE; validated on construction (frozen).

    Attributes
    ----------
    kind : {"ae", "vae"}
    preset : str
        Name of the preset the layer lists came from ("case1", "case2" or "custom").
    image_size : int
        Input images are (image_size, image_size, 3); divisible by the product of the encoder strides.
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

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    kind: Literal["ae", "vae"] = "ae"
    preset: Annotated[str, Field(max_length=64)] = "case1"
    image_size: Annotated[int, Field(ge=1, le=MAX_IMAGE_SIZE)] = 96
    z_dim: Annotated[int, Field(ge=1, le=MAX_Z_DIM)] = 256
    encoder_filters: LayerList = PRESETS["case1"]["encoder_filters"]
    encoder_kernels: LayerList = PRESETS["case1"]["encoder_kernels"]
    encoder_strides: LayerList = (2, 2, 2, 2)
    decoder_filters: LayerList = PRESETS["case1"]["decoder_filters"]
    decoder_kernels: LayerList = PRESETS["case1"]["decoder_kernels"]
    decoder_strides: LayerList = (2, 2, 2, 2)
    activation: Literal["leaky_relu", "relu", "selu"] = "leaky_relu"
    batchnorm: bool = False
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    loss: Literal["bce", "mse"] = "bce"
    upsampling: bool = False
    fact: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 5.0
    eps_factor: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 1.0
    eps_clip: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 5.0

    @field_validator(*_LAYERS, mode="before")
    @classmethod
    def _lists_to_tuples(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consistent(self) -> "ModelConfig":
        for side in ("encoder", "decoder"):
            f, k, s = (getattr(self, f"{side}_{p}") for p in ("filters", "kernels", "strides"))
            if not f:
                raise ValueError(f"{side}_filters is empty, expected at least one layer")
            if not len(f) == len(k) == len(s):
                raise ValueError(f"{side} filters/kernels/strides have lengths {len(f)}/{len(k)}/"
                                 f"{len(s)}, expected equal lengths")
        if self.decoder_filters[-1] != 3:
            raise ValueError(f"decoder_filters={list(self.decoder_filters)}: the last layer must "
                             "have 3 filters (RGB)")
        down, up = math.prod(self.encoder_strides), math.prod(self.decoder_strides)
        if self.image_size % down:
            raise ValueError(f"image_size={self.image_size} is not divisible by the product of the "
                             f"encoder strides {list(self.encoder_strides)} = {down}")
        if up != down:
            raise ValueError(f"decoder strides {list(self.decoder_strides)} (product {up}) must undo "
                             f"the encoder strides (product {down}) to give back {self.image_size} px")
        return self

    # ------------------------------------------------------------------ derived
    @property
    def feature_shape(self) -> tuple[int, int, int]:
        """Shape (h, w, c) of the encoder's last feature map = the decoder's reshape target."""
        h = self.image_size // math.prod(self.encoder_strides)
        return (h, h, self.encoder_filters[-1])

    def parameter_count(self) -> int:
        """Number of weights of encoder + decoder (for the memory check before building)."""
        total, channels = 0, 3
        for f, k in zip(self.encoder_filters, self.encoder_kernels):
            total += k * k * channels * f + f
            channels = f
        flat = math.prod(self.feature_shape)
        heads = 2 if self.kind == "vae" else 1
        total += heads * (flat * self.z_dim + self.z_dim) + (self.z_dim * flat + flat)
        channels = self.feature_shape[2]
        for f, k in zip(self.decoder_filters, self.decoder_kernels):
            total += k * k * channels * f + f
            channels = f
        return total

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_preset(cls, name: str = "case1", **overrides: Any) -> "ModelConfig":
        """Config of preset ``name`` ("case1" default, "case2") with ``overrides`` applied."""
        if name not in PRESETS:
            raise InvalidInputError(f"preset={name!r}, expected one of {sorted(PRESETS)}")
        return cls.from_dict({"preset": name, **PRESETS[name], **overrides})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.model_dump().items()}

    @classmethod
    def from_dict(cls, data: Any, where: str = "model config") -> "ModelConfig":
        """Inverse of :meth:`to_dict`; unknown keys and wrong types are errors naming the field."""
        return parse(cls, data, where)

    def replace(self, **changes: Any) -> "ModelConfig":
        """A copy with ``changes`` (validated)."""
        return self.from_dict({**self.to_dict(), **changes})


# ------------------------------------------------------------------------------ workspace files
WORKSPACE_FORMAT = "latentexplorer-workspace/1"
CHECKPOINT_FORMAT = "latentexplorer-checkpoint/2"
LATENTS_FORMAT = "latentexplorer-latents/2"


class TrainingParams(Schema):
    epochs: Annotated[int, Field(ge=1, le=MAX_EPOCHS)] = 24
    batch_size: Annotated[int, Field(ge=1, le=65_536)] = 128
    lr: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)] = 5e-4
    seed: Seed | None = 0
    #: arithmetic of training (latentexplorer.models.precision); weights are always float32
    precision: Literal["float32", "bfloat16", "float16"] = "float32"
    #: compile the train step with XLA
    jit_compile: bool = False


class WorkspaceConfig(Schema):
    format: Literal["latentexplorer-workspace/1"]
    model: ModelConfig
    data: Annotated[str, Field(min_length=1, max_length=4096)]
    training: TrainingParams
    created: Text | None = None


class StoreFingerprint(Schema):
    """What identifies a store's content cheaply: count, image size and a digest of sampled rows."""

    count: PositiveCount
    size: Annotated[int, Field(ge=1, le=MAX_IMAGE_SIZE)]
    digest: Fingerprint


_SAFE_REL = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


def _relative_inside(value: str) -> str:
    if not _SAFE_REL.match(value) or any(p in ("", ".", "..") for p in value.split("/")):
        raise ValueError("expected a relative folder inside the workspace")
    return value


class Checkpoint(Schema):
    """``WS/checkpoint.json``: the one pointer whose atomic replacement commits an epoch."""

    format: Literal["latentexplorer-checkpoint/2"] = CHECKPOINT_FORMAT
    epoch: Epoch
    model: Annotated[str, Field(max_length=256)]
    previous: Annotated[str, Field(max_length=256)] | None = None
    fingerprint: Fingerprint
    store: StoreFingerprint | None = None
    time: Text | None = None

    @field_validator("model", "previous")
    @classmethod
    def _inside(cls, value: str | None) -> str | None:
        return None if value is None else _relative_inside(value)


class LegacyCheckpoint(Schema):
    """``checkpoint.json`` of workspaces written before epochs were committed as one unit."""

    epoch: Epoch
    time: Text | None = None


LossValue = Annotated[float, Field(allow_inf_nan=False)]


class HistoryRow(OpenSchema):
    """One epoch of ``history.json``; extra per-epoch figures (``val_*``, timings) are kept."""

    epoch: Annotated[int, Field(ge=1, le=MAX_EPOCHS)]
    total_loss: LossValue
    reco_loss: LossValue
    kl_loss: LossValue
    seconds: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None


def _consecutive(rows: list[HistoryRow]) -> list[HistoryRow]:
    for i, row in enumerate(rows):
        if row.epoch != i + 1:
            raise ValueError(f"row {i} has epoch {row.epoch}, expected {i + 1} (epochs 1, 2, ...)")
    return rows


#: ``history.json``: one row per epoch, epochs 1, 2, ... in order
HISTORY = TypeAdapter(Annotated[list[HistoryRow], AfterValidator(_consecutive)])


class ModelInfo(Schema):
    """``model_config.json`` next to the ``.keras`` files of an epoch."""

    model: ModelConfig
    kind: Literal["ae", "vae"]
    fingerprint: Fingerprint
    #: fingerprints of the encoder's and the decoder's own weights (written since they are
    #: checked on load; older epochs lack them)
    encoder_fingerprint: Fingerprint | None = None
    decoder_fingerprint: Fingerprint | None = None
    keras_version: Text | None = None
    epoch: Epoch | None = None


class LatentsMeta(Schema):
    """``meta.json`` of a latent set: what produced the arrays and from which images."""

    format: Literal["latentexplorer-latents/2"] = LATENTS_FORMAT
    fingerprint: Fingerprint | None
    n: PositiveCount
    z_dim: Annotated[int, Field(ge=1, le=MAX_Z_DIM)]
    kind: Literal["ae", "vae"]
    arrays: list[Literal["z", "mu", "logvar"]]
    created: Text | None = None
    epoch: Epoch | None = None
    store: StoreFingerprint | None = None
    data: Annotated[str, Field(max_length=4096)] | None = None
    name: Annotated[str, Field(max_length=128)] | None = None
    dir: Annotated[str, Field(pattern=r"^v-\d{4,}$")]
    previous: Annotated[str, Field(pattern=r"^v-\d{4,}$")] | None = None


class LegacyLatentsMeta(Schema):
    fingerprint: str | None
    n: PositiveCount
    z_dim: Annotated[int, Field(ge=1, le=MAX_Z_DIM)]
    kind: Literal["ae", "vae"]
    arrays: list[Literal["z", "mu", "logvar"]]
    created: Text | None = None


# ------------------------------------------------------------------------------ dataset store
STORE_FORMAT = "latentexplorer-store/1"


class StoreMeta(OpenSchema):
    """A store's ``meta.json`` (written last: it marks the store complete)."""

    format: Literal["latentexplorer-store/1"]
    size: Annotated[int, Field(ge=1, le=MAX_IMAGE_SIZE)]
    count: PositiveCount
    created: Text | None = None
    test_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] = 1.0 / 18.0
    split_seed: Seed = 0
    source: Annotated[str, Field(max_length=4096)] | None = None
    preset: Annotated[str, Field(max_length=64)] | None = None


#: ``filenames.json`` / ``attribute_names.json``: a list of strings
NAME_LIST = TypeAdapter(list[Annotated[str, Field(max_length=4096)]], config=ConfigDict(strict=True))


# ------------------------------------------------------------------------------ outputs
GRID_FORMAT = "latentexplorer-grid/1"
SWEEP_FORMAT = "latentexplorer-sweep/1"
MAX_SHARPEN = 100.0


class GridSidecar(OpenSchema):
    """``GRID.json`` next to ``GRID.png``: every z-vector and how the grid was made."""

    format: Literal["latentexplorer-grid/1"]
    generator: Annotated[str, Field(max_length=128)]
    settings: dict[str, Any]
    seed: Seed | None
    fingerprint: Fingerprint
    n: Annotated[int, Field(ge=1, le=1_000_000)]
    z_dim: Annotated[int, Field(ge=1, le=MAX_Z_DIM)]
    rows: Annotated[int, Field(ge=1, le=1_000_000)]
    cols: Annotated[int, Field(ge=1, le=1_000_000)]
    sharpen: Annotated[float, Field(ge=0.0, le=MAX_SHARPEN)]
    z: list[list[Finite]]
    pad: Annotated[int, Field(ge=0, le=64)] = 2
    scale: Annotated[int, Field(ge=1, le=16)] = 1
    labels: list[Annotated[str, Field(max_length=256)]] | None = None
    png: Annotated[str, Field(max_length=4096)] = ""
    png_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    created: Text = ""
    image_shape: list[Annotated[int, Field(ge=1, le=MAX_IMAGE_SIZE)]] | None = None
    scores: Any = None

    @model_validator(mode="after")
    def _shapes(self) -> "GridSidecar":
        if len(self.z) != self.n or any(len(row) != self.z_dim for row in self.z):
            raise ValueError(f"'z' must be {self.n} lists of {self.z_dim} numbers")
        if self.rows * self.cols < self.n:
            raise ValueError(f"rows x cols = {self.rows * self.cols} cannot hold {self.n} images")
        if self.labels is not None and len(self.labels) != self.n:
            raise ValueError(f"'labels' must be a list of {self.n} strings or null")
        return self


class SweepEntry(OpenSchema):
    grid: Annotated[str, Field(max_length=4096)]
    radius_mean: Finite


class SweepSummary(OpenSchema):
    format: Literal["latentexplorer-sweep/1"]
    method: Literal["uniform", "normal"]
    parameter: Literal["b", "sigma"]
    n: Annotated[int, Field(ge=1, le=1_000_000)]
    seed: Seed
    z_dim: Annotated[int, Field(ge=1, le=MAX_Z_DIM)]
    fingerprint: Fingerprint
    entries: list[SweepEntry]


# ------------------------------------------------------------------------------ lock holder
class LockHolder(Schema):
    pid: Annotated[int, Field(ge=1)]
    command: Annotated[str, Field(max_length=4096)] = ""
    since: Text = ""
    host: Annotated[str, Field(max_length=256)] = ""


# ------------------------------------------------------------------------------ GUI state
class GuiThresholds(Schema):
    """The dominant-component criterion of the explorer (explore.analysis.Thresholds)."""

    mu: Annotated[float, Field(ge=0.0, le=100.0)] = 0.25
    half_width: Annotated[float, Field(ge=0.0, le=100.0)] = 1.5
    criterion: Literal["fwhm", "hwhm", "mad"] = "fwhm"
    k: Annotated[float, Field(ge=0.0, le=100.0)] = 3.0


class GuiState(OpenSchema):
    """``WS/gui_state.json``: disposable; :func:`parse_lenient` drops a bad entry, keeps the rest."""

    plane: tuple[Literal["latent", "pca"], Annotated[int, Field(ge=0, le=MAX_Z_DIM)],
                 Annotated[int, Field(ge=0, le=MAX_Z_DIM)]] | None = None
    sigma_level: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    fact: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    sharpen: Annotated[float, Field(ge=0.0, le=MAX_SHARPEN)] | None = None
    current: list[Finite] | None = None
    current_index: Annotated[int, Field(ge=0)] | None = None
    color_by: Annotated[str, Field(max_length=256)] | None = None
    snap: bool | None = None
    path_mode: bool | None = None
    thresholds: GuiThresholds | None = None
    path: dict[str, Any] | None = None
    samples: dict[str, Any] | None = None
    tab: Annotated[str, Field(max_length=64)] | None = None

    @field_validator("plane", mode="before")
    @classmethod
    def _plane_list(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


QUICKSTART_FORMAT = "latentexplorer-quickstart/1"


class QuickstartRecord(OpenSchema):
    """``DIR/quickstart.json``: written when ``latentexplorer quickstart DIR`` has finished."""

    format: Literal["latentexplorer-quickstart/1"]
    n: PositiveCount
    size: Annotated[int, Field(ge=1, le=MAX_IMAGE_SIZE)]
    model: Literal["ae", "vae"]
    z_dim: Annotated[int, Field(ge=1, le=MAX_Z_DIM)]
    seed: Seed
    epochs: Annotated[int, Field(ge=1, le=MAX_EPOCHS)]


def parse_lenient(schema: type[SchemaT], data: Any, where: str,
                  warn=None) -> SchemaT:
    """Like :func:`parse` for a JSON object, but an invalid entry is dropped (``warn(message)`` is
    called with the one-line reason) instead of failing the whole file."""
    if not isinstance(data, dict):
        if warn is not None:
            warn(f"{where}: expected a JSON object, got {type(data).__name__}; ignored")
        return schema()
    kept = dict(data)
    for _ in range(len(data) + 1):
        try:
            return schema.model_validate(kept)
        except ValidationError as exc:
            bad = {err["loc"][0] for err in exc.errors() if err.get("loc")}
            if warn is not None:
                warn(describe(exc, where) + "; ignored")
            if not bad & set(kept):
                return schema()
            for key in bad:
                kept.pop(key, None)
    return schema()
