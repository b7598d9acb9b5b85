"""Fixtures of the render tests (models from render_models.py)."""

import pytest
from render_models import build_tiny_decoder, build_tiny_encoder


@pytest.fixture(scope="module")
def tiny_decoder():
    return build_tiny_decoder()


@pytest.fixture(scope="module")
def tiny_encoder():
    return build_tiny_encoder()
