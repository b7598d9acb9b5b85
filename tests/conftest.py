"""Shared test set-up: offscreen Qt, quiet TensorFlow, small thread pools, shared-data paths."""

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import gc  # noqa: E402

import pytest  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` (real CelebA images); tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data not available")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _collect_garbage_in_main_thread():
    """Free each test's leftover objects (Qt widgets in cycles) now, in the main thread.

    Otherwise the cyclic GC may run later inside a worker thread of another test and destroy a
    QWidget there, which deadlocks against the main thread.
    """
    yield
    gc.collect()


# Automatic collection stays off for the whole run (as in the app, which collects on a GUI timer):
# only the fixture above collects, always in the main thread.
gc.disable()


# -- raw tiny Keras models (tests/models/tiny_models.py builds them; shared by several folders) --
@pytest.fixture(scope="module")
def tiny_decoder():
    from tiny_models import build_tiny_decoder

    return build_tiny_decoder()


@pytest.fixture(scope="module")
def tiny_encoder():
    from tiny_models import build_tiny_encoder

    return build_tiny_encoder()


@pytest.fixture(scope="module")
def tiny_vae_encoder():
    from tiny_models import build_tiny_encoder

    return build_tiny_encoder(vae=True)


@pytest.fixture(scope="session")
def decoder_factory():
    """``decoder_factory(seed)`` → a new tiny Keras decoder with seeded weights."""
    from tiny_models import build_tiny_decoder

    return build_tiny_decoder


@pytest.fixture(scope="module")
def linear():
    """(encoder, decoder, images, z) of an exact linear AE (see build_linear_autoencoder)."""
    from tiny_models import build_linear_autoencoder

    return build_linear_autoencoder()
