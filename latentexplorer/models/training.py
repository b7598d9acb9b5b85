"""Training epoch by epoch: each epoch ends in a commit callback (the workspace writes it).

Each epoch is one ``model.fit(initial_epoch=e, epochs=e + 1)`` call on a freshly shuffled dataset
(seed derived from the run seed and the epoch, so a resumed run sees the same order), then a
validation pass on the test split, then ``commit(model, row)``. A cancelled, interrupted or diverged
(NaN) epoch is never committed. Nothing here knows about workspaces: the workspace floor
(:func:`latentexplorer.workspace.training.train`) opens, locks and commits.
"""

from __future__ import annotations

import math
import time
from typing import Callable

from .. import _env  # noqa: F401

import keras
import numpy as np

from .. import signals
from ..errors import Cancelled, LatentExplorerError
from ..progress import ProgressReporter

LOSS_KEYS = ("total_loss", "reco_loss", "kl_loss")


class TrainingDivergedError(LatentExplorerError):
    """The loss became NaN/inf; the last good checkpoint was kept.

    Attributes
    ----------
    epoch : int
        The (1-based) epoch that diverged.
    checkpoint_epoch : int
        The epoch whose checkpoint is on disk.
    """

    def __init__(self, message: str, epoch: int, checkpoint_epoch: int) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.checkpoint_epoch = checkpoint_epoch


class TrainingCallback(keras.callbacks.Callback):
    """Reports batch progress, stops on cancel, on a NaN/inf loss and on a stop signal.

    A stop signal that arrived under :func:`latentexplorer.signals.polling` (the workspace trains
    under it) is raised here, between two batches — never inside TensorFlow's C++ — so the epoch
    in progress is not committed and the last committed one is kept.

    Parameters
    ----------
    progress : ProgressReporter, optional
        Receives ``update(batch, steps, "epoch 3/24 loss=...")``; when it is cancelled,
        ``model.stop_training`` is set so the epoch ends after the current batch.
    epochs : int
        Target epoch count (for the message).
    steps : int, optional
        Batches per epoch (Keras' own count is used when known).

    Attributes
    ----------
    cancelled : bool
    stop_reason : str or None
        Why training was stopped because of the loss (NaN/inf), else None.
    """

    def __init__(self, progress: ProgressReporter | None = None, *, epochs: int = 0,
                 steps: int | None = None, val_steps: int | None = None) -> None:
        super().__init__()
        self.progress = progress
        self.epochs = epochs
        self.steps = steps
        self.val_steps = val_steps
        self.epoch = 0
        self.epoch_start = self.last_batch_end = 0.0
        self.cancelled = False
        self.stop_reason: str | None = None

    def on_epoch_begin(self, epoch, logs=None):
        signals.raise_if_pending()
        self.epoch = epoch + 1
        self.epoch_start = self.last_batch_end = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        signals.raise_if_pending()

    def on_test_batch_begin(self, batch, logs=None):
        signals.raise_if_pending()

    @property
    def train_seconds(self) -> float:
        """Wall time from the epoch start to the end of its last batch (excludes fit's tear-down)."""
        return self.last_batch_end - self.epoch_start

    def on_train_batch_end(self, batch, logs=None):
        self.last_batch_end = time.perf_counter()
        signals.raise_if_pending()
        logs = logs or {}
        loss = float(logs.get("total_loss", float("nan")))
        steps = self.steps or (self.params or {}).get("steps") or 0
        if not math.isfinite(loss):
            self.stop_reason = (f"total loss became {loss} in epoch {self.epoch}, batch {batch + 1}"
                                " (learning rate too high?)")
            self.model.stop_training = True
        if self.progress is not None:
            metrics = {"epoch": self.epoch, "batch": batch + 1, "steps": steps,
                       **{k: float(logs[k]) for k in LOSS_KEYS if k in logs}}
            self.progress.update(batch + 1, steps, f"epoch {self.epoch}/{self.epochs} loss={loss:.1f}",
                                 metrics)
            if self.progress.cancelled:
                self.cancelled = True
                self.model.stop_training = True

    def on_test_batch_end(self, batch, logs=None):
        signals.raise_if_pending()
        if self.progress is not None and self.val_steps:
            self.progress.update(batch + 1, self.val_steps, f"epoch {self.epoch}/{self.epochs} validation")


