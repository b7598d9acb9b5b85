"""``tf.data`` input pipeline over a uint8 :class:`~latentexplorer.data.store.DatasetStore`.

The pipeline shuffles and batches *indices*; each index batch is read from the memory-mapped uint8
images (``store.batch``, sorted reads) and scaled to float32 in [0, 1] inside the graph. Only a few
batches are ever held as float32 — never a float copy of the whole set (CelebA: 5.6 GB uint8, 22 GB
float32).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import _env  # noqa: F401  (quiet TensorFlow logs; must precede the import below)
import tensorflow as tf  # noqa: E402

from ..errors import InvalidInputError  # noqa: E402
from .store import DatasetStore  # noqa: E402

__all__ = ["make_dataset", "make_training_dataset", "shard_indices", "worker_pipeline",
           "worker_count",
           "PREFETCH_BATCHES",
           "PARALLEL_READS"]

#: batches read ahead of the training step. Not AUTOTUNE: tf.data's autotuner grows the prefetch
#: buffer towards half the RAM when the consumer is slow, and training always is (measured: +20 MB
#: of float32 batches held per step, +520 MB after 30 steps of 128 at 96 px; bench row
#: train_peak_rss). Reading a batch from the memmap takes ~10 ms against ~2 s for a training step
#: on two cores, so two batches ahead keep the step fed.
PREFETCH_BATCHES = 2
#: batches read in parallel (each read is one sorted gather from the memmap)
PARALLEL_READS = 2


def make_dataset(store: DatasetStore, indices: Sequence[int] | np.ndarray, batch_size: int = 128,
                 shuffle: bool = True, seed: int = 0, drop_remainder: bool = False,
                 repeat: bool = False) -> tf.data.Dataset:
    """Batches of images from ``store`` as float32 in [0, 1].

    Parameters
    ----------
    store : DatasetStore with images uint8 (n, size, size, 3)
    indices : 1-D ints in [0, n)
        The images to serve (e.g. ``store.split()[0]``); in this order when ``shuffle`` is False.
    batch_size : images per batch
    shuffle : bool
        A fresh permutation of ``indices`` every epoch (every iteration over the dataset),
        reproducible from ``seed``.
    seed : int
    drop_remainder : bool
        Drop the last, smaller batch of each epoch (the batch dimension becomes static).
    repeat : bool
        Repeat epochs forever (use ``steps_per_epoch`` in ``fit``); batches never straddle epochs.

    Returns
    -------
    tf.data.Dataset
        Elements float32 tensors of shape (b, size, size, 3), b = ``batch_size`` except possibly the
        last batch of an epoch.

    Raises
    ------
    InvalidInputError
        Empty or out-of-range ``indices``, ``batch_size`` < 1, or no full batch with ``drop_remainder``.
    """
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.size == 0:
        raise InvalidInputError(f"indices: expected a non-empty 1-D array, got shape {idx.shape}")
    if not np.issubdtype(idx.dtype, np.integer):
        raise InvalidInputError(f"indices: expected integers, got dtype {idx.dtype}")
    idx = idx.astype(np.int64)
    if idx.min() < 0 or idx.max() >= store.n:
        raise InvalidInputError(
            f"indices: values {idx.min()}..{idx.max()} outside 0..{store.n - 1} of {store.path}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InvalidInputError(f"batch_size={batch_size!r}: expected a positive integer")
    if drop_remainder and idx.size < batch_size:
        raise InvalidInputError(
            f"batch_size={batch_size} with drop_remainder: only {idx.size} images, not one full batch")

    size = store.size
    ds = tf.data.Dataset.from_tensor_slices(idx)
    if shuffle:
        # A buffer as large as the index list gives a uniform permutation; it holds int64 indices
        # only (1.4 MB for CelebA).
        ds = ds.shuffle(idx.size, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def read(batch_idx: tf.Tensor) -> tf.Tensor:
        images = tf.numpy_function(store.batch, [batch_idx], tf.uint8, stateful=False)
        # numpy_function loses the shape; Keras needs the static image shape to build the model.
        images.set_shape((batch_size if drop_remainder else None, size, size, 3))
        return tf.cast(images, tf.float32) / 255.0

    # deterministic: parallel reads must not reorder batches (unshuffled order is a promise)
    ds = ds.map(read, num_parallel_calls=PARALLEL_READS, deterministic=True)
    if repeat:
        ds = ds.repeat()
    return ds.prefetch(PREFETCH_BATCHES)


def shard_indices(indices: np.ndarray, n_shards: int, shard: int) -> np.ndarray:
    """Shard ``shard`` of ``n_shards`` equal shards of ``indices`` (every n-th index).

    Equal sizes (the last ``len % n_shards`` indices are left out) give every worker the same
    number of steps per epoch: synchronous all-reduce would wait forever for a worker with one
    batch fewer.
    """
    idx = np.asarray(indices)
    if not 0 <= shard < n_shards:
        raise InvalidInputError(f"shard {shard}: expected 0..{n_shards - 1}")
    per = idx.size // n_shards
    if per == 0:
        raise InvalidInputError(f"{idx.size} image(s) cannot be shared by {n_shards} workers")
    return idx[shard::n_shards][:per]


def make_training_dataset(store: DatasetStore, indices, batch_size: int, *, shuffle: bool,
                          seed: int, strategy=None):
    """Batches of ``batch_size`` images in all for one step of ``strategy``'s replicas together.

    With several workers (``tf.distribute.MultiWorkerMirroredStrategy``) each worker's input
    pipeline reads only its own shard of ``indices`` from the store (:func:`shard_indices`) in
    batches of its share of the global batch — ``tf.data``'s automatic sharding would have every
    worker read every image and drop the ones that are not its own. With one worker (no strategy,
    MirroredStrategy on local devices) it is :func:`make_dataset`; ``fit`` splits the batches.
    """
    workers = worker_count(strategy)
    if workers <= 1:
        return make_dataset(store, indices, batch_size, shuffle=shuffle, seed=seed)
    if batch_size % workers:
        raise InvalidInputError(f"batch_size={batch_size}: expected a multiple of the {workers} "
                                "workers (each takes an equal share of every batch)")
    return strategy.distribute_datasets_from_function(
        worker_pipeline(store, indices, batch_size, shuffle=shuffle, seed=seed))


def worker_pipeline(store: DatasetStore, indices, batch_size: int, *, shuffle: bool, seed: int):
    """``fn(input_context) -> Dataset`` of one worker: its shard, its share of each batch."""
    def pipeline(ctx: tf.distribute.InputContext) -> tf.data.Dataset:
        own = shard_indices(indices, ctx.num_input_pipelines, ctx.input_pipeline_id)
        per_worker = max(1, batch_size // ctx.num_input_pipelines)
        return make_dataset(store, own, per_worker, shuffle=shuffle, seed=seed)
    return pipeline


def worker_count(strategy) -> int:
    """Number of worker processes training together under ``strategy`` (1 without one)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    spec = resolver.cluster_spec()
    jobs = spec.jobs if spec else []
    return max(1, sum(spec.num_tasks(job) for job in jobs if job in ("chief", "worker")))
