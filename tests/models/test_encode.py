"""encode_store: shapes, batch-by-batch equality with the encoder, progress, errors."""

import numpy as np
import pytest
from tiny_models import tiny_config

from latentexplorer.data.store import DatasetStore
from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.models.autoencoder import build_model
from latentexplorer.models.encode import encode_store
from latentexplorer.progress import ProgressReporter


def test_ae_encodes_every_image(tiny_store):
    store = DatasetStore.open(tiny_store)
    model = build_model(tiny_config("ae"))
    calls = []
    out = encode_store(model, store, batch_size=24, progress=ProgressReporter(lambda *a: calls.append(a)))
    assert set(out) == {"z"} and out["z"].shape == (64, 4) and out["z"].dtype == np.float32
    want = np.asarray(model.encoder(store.images[:].astype("float32") / 255.0))
    np.testing.assert_allclose(out["z"], want, rtol=1e-5, atol=1e-6)
    assert [c[0] for c in calls] == [24, 48, 64] and calls[-1][1] == 64


def test_vae_gives_mu_and_logvar(tiny_store):
    store = DatasetStore.open(tiny_store)
    model = build_model(tiny_config("vae"))
    out = encode_store(model.encoder, store, batch_size=50, kind="vae")
    assert set(out) == {"z", "mu", "logvar"}
    assert all(out[k].shape == (64, 4) and out[k].dtype == np.float32 for k in out)
    np.testing.assert_array_equal(out["z"], out["mu"])  # encode mode: z = mu, no sampling
    mu, logvar = (np.asarray(t) for t in model.encoder(store.images[:10].astype("float32") / 255.0))
    np.testing.assert_allclose(out["logvar"][:10], logvar, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(encode_store(model, store)["z"], out["z"], rtol=1e-5, atol=1e-6)


def test_errors_and_cancel(tiny_store):
    store = DatasetStore.open(tiny_store)
    model = build_model(tiny_config("ae"))
    with pytest.raises(InvalidInputError, match="kind='vae'"):
        encode_store(model, store, kind="vae")
    with pytest.raises(InvalidInputError, match="batch_size"):
        encode_store(model, store, batch_size=0)
    big = build_model(tiny_config("ae", image_size=32))
    with pytest.raises(InvalidInputError, match="expects"):
        encode_store(big, store)
    progress = ProgressReporter()
    progress.cancel()
    with pytest.raises(Cancelled):
        encode_store(model, store, progress=progress)
