"""Fixtures of the model tests."""

from pathlib import Path

import pytest
from tiny_models import make_store


@pytest.fixture
def tiny_store(tmp_path) -> Path:
    return make_store(tmp_path / "store")
