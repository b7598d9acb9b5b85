"""Decoder / Encoder wrappers: same images as the model, no retracing, fast single-vector path."""


import numpy as np
import pytest

from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.progress import ProgressReporter
from latentexplorer.models.codec import Decoder, Encoder, to_uint8

SIZE, Z_DIM = 16, 8  # the tiny models of conftest.py


@pytest.fixture(scope="module")
def decoder(tiny_decoder):
    return Decoder(tiny_decoder, batch_size=4)


def _z(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, Z_DIM)).astype(np.float32)


def test_decode_matches_the_model(decoder, tiny_decoder):
    z = _z(10)
    images = decoder.decode(z)
    assert images.shape == (10, SIZE, SIZE, 3) and images.dtype == np.uint8
    expected = to_uint8(tiny_decoder(z, training=False).numpy())
    assert np.abs(images.astype(int) - expected.astype(int)).max() <= 1
    floats = decoder.decode_float(z)
    assert floats.dtype == np.float32
    np.testing.assert_array_equal(to_uint8(floats), images)


def test_decode_one_equals_batch_and_no_retracing(decoder):
    z = _z(9, seed=1)
    batch = decoder.decode(z)  # chunks of 4, 4, 1
    for i in range(len(z)):
        np.testing.assert_array_equal(decoder.decode_one(z[i]), batch[i])
    for n in (1, 3, 4, 7, 30):
        decoder.decode(_z(n, seed=n))
    assert decoder._batch_uint8.experimental_get_tracing_count() == 1
    assert decoder._one_uint8.experimental_get_tracing_count() == 1
    # chunking does not change the result
    np.testing.assert_array_equal(Decoder(decoder.model, batch_size=256, warmup=False).decode(z), batch)


def test_decode_validation_and_cancel(decoder):
    with pytest.raises(InvalidInputError, match="shape"):
        decoder.decode(np.zeros((2, Z_DIM + 1)))
    with pytest.raises(InvalidInputError, match="NaN"):
        decoder.decode(np.full((1, Z_DIM), np.nan))
    with pytest.raises(InvalidInputError, match="one vector"):
        decoder.decode_one(np.zeros((2, Z_DIM)))
    seen = []
    progress = ProgressReporter(on_update=lambda d, t, m, metrics=None: seen.append((d, t)))
    decoder.decode(_z(6), progress=progress)
    assert seen == [(4, 6), (6, 6)]
    progress.cancel()
    with pytest.raises(Cancelled):
        decoder.decode(_z(6), progress=progress)


def test_encoder_ae_and_vae(tiny_encoder, tiny_vae_encoder):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, SIZE, SIZE, 3), dtype=np.uint8)
    enc = Encoder(tiny_encoder, batch_size=2)
    z = enc.encode(images)
    assert enc.kind == "ae" and z.shape == (5, Z_DIM) and z.dtype == np.float32
    np.testing.assert_allclose(z, tiny_encoder(images.astype(np.float32) / 255).numpy(), atol=1e-5)
    np.testing.assert_allclose(enc.encode(images.astype(np.float32) / 255), z, atol=1e-5)
    vae_model = tiny_vae_encoder
    vae = Encoder(vae_model)
    assert vae.kind == "vae"
    mu = vae_model(images.astype(np.float32) / 255)[0].numpy()
    np.testing.assert_allclose(vae.encode(images), mu, atol=1e-5)
    with pytest.raises(InvalidInputError, match="images"):
        enc.encode(np.zeros((2, SIZE + 1, SIZE, 3), np.uint8))
