"""Training a workspace: lock, check, build or resume the model, commit every epoch.

The loop itself is :func:`latentexplorer.models.training.fit_epochs`; this floor adds what belongs
to the workspace: its writer lock for the whole run, the store check against the last epoch, the
memory check before a model is built, :meth:`Workspace.commit_epoch` after every epoch, and
after each commit the epoch's time-lapse frame (:mod:`latentexplorer.workspace.timelapse`).
"""

from __future__ import annotations

import sys
from typing import Callable

from .. import signals
from ..errors import InvalidInputError, WriteFailedError
from ..inputs import printable
from ..progress import ProgressReporter
from . import Workspace
from .staleness import describe_store_change
from .timelapse import TimelapseRecorder

#: bytes per weight while training: the weights, their gradients, Adam's m and v, and one more
#: copy while the initializers run or the model is saved (float32 each)
BYTES_PER_WEIGHT = 20
#: the share of the free memory training may plan to use (the rest: TensorFlow, the input pipeline)
MEMORY_SHARE = 0.8


def check_memory(cfg, batch_size: int, available: int | None = None) -> None:
    """Refuse a configuration whose weights and activations cannot fit into the free memory."""
    import psutil

    available = psutil.virtual_memory().available if available is None else available
    weights = cfg.parameter_count() * BYTES_PER_WEIGHT
    side, activations = cfg.image_size, 0
    for f, s in zip(cfg.encoder_filters, cfg.encoder_strides):
        side = max(1, side // s)
        activations += side * side * f
    activations = 2 * 2 * activations * 4 * batch_size  # encoder + mirrored decoder, fwd + grad
    need = weights + activations
    if need > MEMORY_SHARE * available:
        raise InvalidInputError(
            f"z_dim={cfg.z_dim}, image_size={cfg.image_size}, batch_size={batch_size}: training "
            f"needs about {need / 2**30:,.1f} GiB of memory ({cfg.parameter_count():,} weights), "
            f"{available / 2**30:,.1f} GiB are free; choose a smaller z_dim or batch size")


def train(workspace, epochs: int | None = None, *, resume: bool = False, batch_size: int | None = None,
          progress: ProgressReporter | None = None, strategy=None,
          on_epoch_end: Callable[[dict], None] | None = None, verbose: bool = False,
          seed: int | None = None, wait: float | None = 0.0, tensorboard=None,
          timelapse: bool = True) -> list[dict]:
    """Train the workspace's model up to ``epochs`` (a total count, not additional epochs).

    Parameters
    ----------
    workspace : Workspace or path
    epochs : int, optional
        Target number of completed epochs (default: the workspace's; a new value is saved).
    resume : bool
        Continue from the last committed epoch. Without it a workspace that has one is an error.
    batch_size : int, optional
        Overrides (and updates) the workspace's batch size.
    progress : ProgressReporter, optional
        Batch progress; cancelling stops after the current batch and raises ``Cancelled``.
    strategy : tf.distribute.Strategy, optional
        Model and optimizer are built/loaded under ``strategy.scope()``.
    on_epoch_end : callable(row), optional
        Called after each epoch's commit with its history row.
    verbose : bool
        Print the epoch summary after each epoch.
    seed : int, optional
        Overrides the workspace's seed.
    wait : float or None
        Seconds to wait for another writer of the workspace (None: as long as it takes).
    tensorboard : path, optional
        Also write Keras TensorBoard logs into this folder
        (:func:`latentexplorer.models.training.tensorboard_callback`).
    timelapse : bool
        After each commit, encode the probe subset with the new weights into ``WS/timelapse``
        (best effort: a frame that cannot be written is a warning on stderr, the epoch stays).

    Returns
    -------
    list of dict
        The full history (one row per epoch, earlier runs included).
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    # stop signals are acted on between batches, never inside TensorFlow (signals.polling)
    with ws.lock(wait), signals.polling():
        ws = Workspace.open(ws.path)  # the config another writer may have changed meanwhile
        return _train_locked(ws, epochs, resume=resume, batch_size=batch_size, progress=progress,
                             strategy=strategy, on_epoch_end=on_epoch_end, verbose=verbose, seed=seed,
                             tensorboard=tensorboard, timelapse=timelapse)


def _train_locked(ws: Workspace, epochs, *, resume, batch_size, progress, strategy, on_epoch_end,
                  verbose, seed, tensorboard=None, timelapse=True) -> list[dict]:
    from .. import _env  # noqa: F401

    import keras
    import tensorflow as tf

    from ..models.autoencoder import build_model
    from ..models.precision import dtype_policy
    from ..models.training import fit_epochs

    params = ws.training
    changes = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size)) if v is not None}
    if changes:
        ws.update_training(**changes)  # validated: a bad value fails here, before any work
        params = ws.training
    epochs, batch_size = params["epochs"], params["batch_size"]
    seed = params["seed"] if seed is None else seed
    ws.timelapse().clean_leftovers()  # of a run killed while it recorded (we hold the lock)
    cp = ws.checkpoint()
    done = 0 if cp is None else cp.epoch
    if done > 0 and not resume:
        raise InvalidInputError(f"{printable(ws.path)}: already trained {done} epoch(s); resume it "
                                "or use another folder")
    store = ws.dataset()
    if store.size != ws.model_config.image_size:
        raise InvalidInputError(f"{printable(store.path)}: images are {store.size}x{store.size} px, "
                                f"the model of {printable(ws.path)} takes {ws.model_config.image_size} "
                                "px (re-import the store at that size or start a new workspace)")
    fingerprint = store.fingerprint()
    if cp is not None and cp.store is not None:
        change = describe_store_change(cp.store, fingerprint)
        if change:
            print(f"warning: {printable(store.path)}: since epoch {done}, {change}; training "
                  "continues on the current images", file=sys.stderr)
    train_idx, test_idx = store.split()
    if len(train_idx) == 0:
        raise InvalidInputError(f"{printable(store.path)}: no training images after the train/test split")
    history = ws.history()
    if done >= epochs:
        return history
    check_memory(ws.model_config, batch_size)
    if seed is not None:
        keras.utils.set_random_seed(int(seed) + done)  # offset by the epoch: a resumed run is reproducible
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope(), dtype_policy(params["precision"]):
        if done > 0:
            model = ws.load_model()
            # the optimizer was saved with the old rate; a changed --lr (e.g. after a NaN) must win
            model.optimizer.learning_rate = params["lr"]
            # rebuilt from its config under the current policy (the weights are float32): the
            # precision may change between runs
            model.jit_compile = bool(params["jit_compile"])
        else:
            model = build_model(ws.model_config, learning_rate=params["lr"],
                                jit_compile=params["jit_compile"])

    # a separate step after each commit, not part of it: the commit stays one rename of
    # checkpoint.json, and a frame that fails costs a warning, never the committed epoch
    recorder = TimelapseRecorder(ws.timelapse(), store) if timelapse else None

    def commit(model, row: dict) -> None:
        try:
            pointer = ws.commit_epoch(model, history + [row], fingerprint)
        except WriteFailedError as exc:
            exc.add_note(f"epoch {row['epoch']} not saved, {kept()}")
            raise
        history.append(row)
        if recorder is not None:
            recorder.record(model, pointer.epoch, pointer.fingerprint)

    def kept() -> str:
        n = ws.checkpoint_epoch
        return f"checkpoint of epoch {n} kept in {printable(ws.path)}" if n else \
            "no epoch completed, nothing saved"

    fit_epochs(model, store, train_idx, test_idx, start=done, epochs=epochs, batch_size=batch_size,
               seed=seed, commit=commit, progress=progress, on_epoch_end=on_epoch_end,
               verbose=verbose, kept=kept, tensorboard=tensorboard)
    return history
