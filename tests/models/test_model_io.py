"""Saving and loading: identical outputs, optimizer state kept, clear errors for bad files."""

import numpy as np
import pytest
from tiny_models import face_like_images, tiny_config

from latentexplorer.errors import InvalidInputError
from latentexplorer.models import io
from latentexplorer.models.autoencoder import build_model


def _x(n=6):
    return face_like_images(n, 16, seed=3).astype("float32") / 255.0


@pytest.fixture(scope="module", params=["ae", "vae"])
def trained(request, tmp_path_factory):
    """A tiny model after one short fit (so the optimizer has state), saved to a folder."""
    model = build_model(tiny_config(request.param))
    x = _x(32)
    for i in range(4):  # eager steps: same train_step as fit() without the cost of tracing it
        model.train_step(x[i * 8:(i + 1) * 8])
    folder = tmp_path_factory.mktemp(f"model_{request.param}")
    fingerprint = io.save_model(model, folder)
    return model, folder, fingerprint


def test_files_of_one_folder(trained):
    _, folder, fingerprint = trained
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["decoder.keras", "encoder.keras", "model.keras", "model_config.json"]
    info = io.read_model_info(folder)
    assert info.fingerprint == fingerprint and len(fingerprint) == 16
    assert io.load_model_config(folder).kind == info.kind


def test_round_trip_identical_outputs(trained):
    model, folder, fingerprint = trained
    x = _x()
    enc, dec, full = io.load_encoder(folder), io.load_decoder(folder), io.load_model(folder)
    np.testing.assert_array_equal(np.asarray(enc(x)), np.asarray(model.encoder(x)))  # (2,)+ for a VAE
    z = np.random.default_rng(0).normal(size=(4, 4)).astype("float32")
    np.testing.assert_array_equal(np.asarray(dec(z)), np.asarray(model.decoder(z)))
    np.testing.assert_array_equal(np.asarray(full(x)), np.asarray(model(x)))
    np.testing.assert_array_equal(np.asarray(full.encoder(x)), np.asarray(model.encoder(x)))
    assert type(full) is type(model) and full.model_config == model.model_config
    assert io.weights_fingerprint(full) == fingerprint


def test_optimizer_state_survives(trained):
    model, folder, _ = trained
    full = io.load_model(folder)
    assert int(full.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) == 4
    np.testing.assert_allclose(float(full.optimizer.learning_rate.numpy()), 5e-4, rtol=1e-6)
    for a, b in zip(full.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_fingerprint_tracks_weights():
    model = build_model(tiny_config("ae"))
    before = io.weights_fingerprint(model)
    assert io.weights_fingerprint(model) == before
    w = model.decoder.weights[0]
    w.assign(w.numpy() + 1.0)
    assert io.weights_fingerprint(model) != before


def test_missing_truncated_and_foreign_files(tmp_path, trained):
    import shutil

    _, folder, _ = trained
    with pytest.raises(InvalidInputError, match="model_config.json: JSON file not found"):
        io.load_model(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(folder / "model_config.json", bad)
    with pytest.raises(InvalidInputError, match="model.keras: model file not found"):
        io.load_model(bad)
    data = (folder / "model.keras").read_bytes()
    (bad / "model.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInputError, match="model.keras"):
        io.load_model(bad)
    (bad / "encoder.keras").write_text("not a zip at all")
    with pytest.raises(InvalidInputError, match="encoder.keras"):
        io.load_encoder(bad)
    # a valid .keras file that is no LatentExplorer model
    import keras

    foreign = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    foreign.save(bad / "model.keras")
    with pytest.raises(InvalidInputError, match="not a LatentExplorer"):
        io.load_model(bad)
    # the model of another architecture next to this model_config.json
    build_model(tiny_config(z_dim=5)).save(bad / "model.keras")
    with pytest.raises(InvalidInputError, match="architecture differs from model_config.json"):
        io.load_model(bad)
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save(bad / "decoder.keras")
    with pytest.raises(InvalidInputError, match=r"decoder maps \(4,\) to \(2,\)"):
        io.load_decoder(bad)
