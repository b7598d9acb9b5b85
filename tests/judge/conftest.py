"""Small image sets shared by the judge's tests (synthetic faces and blurred noise, no real data)."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def faces():
    """16 embedded synthetic faces at 96 px (MTCNN finds about 90 % of these cartoon faces)."""
    from latentexplorer.data.synth import generate_faces

    return generate_faces(16, size=96, seed=0)[0]


@pytest.fixture(scope="session")
def noise():
    """16 images of blurred colour noise at 96 px (no face)."""
    from latentexplorer.judge.calibration import blurred_noise

    return blurred_noise(16, 96, random_state=1)


@pytest.fixture(scope="session")
def mtcnn():
    from latentexplorer.judge.detectors import default_detector

    return default_detector("mtcnn")


@pytest.fixture
def grid_of():
    """``grid_of(images, path, **save_grid_options)``: a grid PNG + sidecar of ``images`` (random
    z-vectors), written with save_grid; returns the PNG's path."""
    from latentexplorer.render.images import save_grid

    def write(images, path, **kwargs):
        z = np.random.default_rng(0).normal(size=(len(images), 4))
        save_grid(path, images, z, generator="uniform", settings={"b": 1.5}, seed=0,
                  fingerprint="0123456789abcdef", **kwargs)
        return path
    return write
