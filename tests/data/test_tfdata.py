"""tf.data pipeline over a uint8 store: values, shapes, shuffling per epoch, drop_remainder, repeat."""

import numpy as np
import pytest

from latentexplorer.data.store import DatasetStore, StoreWriter
from latentexplorer.errors import InvalidInputError

tf = pytest.importorskip("tensorflow")
from latentexplorer.data.tfdata import make_dataset, shard_indices, worker_pipeline  # noqa: E402

N, SIZE = 37, 6


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Image i is filled with value i (plus noise in channel 1), so a batch reveals its indices."""
    out = tmp_path_factory.mktemp("tfdata") / "store"
    rng = np.random.default_rng(0)
    with StoreWriter(out, N, SIZE) as w:
        w.images[:] = np.arange(N, dtype=np.uint8)[:, None, None, None]
        w.images[:, :, :, 1] = rng.integers(0, 256, (N, SIZE, SIZE), dtype=np.uint8)
        w.finish({"source": "test", "preset": "none"})
    return DatasetStore.open(out)


def _epoch_indices(ds):
    return [np.rint(b.numpy()[:, 0, 0, 0] * 255).astype(int).tolist() for b in ds]


def test_unshuffled_values_match_store(store):
    idx = np.array([5, 3, 30, 0, 36, 12, 7])
    ds = make_dataset(store, idx, batch_size=3, shuffle=False)
    assert ds.element_spec.shape.as_list() == [None, SIZE, SIZE, 3]
    assert ds.element_spec.dtype == tf.float32
    batches = [b.numpy() for b in ds]
    assert [b.shape[0] for b in batches] == [3, 3, 1]
    got = np.concatenate(batches)
    assert got.dtype == np.float32 and got.min() >= 0.0 and got.max() <= 1.0
    np.testing.assert_array_equal(got, store.images[idx].astype(np.float32) / 255.0)


def test_shuffled_epochs_see_every_index_once_in_new_orders(store):
    idx = np.arange(N)
    ds = make_dataset(store, idx, batch_size=8, shuffle=True, seed=3)
    e1, e2 = _epoch_indices(ds), _epoch_indices(ds)
    flat1, flat2 = sum(e1, []), sum(e2, [])
    assert sorted(flat1) == sorted(flat2) == list(range(N))
    assert flat1 != flat2 and flat1 != list(range(N))
    assert [len(b) for b in e1] == [8, 8, 8, 8, 5]
    # same seed, fresh dataset: same first epoch
    assert sum(_epoch_indices(make_dataset(store, idx, batch_size=8, seed=3)), []) == flat1


def test_drop_remainder_and_repeat(store):
    ds = make_dataset(store, np.arange(N), batch_size=8, drop_remainder=True, seed=1)
    assert ds.element_spec.shape.as_list() == [8, SIZE, SIZE, 3]
    sizes = [b.shape[0] for b in ds]
    assert sizes == [8, 8, 8, 8]
    rep = make_dataset(store, np.arange(10), batch_size=4, repeat=True, seed=1)
    got = _epoch_indices(rep.take(6))  # two epochs of 4, 4, 2: batches do not straddle epochs
    assert [len(b) for b in got] == [4, 4, 2, 4, 4, 2]
    assert sorted(sum(got[:3], [])) == sorted(sum(got[3:], [])) == list(range(10))


@pytest.mark.parametrize("kwargs,msg", [
    ({"indices": []}, "non-empty"),
    ({"indices": [0, N]}, "outside"),
    ({"indices": [-1]}, "outside"),
    ({"indices": [0.5]}, "integers"),
    ({"indices": [0, 1], "batch_size": 0}, "batch_size"),
    ({"indices": [0, 1], "batch_size": 4, "drop_remainder": True}, "not one full batch"),
])
def test_bad_arguments(store, kwargs, msg):
    with pytest.raises(InvalidInputError, match=msg):
        make_dataset(store, **kwargs)


def test_each_worker_reads_only_its_equal_shard(store):
    """Two workers: disjoint shards of equal size covering all but the remainder, each read in
    batches of its half of the global batch."""
    indices = np.arange(N)
    seen = []
    for worker in (0, 1):
        ctx = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=worker,
                                         num_replicas_in_sync=2)
        batches = _epoch_indices(worker_pipeline(store, indices, 8, shuffle=True, seed=1)(ctx))
        assert [len(b) for b in batches] == [4, 4, 4, 4, 2]  # 18 images in batches of 8 / 2
        seen.append(sorted(sum(batches, [])))
    assert seen[0] == list(range(0, 36, 2)) and seen[1] == list(range(1, 36, 2))
    with pytest.raises(InvalidInputError, match="cannot be shared by 4 workers"):
        shard_indices(np.arange(3), 4, 0)
