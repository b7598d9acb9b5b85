"""Fixtures of the render tests: tiny Keras models (z_dim 8, 16x16x3 images; build in milliseconds).

Works with ``--import-mode=importlib`` (tests get the builders through fixtures, not imports).
"""

import numpy as np
import pytest

from latentexplorer import _env  # noqa: F401

Z_DIM = 8
SIZE = 16


def build_tiny_decoder(seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((Z_DIM,))
    x = keras.layers.Dense(4 * 4 * 8, activation="relu")(inp)
    x = keras.layers.Reshape((4, 4, 8))(x)
    x = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="sigmoid")(x)
    return keras.Model(inp, x, name="decoder")


def build_tiny_encoder(vae: bool = False, seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inp)
    x = keras.layers.Flatten()(x)
    if vae:
        return keras.Model(inp, [keras.layers.Dense(Z_DIM)(x), keras.layers.Dense(Z_DIM)(x)], name="encoder")
    return keras.Model(inp, keras.layers.Dense(Z_DIM)(x), name="encoder")


def build_linear_autoencoder(k: int = 4, seed: int = 0):
    """An exact linear AE for images on a k-dim affine manifold: x = 0.5 + U c (U orthonormal).

    Returns (encoder, decoder, data_images uint8 (n, 16, 16, 3), data_z (n, k)). Real points
    decode to their own images and re-encode (nearly, up to uint8 rounding) to themselves;
    points far off the data cloud decode to clipped images that do not.
    """
    import keras

    d = SIZE * SIZE * 3
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((d, k)))
    u = u.astype(np.float32)
    z_data = (rng.standard_normal((300, k)) * 1.0).astype(np.float32)
    x = np.clip(0.5 + z_data @ u.T, 0, 1)
    images = np.round(x * 255).reshape(-1, SIZE, SIZE, 3).astype(np.uint8)

    inp = keras.Input((SIZE, SIZE, 3))
    dense = keras.layers.Dense(k)
    enc = keras.Model(inp, dense(keras.layers.Flatten()(inp)))
    dense.set_weights([u, -0.5 * u.sum(axis=0)])
    zin = keras.Input((k,))
    dec_dense = keras.layers.Dense(d)
    dec = keras.Model(zin, keras.layers.Reshape((SIZE, SIZE, 3))(dec_dense(zin)))
    dec_dense.set_weights([u.T.copy(), np.full(d, 0.5, np.float32)])
    return enc, dec, images, enc.predict(images.astype(np.float32) / 255.0, verbose=0)


@pytest.fixture(scope="module")
def tiny_decoder():
    return build_tiny_decoder()


@pytest.fixture(scope="module")
def tiny_encoder():
    return build_tiny_encoder()


@pytest.fixture(scope="module")
def tiny_vae_encoder():
    return build_tiny_encoder(vae=True)


@pytest.fixture(scope="session")
def decoder_factory():
    """``decoder_factory(seed)`` → a new tiny Keras decoder with seeded weights."""
    return build_tiny_decoder


@pytest.fixture(scope="module")
def linear():
    """(encoder, decoder, images, z) of an exact linear AE (see build_linear_autoencoder)."""
    return build_linear_autoencoder()
