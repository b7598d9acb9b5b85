"""AE / VAE: shapes, loss scale, eps clipping, predict mode, learning."""

import math

import numpy as np
import pytest
from tiny_models import face_like_images, tiny_config

from latentexplorer.models.autoencoder import (AE, VAE, Sampling, build_model, kl_divergence,
                                                reconstruction_loss)
from latentexplorer.schemas import ModelConfig


def _x(n=8, size=16, seed=0):
    return face_like_images(n, size, seed).astype("float32") / 255.0


@pytest.mark.parametrize("kind", ["ae", "vae"])
@pytest.mark.parametrize("preset", ["case1", "case2"])
def test_preset_shapes(kind, preset):
    cfg = ModelConfig.from_preset(preset, kind=kind, image_size=32, z_dim=6)
    model = build_model(cfg)
    assert isinstance(model, AE if kind == "ae" else VAE)
    x = _x(2, 32)
    out = model.encoder(x)
    if kind == "ae":
        assert tuple(out.shape) == (2, 6)
    else:
        assert [tuple(t.shape) for t in out] == [(2, 6), (2, 6)]
    assert tuple(model.decoder(np.zeros((2, 6), "float32")).shape) == (2, 32, 32, 3)
    y = np.asarray(model(x))
    assert y.shape == (2, 32, 32, 3) and y.min() >= 0 and y.max() <= 1
    conv = [l for l in model.encoder.layers if l.name.startswith("enc_conv")]
    assert [l.filters for l in conv] == list(cfg.encoder_filters)
    assert [l.kernel_size[0] for l in conv] == list(cfg.encoder_kernels)


@pytest.mark.parametrize("options", [
    dict(upsampling=True), dict(batchnorm=True, dropout=0.2, activation="relu"), dict(activation="selu")])
def test_options_build_and_run(options):
    model = build_model(tiny_config("vae", **options))
    assert tuple(model(_x(2)).shape) == (2, 16, 16, 3)
    names = [l.name for l in model.decoder.layers]
    if options.get("upsampling"):
        assert any(n.startswith("dec_up") for n in names)
        assert not any(type(l).__name__ == "Conv2DTranspose" for l in model.decoder.layers)
    if options.get("batchnorm"):
        assert any(l.name.startswith("enc_bn") for l in model.encoder.layers)
        assert any(l.name.startswith("enc_dropout") for l in model.encoder.layers)


def test_bce_of_constant_half_is_ln2_per_pixel_summed():
    x = _x(3)
    y = np.full_like(x, 0.5)
    per_image = np.asarray(reconstruction_loss(x, y, "bce"))
    assert per_image.shape == (3,)
    np.testing.assert_allclose(per_image, math.log(2) * 16 * 16, rtol=1e-5)
    mse = np.asarray(reconstruction_loss(x, y, "mse"))
    np.testing.assert_allclose(mse, ((x - 0.5) ** 2).mean(axis=-1).sum(axis=(1, 2)), rtol=1e-5)


def test_kl_divergence_formula():
    mu = np.array([[0.0, 1.0], [2.0, -1.0]], "float32")
    logvar = np.array([[0.0, 0.0], [np.log(4.0), 0.5]], "float32")
    expect = -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar), axis=1)
    np.testing.assert_allclose(np.asarray(kl_divergence(mu, logvar)), expect, rtol=1e-6)
    assert np.asarray(kl_divergence(np.zeros((1, 3)), np.zeros((1, 3))))[0] == 0


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_losses_finite_and_ae_has_no_kl(kind):
    model = build_model(tiny_config(kind))
    logs = model.evaluate(_x(16), batch_size=8, verbose=0, return_dict=True)
    assert set(logs) >= {"total_loss", "reco_loss", "kl_loss"}
    assert all(math.isfinite(v) for v in logs.values())
    # an untrained sigmoid decoder outputs ~0.5: reco ~ ln2 per pixel, summed over 16x16 pixels
    assert 0.5 * 256 < logs["reco_loss"] < 1.0 * 256
    if kind == "ae":
        assert logs["kl_loss"] == 0 and logs["total_loss"] == pytest.approx(logs["reco_loss"])
    else:
        assert logs["total_loss"] == pytest.approx(logs["reco_loss"] + 5.0 * logs["kl_loss"], rel=1e-4)


@pytest.mark.parametrize("eps_factor", [1.0, 0.5])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_sampling_clips_extreme_eps(monkeypatch, eps_factor, sign):
    layer = Sampling(eps_factor=eps_factor, eps_clip=5.0)
    monkeypatch.setattr(layer, "draw_eps", lambda shape, dtype: sign * 1000.0 * np.ones(shape, "float32"))
    mu = np.array([[0.5, -1.0, 2.0]], "float32")
    logvar = np.array([[0.0, np.log(4.0), -2.0]], "float32")
    z = np.asarray(layer([mu, logvar], training=True))
    bound = 5.0 * np.exp(logvar / 2) * eps_factor
    assert np.all(np.abs(z - mu) <= bound + 1e-5)
    np.testing.assert_allclose(z - mu, sign * bound, rtol=1e-5)


def test_vae_clips_inside_the_model(monkeypatch):
    model = build_model(tiny_config("vae", eps_factor=2.0))
    monkeypatch.setattr(model.sampling, "draw_eps", lambda shape, dtype: 1e6 * np.ones(shape, "float32"))
    x = _x(4)
    mu, logvar = (np.asarray(t) for t in model.encoder(x))
    z = np.asarray(model.sampling([mu, logvar], training=True))
    np.testing.assert_allclose(z - mu, 5.0 * np.exp(logvar / 2) * 2.0, rtol=1e-4)


def test_vae_predict_mode_uses_mu():
    model = build_model(tiny_config("vae"))
    x = _x(4)
    mu, logvar = (np.asarray(t) for t in model.encoder(x, training=False))
    z = np.asarray(model.sampling([mu, logvar], training=False))
    np.testing.assert_array_equal(z, mu)
    a, b = np.asarray(model(x, training=False)), np.asarray(model(x, training=False))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, np.asarray(model.decoder(mu)), atol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), a, atol=1e-6)
    c, d = np.asarray(model(x, training=True)), np.asarray(model(x, training=True))
    assert not np.array_equal(c, d)  # sampling in training mode


def test_vae_train_step_reduces_loss():
    # Eager train_step calls (the code fit() traces) keep this fast; the AE's decrease over two
    # epochs of train() is checked in test_training.py.
    import keras

    keras.utils.set_random_seed(1)
    model = build_model(tiny_config("vae"), learning_rate=3e-3)
    x = _x(64)
    first = [float(model.train_step(x[i:i + 16])["total_loss"]) for i in range(0, 64, 16)]
    for m in model.metrics:
        m.reset_state()
    second = [float(model.train_step(x[i:i + 16])["total_loss"]) for i in range(0, 64, 16)]
    assert second[-1] < first[-1] and all(map(math.isfinite, first + second))
