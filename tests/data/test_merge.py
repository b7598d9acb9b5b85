"""Merging stores: images in order, attribute union with NaN for unknown, size mismatch refused."""

import numpy as np
import pytest

from latentexplorer.cli import main
from latentexplorer.data.merge import merge_stores
from latentexplorer.data.store import DatasetStore, StoreWriter
from latentexplorer.errors import InvalidInputError


def _store(path, n, size, seed, attrs=None):
    rng = np.random.default_rng(seed)
    with StoreWriter(path, n, size) as w:
        w.images[:] = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
        w.set_filenames([f"img{i}.jpg" for i in range(n)])
        if attrs is not None:
            w.set_attributes(rng.choice([-1.0, 1.0], size=(n, len(attrs))), attrs)
        w.finish({"source": "test", "preset": "center"})
    return DatasetStore.open(path)


def test_merge_concatenates_images_and_unions_attributes(tmp_path):
    a = _store(tmp_path / "a", 5, 16, 0, attrs=["Smiling", "Male"])
    b = _store(tmp_path / "b", 3, 16, 1)
    merged = merge_stores([a.path, b.path], tmp_path / "m")
    assert merged.n == 8
    np.testing.assert_array_equal(merged.images[:5], a.images)
    np.testing.assert_array_equal(merged.images[5:], b.images)
    assert merged.attribute_names == ["Smiling", "Male"]
    np.testing.assert_array_equal(merged.attributes[:5], a.attributes)
    assert np.isnan(merged.attributes[5:]).all()
    assert merged.filenames[0] == "a/img0.jpg" and merged.filenames[5] == "b/img0.jpg"
    assert [s["count"] for s in merged.meta["sources"]] == [5, 3]


def test_merge_refuses_different_sizes_and_leaves_nothing(tmp_path):
    a = _store(tmp_path / "a", 2, 16, 0)
    b = _store(tmp_path / "b", 2, 32, 1)
    with pytest.raises(InvalidInputError, match="different image sizes"):
        merge_stores([a.path, b.path], tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_merge_cli(tmp_path, capsys):
    _store(tmp_path / "a", 2, 16, 0)
    _store(tmp_path / "b", 2, 16, 1)
    assert main(["merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "m")]) == 0
    assert "4 images" in capsys.readouterr().out
    assert main(["merge", str(tmp_path / "a"), "--out", str(tmp_path / "n")]) == 2
