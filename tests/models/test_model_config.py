"""ModelConfig: presets, defaults, (de)serialisation and validation messages."""

import pytest

from latentexplorer.errors import InvalidInputError
from latentexplorer.schemas import PRESETS, ModelConfig


def test_defaults_are_case1_ae():
    cfg = ModelConfig()
    assert (cfg.kind, cfg.preset, cfg.image_size, cfg.z_dim) == ("ae", "case1", 96, 256)
    assert cfg.encoder_filters == (32, 64, 128, 256) and cfg.decoder_filters == (128, 64, 32, 3)
    assert cfg.encoder_strides == cfg.decoder_strides == (2, 2, 2, 2)
    assert (cfg.activation, cfg.loss, cfg.fact, cfg.eps_factor, cfg.eps_clip) == ("leaky_relu", "bce", 5.0, 1.0, 5.0)
    assert cfg.feature_shape == (6, 6, 256)


def test_case2_preset():
    cfg = ModelConfig.from_preset("case2", kind="vae", z_dim=8)
    assert cfg.encoder_filters == (64, 64, 128, 128) and cfg.encoder_kernels == (5, 5, 3, 3)
    assert cfg.decoder_filters == (128, 64, 64, 3) and cfg.decoder_kernels == (3, 3, 5, 5)
    assert cfg.kind == "vae" and cfg.z_dim == 8 and set(PRESETS) == {"case1", "case2"}


def test_dict_round_trip_with_lists():
    cfg = ModelConfig.from_preset("case2", kind="vae", z_dim=3, batchnorm=True, dropout=0.1, upsampling=True)
    data = cfg.to_dict()
    assert isinstance(data["encoder_filters"], list)
    assert ModelConfig.from_dict(data) == cfg
    assert cfg.replace(z_dim=5).z_dim == 5


@pytest.mark.parametrize("overrides, words", [
    (dict(image_size=90), "divisible"),
    (dict(decoder_filters=(128, 64, 32, 4)), "3 filters"),
    (dict(encoder_kernels=(3, 3, 3)), "lengths"),
    (dict(z_dim=0), "z_dim = 0"),
    (dict(kind="gan"), "kind"),
    (dict(loss="l1"), "loss"),
    (dict(activation="tanh"), "activation"),
    (dict(dropout=1.0), "dropout"),
    (dict(eps_clip=0.0), "eps_clip"),
    (dict(decoder_strides=(2, 2, 2, 1)), "undo"),
    (dict(encoder_filters=(32, 0, 128, 256)), r"encoder_filters\[1\] = 0: expected greater"),
    (dict(z_dimm=3), "unknown entry .z_dimm."),
    (dict(batchnorm="yes"), "batchnorm"),
])
def test_invalid_configs_name_the_value(overrides, words):
    with pytest.raises(InvalidInputError, match=words):
        ModelConfig.from_preset("case1", **overrides)


def test_unknown_preset():
    with pytest.raises(InvalidInputError, match="case3"):
        ModelConfig.from_preset("case3")
