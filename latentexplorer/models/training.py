"""Training a workspace's model epoch by epoch, with a checkpoint after every epoch.

Each epoch is one ``model.fit(initial_epoch=e, epochs=e + 1)`` call on a freshly shuffled dataset
(seed derived from the run seed and the epoch, so a resumed run sees the same order), then a
validation pass on the test split, then the commit: model files → history.json → checkpoint.json.
``checkpoint.json`` is the commit marker; a crash before it leaves the previous epoch in charge and
the extra history row is dropped on resume. A cancelled, interrupted or diverged (NaN) epoch is
never saved.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from typing import Callable, Iterator

from .. import _env  # noqa: F401

import keras
import tensorflow as tf

from ..errors import Cancelled, InvalidInputError, LatentExplorerError, WriteFailedError
from ..progress import ProgressReporter
from .autoencoder import build_model
from .io import save_model

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
    """Reports batch progress, stops on cancel and on a NaN/inf loss.

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
        self.epoch = epoch + 1
        self.epoch_start = self.last_batch_end = time.perf_counter()

    @property
    def train_seconds(self) -> float:
        """Wall time from the epoch start to the end of its last batch (excludes fit's tear-down)."""
        return self.last_batch_end - self.epoch_start

    def on_train_batch_end(self, batch, logs=None):
        self.last_batch_end = time.perf_counter()
        logs = logs or {}
        loss = float(logs.get("total_loss", float("nan")))
        steps = self.steps or (self.params or {}).get("steps") or 0
        if not math.isfinite(loss):
            self.stop_reason = (f"total loss became {loss} in epoch {self.epoch}, batch {batch + 1}"
                                " (learning rate too high?)")
            self.model.stop_training = True
        if self.progress is not None:
            self.progress.update(batch + 1, steps, f"epoch {self.epoch}/{self.epochs} loss={loss:.1f}")
            if self.progress.cancelled:
                self.cancelled = True
                self.model.stop_training = True

    def on_test_batch_end(self, batch, logs=None):
        if self.progress is not None and self.val_steps:
            self.progress.update(batch + 1, self.val_steps, f"epoch {self.epoch}/{self.epochs} validation")


