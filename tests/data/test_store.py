"""DatasetStore / StoreWriter: round trip, split, batch order, atomicity, overwrite safety."""


import numpy as np
import pytest

from latentexplorer.data.store import DatasetStore, StoreWriter
from latentexplorer.errors import InvalidInputError


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
    with pytest.raises(IndexError):
        s.batch([12])


def test_batch_reads_without_mapping_the_images(tmp_path):
    """Batches are read, not touched through the memory map: the map's pages never become
    resident in this process for them (a whole epoch through the map would count the store in
    the RSS)."""
    imgs = _images(400, size=32)
    s = _write(tmp_path / "s", imgs)
    assert isinstance(s.images, np.memmap)
    before = _mapped_rss_kb(s.images)
    if before is None:
        pytest.skip("/proc/self/smaps is not available")
    s.batch(np.arange(400))
    assert _mapped_rss_kb(s.images) - before <= 8  # 1.2 MB of images read; a page or two at most
    _ = np.asarray(s.images[:400]).sum()          # reading through the map does count
    assert _mapped_rss_kb(s.images) - before > 1000
    np.testing.assert_array_equal(s.batch([399, 3]), imgs[[399, 3]])


def _mapped_rss_kb(arr):
    """Resident kB of the memory mapping holding ``arr`` (Linux /proc/self/smaps), or None."""
    try:
        text = open("/proc/self/smaps", encoding="ascii", errors="replace").read()
    except OSError:
        return None
    address = arr.__array_interface__["data"][0]
    inside = False
    for line in text.splitlines():
        head = line.split()[0] if line.split() else ""
        if "-" in head and all(c in "0123456789abcdef-" for c in head):
            lo, hi = (int(x, 16) for x in head.split("-"))
            inside = lo <= address < hi
        elif inside and line.startswith("Rss:"):
            return int(line.split()[1])
    return None
