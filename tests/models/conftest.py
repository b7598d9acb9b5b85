"""Fixtures of the model tests."""

import sys
from pathlib import Path

import pytest

# The helpers module sits next to this file; tests/ has no packages (no __init__.py), so make it
# importable whatever the pytest import mode or the directory pytest was started from.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_models import make_store  # noqa: E402


@pytest.fixture
def tiny_store(tmp_path) -> Path:
    return make_store(tmp_path / "store")