@contextlib.contextmanager
def _defer_sigint() -> Iterator[None]:
    """Hold back Ctrl-C while the checkpoint files are written, then re-raise it.

    Only the main thread can install signal handlers; elsewhere (GUI worker) this is a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


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


def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"{name}={value!r}: expected an integer >= {minimum}")
    return value


def train(workspace, epochs: int | None = None, *, resume: bool = False, batch_size: int | None = None,
          progress: ProgressReporter | None = None, strategy: tf.distribute.Strategy | None = None,
          on_epoch_end: Callable[[dict], None] | None = None, verbose: bool = False,
          seed: int | None = None) -> list[dict]:
    """Train the workspace's model up to ``epochs`` (a total count, not additional epochs).

    Parameters
    ----------
    workspace : Workspace or path
    epochs : int, optional
        Target number of completed epochs (default: the workspace's training parameter; a new value is
        saved in config.json).
    resume : bool
        Continue from the last checkpoint. Without it a workspace that already has one is an error.
    batch_size : int, optional
        Overrides (and updates) the workspace's batch size.
    progress : ProgressReporter, optional
        Batch progress; cancelling stops after the current batch and raises :class:`Cancelled`
        (the last completed epoch's checkpoint stays).
    strategy : tf.distribute.Strategy, optional
        Model and optimizer are built/loaded under ``strategy.scope()``; default: the current strategy.
    on_epoch_end : callable(row), optional
        Called after each epoch's checkpoint with its history row.
    verbose : bool
        Print :func:`format_epoch_summary` after each epoch.
    seed : int, optional
        Overrides the workspace's seed (``keras.utils.set_random_seed`` and data shuffling).

    Returns
    -------
    list of dict
        The full history (one row per epoch, earlier runs included).

    Raises
    ------
    TrainingDivergedError
        NaN/inf loss; the previous checkpoint is kept.
    Cancelled
        Cancelled through ``progress``.
    KeyboardInterrupt
        Ctrl-C; re-raised after the partial epoch has been dropped.
    """
    from ..data.tfdata import make_dataset
    from ..workspace import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    params = ws.training
    epochs = _check_int("epochs", params["epochs"] if epochs is None else epochs)
    batch_size = _check_int("batch_size", params["batch_size"] if batch_size is None else batch_size)
    seed = params["seed"] if seed is None else seed
    done = ws.checkpoint_epoch
    if done > 0 and not resume:
        raise InvalidInputError(f"{ws.path}: already trained {done} epoch(s); resume it or use another folder")
    if (epochs, batch_size) != (params["epochs"], params["batch_size"]):
        ws.update_training(epochs=epochs, batch_size=batch_size)

    store = ws.dataset()
    train_idx, test_idx = store.split()
    if len(train_idx) == 0:
        raise InvalidInputError(f"{store.path}: no training images after the train/test split")
    if seed is not None:
        # Offset by the epoch so a resumed run is reproducible too.
        keras.utils.set_random_seed(int(seed) + done)

    history = ws.history()
    ws.write_history(history)  # drops rows of an epoch whose checkpoint was never committed
    if done >= epochs:
        return history

    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        if done > 0:
            model = ws.load_model()
            # The optimizer was saved with the old rate; a changed --lr (e.g. after a NaN) must win.
            model.optimizer.learning_rate = params["lr"]
        else:
            model = build_model(ws.model_config, learning_rate=params["lr"])

    steps = math.ceil(len(train_idx) / batch_size)
    val_ds = make_dataset(store, test_idx, batch_size, shuffle=False) if len(test_idx) else None
    cb = TrainingCallback(progress, epochs=epochs, steps=steps,
                          val_steps=math.ceil(len(test_idx) / batch_size))

    def kept() -> str:
        return f"checkpoint of epoch {done} kept" if done else "no epoch completed, nothing saved"

    def diverged(epoch: int, reason: str) -> TrainingDivergedError:
        todo = "resume" if done else "train again"
        return TrainingDivergedError(
            f"{reason}; {kept()} in {ws.path} — lower the learning rate (now {params['lr']:g}) "
            f"and {todo}", epoch, done)

    for epoch in range(done, epochs):
        if progress is not None:
            progress.raise_if_cancelled()
        ds = make_dataset(store, train_idx, batch_size, shuffle=True, seed=epoch_seed(seed, epoch))
        t0 = time.perf_counter()
        # shuffle=False: the dataset is already shuffled per epoch (Keras would only warn).
        fit = model.fit(ds, initial_epoch=epoch, epochs=epoch + 1, callbacks=[cb], verbose=0,
                        shuffle=False)
        train_seconds = cb.train_seconds or (time.perf_counter() - t0)
        if cb.stop_reason:
            raise diverged(epoch + 1, cb.stop_reason)
        if cb.cancelled:
            raise Cancelled(f"training cancelled in epoch {epoch + 1}; {kept()}")
        row: dict = {"epoch": epoch + 1}
        row.update({k: float(fit.history[k][-1]) for k in LOSS_KEYS})
        if val_ds is not None:
            val = model.evaluate(val_ds, verbose=0, return_dict=True, callbacks=[cb])
            row.update({f"val_{k}": float(val[k]) for k in LOSS_KEYS})
        bad = [k for k, v in row.items() if k != "epoch" and not math.isfinite(v)]
        if bad:
            raise diverged(epoch + 1, f"{', '.join(bad)} not finite in epoch {epoch + 1}")
        row.update({"seconds": time.perf_counter() - t0, "train_seconds": train_seconds,
                    "images_per_second": len(train_idx) / train_seconds, "images": int(len(train_idx)),
                    "batch_size": batch_size, "time": time.strftime("%Y-%m-%dT%H:%M:%S")})
        with _defer_sigint():
            try:
                save_model(model, ws.model_dir)
                ws.write_history(history + [row])
                ws.write_checkpoint(epoch + 1)
            except WriteFailedError as exc:
                raise WriteFailedError(exc.errno, f"{exc}; epoch {epoch + 1} not saved, {kept()}") from exc
            history.append(row)
        done = epoch + 1
        if on_epoch_end is not None:
            on_epoch_end(row)
        if verbose:
            print(format_epoch_summary(row, epochs), flush=True)
    return history