class _EpochTensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback for a loop whose validation is a separate ``evaluate``: Keras
    closes its writers only in ``on_train_end``, so the validation writer is closed when each
    pass ends (its events are on disk at once, not when the process exits)."""

    def on_test_end(self, logs=None):
        super().on_test_end(logs)
        self._close_writers()


def tensorboard_callback(log_dir) -> keras.callbacks.TensorBoard:
    """Keras' own TensorBoard callback logging into ``log_dir``.

    ``log_dir/train`` gets ``epoch_total_loss``, ``epoch_reco_loss``, ``epoch_kl_loss`` and
    ``epoch_learning_rate`` at step = the 0-based epoch (a resumed run continues the curves);
    ``log_dir/validation`` gets ``evaluation_*_vs_iterations`` after each epoch's validation
    pass, at step = the optimizer's iteration count.

    Raises
    ------
    EnvironmentProblem
        The ``tensorboard`` package (which implements ``tf.summary``) is not installed; raised
        before any epoch runs.
    """
    import importlib.util
    import os

    from ..errors import EnvironmentProblem

    if importlib.util.find_spec("tensorboard") is None:
        raise EnvironmentProblem("--tensorboard: the 'tensorboard' package is not installed "
                                 "(pip install tensorboard; it implements tf.summary)")
    return _EpochTensorBoard(log_dir=os.fspath(log_dir), histogram_freq=0, write_graph=False,
                             update_freq="epoch")


def epoch_seed(seed: int | None, epoch: int) -> int:
    """Shuffle seed of 0-based ``epoch`` (depends only on the run seed and the epoch)."""
    return (seed or 0) * 1_000_003 + epoch


def format_epoch_summary(row: dict, epochs: int) -> str:
    """``epoch 3/24  total 4523.1  reco 4521.0  kl 0.0  val_total 4530.2  62.3 s (160 img/s)``."""
    parts = [f"epoch {row['epoch']}/{epochs}", f"total {row['total_loss']:.1f}",
             f"reco {row['reco_loss']:.1f}", f"kl {row['kl_loss']:.1f}"]
    if "val_total_loss" in row:
        parts.append(f"val_total {row['val_total_loss']:.1f}")
    parts.append(f"{row['seconds']:.1f} s ({row['images_per_second']:.0f} img/s)")
    return "  ".join(parts)


def fit_epochs(model, store, train_idx: np.ndarray, test_idx: np.ndarray, *, start: int, epochs: int,
               batch_size: int, seed: int | None, commit: Callable[[keras.Model, dict], None],
               progress: ProgressReporter | None = None,
               on_epoch_end: Callable[[dict], None] | None = None, verbose: bool = False,
               kept: Callable[[], str] = lambda: "", tensorboard=None) -> list[dict]:
    """Train ``model`` from epoch ``start`` (0-based count of epochs done) up to ``epochs``.

    Parameters
    ----------
    store : DatasetStore
        Batches are read from its uint8 memmap (``train_idx`` shuffled per epoch, ``test_idx`` for
        validation).
    commit : callable(model, row)
        Saves the finished epoch (its history row is passed); called before ``on_epoch_end``.
    kept : callable() -> str
        Describes what stays on disk, for the messages of a stopped or diverged run.
    tensorboard : path, optional
        Also log to this folder with Keras' TensorBoard callback (:func:`tensorboard_callback`).

    Returns
    -------
    list of dict
        The rows of the epochs trained here.

    Raises
    ------
    TrainingDivergedError
        NaN/inf loss (nothing of that epoch is committed).
    Cancelled
        Cancelled through ``progress``.
    """
    from ..data.tfdata import make_training_dataset

    strategy = model.distribute_strategy
    steps = math.ceil(len(train_idx) / batch_size)
    val_ds = make_training_dataset(store, test_idx, batch_size, shuffle=False, seed=0,
                                   strategy=strategy) if len(test_idx) else None
    cb = TrainingCallback(progress, epochs=epochs, steps=steps,
                          val_steps=math.ceil(len(test_idx) / batch_size))
    callbacks = [cb] if tensorboard is None else [cb, tensorboard_callback(tensorboard)]
    lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))

    def diverged(epoch: int, reason: str) -> TrainingDivergedError:
        return TrainingDivergedError(f"{reason}; {kept()} — lower the learning rate (now {lr:g}) and "
                                     "train again", epoch, start)

    rows: list[dict] = []
    for epoch in range(start, epochs):
        if progress is not None:
            progress.raise_if_cancelled()
        ds = make_training_dataset(store, train_idx, batch_size, shuffle=True,
                                   seed=epoch_seed(seed, epoch), strategy=strategy)
        t0 = time.perf_counter()
        # shuffle=False: the dataset is already shuffled per epoch (Keras would only warn).
        fit = model.fit(ds, initial_epoch=epoch, epochs=epoch + 1, callbacks=callbacks, verbose=0,
                        shuffle=False)
        train_seconds = cb.train_seconds or (time.perf_counter() - t0)
        if cb.stop_reason:
            raise diverged(epoch + 1, cb.stop_reason)
        if cb.cancelled:
            raise Cancelled(f"training cancelled in epoch {epoch + 1}; {kept()}")
        row: dict = {"epoch": epoch + 1}
        row.update({k: float(fit.history[k][-1]) for k in LOSS_KEYS})
        if val_ds is not None:
            val = model.evaluate(val_ds, verbose=0, return_dict=True, callbacks=callbacks)
            row.update({f"val_{k}": float(val[k]) for k in LOSS_KEYS})
        bad = [k for k, v in row.items() if k != "epoch" and not math.isfinite(v)]
        if bad:
            raise diverged(epoch + 1, f"{', '.join(bad)} not finite in epoch {epoch + 1}")
        row.update({"seconds": time.perf_counter() - t0, "train_seconds": train_seconds,
                    "images_per_second": len(train_idx) / train_seconds, "images": int(len(train_idx)),
                    "batch_size": batch_size, "time": time.strftime("%Y-%m-%dT%H:%M:%S")})
        commit(model, row)
        rows.append(row)
        if on_epoch_end is not None:
            on_epoch_end(row)
        if verbose:
            print(format_epoch_summary(row, epochs), flush=True)
    return rows
