"""DatasetStore / StoreWriter: round trip, split, batch order, atomicity, overwrite safety."""

import json

import numpy as np
import pytest

from latentexplorer.data.store import DatasetStore, StoreWriter
from latentexplorer.errors import InvalidInputError, WriteFailedError


def _images(n, size=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _write(out, imgs, names=None, attrs=None, attr_names=None, meta=None, n_written=None, **kw):
    with StoreWriter(out, len(imgs), imgs.shape[1], **kw) as w:
        w.images[:] = imgs
        if names is not None:
            w.set_filenames(names)
        if attrs is not None:
            w.set_attributes(attrs, attr_names)
        w.finish(meta or {"source": "test", "preset": "none"}, n_written=n_written)
    return DatasetStore.open(out)


def test_round_trip(tmp_path):
    imgs = _images(10)
    names = [f"{i:03d}.png" for i in range(10)]
    attrs = np.where(np.arange(30).reshape(10, 3) % 2 == 0, 1, -1).astype(np.int8)
    s = _write(tmp_path / "s", imgs, names, attrs, ["a", "b", "c"], meta={"source": "x", "preset": "p"})
    assert isinstance(s.images, np.memmap) and s.images.dtype == np.uint8
    np.testing.assert_array_equal(s.images, imgs)
    assert s.n == len(s) == 10 and s.size == 8
    assert s.filenames == names
    assert s.attribute_names == ["a", "b", "c"]
    assert s.attributes.dtype == np.float32
    np.testing.assert_array_equal(s.attributes, attrs)
    np.testing.assert_array_equal(s.attribute("b"), attrs[:, 1])
    assert s.meta["count"] == 10 and s.meta["source"] == "x" and s.meta["format"].startswith("latentexplorer")
    with pytest.raises(InvalidInputError, match="'zz'"):
        s.attribute("zz")


def test_shrink_to_n_written(tmp_path):
    imgs = _images(6)
    attrs = np.ones((6, 2), np.float32)
    s = _write(tmp_path / "s", imgs, [str(i) for i in range(6)], attrs, ["a", "b"], n_written=4)
    assert s.n == 4 and s.meta["count"] == 4 and len(s.filenames) == 4 and s.attributes.shape == (4, 2)
    np.testing.assert_array_equal(s.images, imgs[:4])


def test_split_deterministic_and_disjoint(tmp_path):
    s = _write(tmp_path / "s", _images(90, size=4))
    tr, te = s.split()
    assert len(te) == 5 and len(tr) == 85  # default 1/18
    assert not set(tr) & set(te) and sorted(set(tr) | set(te)) == list(range(90))
    assert np.all(np.diff(tr) > 0) and np.all(np.diff(te) > 0)
    tr2, te2 = DatasetStore.open(tmp_path / "s").split()
    np.testing.assert_array_equal(tr, tr2)
    np.testing.assert_array_equal(te, te2)
    _, te3 = s.split(test_fraction=0.2, seed=1)
    assert len(te3) == 18 and not np.array_equal(np.sort(te3)[:5], te)
    with pytest.raises(InvalidInputError, match="test_fraction"):
        s.split(test_fraction=1.0)


def test_batch_keeps_requested_order(tmp_path):
    imgs = _images(12)
    s = _write(tmp_path / "s", imgs)
    idx = [7, 2, 11, 2, 0]
    got = s.batch(idx)
    assert got.dtype == np.uint8 and got.shape == (5, 8, 8, 3)
    np.testing.assert_array_equal(got, imgs[idx])
    assert s.batch([]).shape == (0, 8, 8, 3)


def test_exception_leaves_nothing(tmp_path):
    out = tmp_path / "s"
    with pytest.raises(RuntimeError):
        with StoreWriter(out, 3, 4) as w:
            w.images[:] = 1
            raise RuntimeError("boom")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # the temporary folder is gone too


def test_close_without_finish_is_an_error(tmp_path):
    out = tmp_path / "s"
    with pytest.raises(InvalidInputError, match="without finish"):
        with StoreWriter(out, 3, 4):
            pass
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_overwrite_keeps_old_store_until_new_is_complete(tmp_path):
    out = tmp_path / "s"
    old = _images(3, seed=1)
    _write(out, old)
    with pytest.raises(InvalidInputError, match="already exists"):
        _write(out, _images(3))
    with pytest.raises(RuntimeError):
        with StoreWriter(out, 5, 8, overwrite=True) as w:
            w.images[:] = 0
            # mid-build the old store is still complete and readable
            np.testing.assert_array_equal(DatasetStore.open(out).images, old)
            raise RuntimeError("interrupted")
    np.testing.assert_array_equal(DatasetStore.open(out).images, old)
    new = _images(5, seed=2)
    s = _write(out, new, overwrite=True)
    np.testing.assert_array_equal(s.images, new)
    assert [p.name for p in tmp_path.iterdir()] == ["s"]


def test_overwrite_refuses_a_folder_that_is_not_a_store(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "me.jpg").write_bytes(b"precious")
    with pytest.raises(InvalidInputError, match="not a dataset store"):
        _write(photos, _images(2), overwrite=True)
    assert (photos / "me.jpg").read_bytes() == b"precious"
    (tmp_path / "empty").mkdir()
    assert _write(tmp_path / "empty", _images(2), overwrite=True).n == 2


def test_open_rejects_incomplete_or_inconsistent(tmp_path):
    with pytest.raises(InvalidInputError, match="not found"):
        DatasetStore.open(tmp_path / "nope")
    (tmp_path / "half").mkdir()
    np.save(tmp_path / "half" / "images.npy", _images(2))
    with pytest.raises(InvalidInputError, match="meta.json missing"):
        DatasetStore.open(tmp_path / "half")
    s = _write(tmp_path / "s", _images(3), ["a", "b", "c"])
    (s.path / "filenames.json").write_text(json.dumps(["a"]))
    with pytest.raises(InvalidInputError, match="filenames.json"):
        DatasetStore.open(s.path)


def test_writer_validates_counts(tmp_path):
    with pytest.raises(InvalidInputError, match="at least one"):
        StoreWriter(tmp_path / "s", 0, 8)
    with pytest.raises(InvalidInputError, match="rows for 3 images"):
        _write(tmp_path / "s", _images(3), attrs=np.ones((2, 1)), attr_names=["a"])
    with pytest.raises(InvalidInputError, match="more than"):
        _write(tmp_path / "s", _images(3), n_written=4)
    with pytest.raises(InvalidInputError, match="no usable"):
        _write(tmp_path / "s", _images(3), n_written=0)
    assert not (tmp_path / "s").exists()


def test_disk_full_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    import errno
    import os

    def no_space(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_space, raising=False)
    with pytest.raises(WriteFailedError, match="not enough free disk space"):
        with StoreWriter(tmp_path / "s", 100, 8):
            pass
    assert list(tmp_path.iterdir()) == []
