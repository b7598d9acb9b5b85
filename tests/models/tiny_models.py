"""Helpers shared by the model tests: tiny configs and stores (2 CPU cores: keep them small)."""

from pathlib import Path

import numpy as np

from latentexplorer.data.store import StoreWriter
from latentexplorer.schemas import ModelConfig

TINY = dict(image_size=16, z_dim=4, encoder_filters=(4, 8), encoder_kernels=(3, 3),
            encoder_strides=(2, 2), decoder_filters=(8, 3), decoder_kernels=(3, 3),
            decoder_strides=(2, 2))


def tiny_config(kind: str = "ae", **overrides) -> ModelConfig:
    """A 16x16, z_dim 4 model with two conv layers each side (builds and trains in milliseconds)."""
    return ModelConfig.from_preset("case1", kind=kind, **{**TINY, **overrides})


def face_like_images(n: int, size: int, seed: int = 0) -> np.ndarray:
    """uint8 (n, size, size, 3): a coloured disc on a coloured background (learnable structure)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    cx, cy = rng.uniform(0.3, 0.7, (2, n, 1, 1))
    r = rng.uniform(0.15, 0.35, (n, 1, 1))
    disc = ((xx - cx) ** 2 + (yy - cy) ** 2 < r ** 2)[..., None]
    fg, bg = rng.uniform(0, 1, (2, n, 1, 1, 3))
    return (np.where(disc, fg, bg) * 255).astype(np.uint8)


def make_store(path: Path, n: int = 64, size: int = 16, seed: int = 0) -> Path:
    with StoreWriter(path, n, size) as w:
        w.images[:] = face_like_images(n, size, seed)
        w.set_attributes(np.arange(n, dtype=np.float32)[:, None], ["index"])
        w.finish({"source": "test", "preset": "synthetic"})
    return path


def commit_untrained_epoch(ws, seed: int = 0) -> None:
    """Commit a freshly built (untrained) model of ``ws`` as its next epoch: a model in
    milliseconds, for tests that only need one to exist."""
    import keras

    from latentexplorer.models.autoencoder import build_model

    keras.utils.set_random_seed(seed)
    row = {"epoch": ws.checkpoint_epoch + 1, "total_loss": 1.0, "reco_loss": 1.0, "kl_loss": 0.0}
    ws.commit_epoch(build_model(ws.model_config), ws.history() + [row], ws.dataset().fingerprint())


def build_tiny_workspace(path: Path, store: Path, config: ModelConfig | None = None) -> Path:
    """Create, train (1 epoch, batch 32, seed 0) and encode a workspace at ``path`` on ``store``.

    The shared recipe of the session fixtures ``tiny_workspace`` (GUI) and ``rel_ws``
    (reliability), which differ only in the images of their store.
    """
    from latentexplorer.workspace.training import train
    from latentexplorer.workspace import Workspace

    ws = Workspace.create(path, store, config or tiny_config(),
                          training={"epochs": 1, "batch_size": 32, "seed": 0})
    train(ws, 1)
    ws.encode(batch_size=64)
    return ws.path


# -- raw Keras encoders/decoders (no LatentExplorer model): for the codec and render tests -----
RAW_Z_DIM = 8
RAW_SIZE = 16


def build_tiny_decoder(seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((RAW_Z_DIM,))
    x = keras.layers.Dense(4 * 4 * 8, activation="relu")(inp)
    x = keras.layers.Reshape((4, 4, 8))(x)
    x = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="sigmoid")(x)
    return keras.Model(inp, x, name="decoder")


def build_tiny_encoder(vae: bool = False, seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((RAW_SIZE, RAW_SIZE, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inp)
    x = keras.layers.Flatten()(x)
    if vae:
        return keras.Model(inp, [keras.layers.Dense(RAW_Z_DIM)(x), keras.layers.Dense(RAW_Z_DIM)(x)], name="encoder")
    return keras.Model(inp, keras.layers.Dense(RAW_Z_DIM)(x), name="encoder")


def build_linear_autoencoder(k: int = 4, seed: int = 0):
    """An exact linear AE for images on a k-dim affine manifold: x = 0.5 + U c (U orthonormal).

    Returns (encoder, decoder, data_images uint8 (n, 16, 16, 3), data_z (n, k)). Real points
    decode to their own images and re-encode (nearly, up to uint8 rounding) to themselves;
    points far off the data cloud decode to clipped images that do not.
    """
    import keras

    d = RAW_SIZE * RAW_SIZE * 3
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((d, k)))
    u = u.astype(np.float32)
    z_data = (rng.standard_normal((300, k)) * 1.0).astype(np.float32)
    x = np.clip(0.5 + z_data @ u.T, 0, 1)
    images = np.round(x * 255).reshape(-1, RAW_SIZE, RAW_SIZE, 3).astype(np.uint8)

    inp = keras.Input((RAW_SIZE, RAW_SIZE, 3))
    dense = keras.layers.Dense(k)
    enc = keras.Model(inp, dense(keras.layers.Flatten()(inp)))
    dense.set_weights([u, -0.5 * u.sum(axis=0)])
    zin = keras.Input((k,))
    dec_dense = keras.layers.Dense(d)
    dec = keras.Model(zin, keras.layers.Reshape((RAW_SIZE, RAW_SIZE, 3))(dec_dense(zin)))
    dec_dense.set_weights([u.T.copy(), np.full(d, 0.5, np.float32)])
    return enc, dec, images, enc.predict(images.astype(np.float32) / 255.0, verbose=0)


def detectable_face(size: int = 64) -> np.ndarray:
    """A synthetic face (uint8 (size, size, 3)) that MTCNN finds with confidence >= 0.99."""
    from latentexplorer.data.synth import generate_faces
    from latentexplorer.judge.detectors import default_detector

    faces, _ = generate_faces(16, size=size, seed=3)
    found = default_detector("mtcnn").detect(faces)
    best = int(np.argmax([d.confidence or 0.0 for d in found]))
    assert (found[best].confidence or 0) >= 0.99, "no clearly detectable synthetic face"
    return faces[best]


def build_face_switch_decoder(face: np.ndarray, z_dim: int = 4, sharpness: float = 40.0):
    """A real Keras decoder: z → ``face`` where z[0] > 0, a flat grey image where z[0] < 0.

    image = s·face + (1 − s)·grey with s = sigmoid(sharpness·z[0]): two Dense layers with set
    weights, so the face-likeness map has a known answer (faces exactly on the right half-plane).
    """
    import keras

    size = face.shape[0]
    flat_face = face.reshape(-1).astype(np.float32) / 255.0
    grey = np.full_like(flat_face, 0.5)
    z = keras.Input((z_dim,))
    switch = keras.layers.Dense(1, activation="sigmoid", name="switch")(z)
    image = keras.layers.Dense(flat_face.size, name="blend")(switch)
    out = keras.layers.Reshape((size, size, 3))(image)
    model = keras.Model(z, out, name="face_switch")
    kernel = np.zeros((z_dim, 1), np.float32)
    kernel[0, 0] = sharpness
    model.get_layer("switch").set_weights([kernel, np.zeros(1, np.float32)])
    model.get_layer("blend").set_weights([(flat_face - grey)[None, :], grey])
    return model
