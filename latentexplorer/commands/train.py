"""``latentexplorer train --data DIR --workspace WS``: train an AE / VAE, one committed epoch at a time.

A new WS is created; an existing one needs ``--resume`` (it then continues at the next epoch with
the saved model, config and loss history; architecture options are ignored). A workspace without any
committed epoch (a first run that failed) is simply started again. Ctrl-C, SIGTERM and SIGHUP keep the
last committed epoch (exit 130, 143, 129).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..schemas import ACTIVATIONS, PRESETS
from ..models.precision import CHOICES
from . import _args


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train an autoencoder / VAE on a dataset store (checkpoint every epoch)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", metavar="DIR", help="dataset store (from 'synth' or 'prepare'); "
                   "needed for a new workspace")
    p.add_argument("--workspace", metavar="WS", required=True, help="workspace folder (created if new)")
    p.add_argument("--model", choices=["ae", "vae"], default="ae", help="default: %(default)s")
    p.add_argument("--preset", choices=sorted(PRESETS), default="case1", help="default: %(default)s")
    p.add_argument("--z-dim", type=_args.z_dim, default=256, help="latent dimension (default: %(default)s)")
    p.add_argument("--epochs", type=_args.epochs, default=None,
                   help="total epochs to reach (default: 24, or the workspace's value with --resume)")
    p.add_argument("--fact", type=_args.nonnegative, default=5.0,
                   help="VAE weight of the KL term (default: %(default)s)")
    p.add_argument("--loss", choices=["bce", "mse"], default="bce", help="default: %(default)s")
    p.add_argument("--batch-size", type=_args.batch_size, default=None,
                   help="default: 128 (or the workspace's)")
    p.add_argument("--lr", type=_args.number(0.0, 10.0, lo_open=True), default=None,
                   help="Adam learning rate (default: 5e-4 or the workspace's)")
    p.add_argument("--activation", choices=ACTIVATIONS, default="leaky_relu", help="default: %(default)s")
    p.add_argument("--batchnorm", action="store_true", help="BatchNormalization after each convolution")
    p.add_argument("--dropout", type=_args.number(0.0, 1.0, hi_open=True), default=0.0,
                   help="dropout rate (default: %(default)s)")
    p.add_argument("--upsampling", action="store_true",
                   help="decoder: UpSampling2D + Conv2D instead of Conv2DTranspose")
    p.add_argument("--seed", type=_args.seed, default=None, help="random seed (default: 0 or the workspace's)")
    p.add_argument("--resume", action="store_true", help="continue an existing workspace")
    p.add_argument("--precision", choices=CHOICES, default=None,
                   help="arithmetic of training: float32, or mixed precision with bfloat16 / float16 "
                        "(weights, latents and losses stay float32); auto: bfloat16 on CPUs with "
                        "AVX512_BF16 or AMX and on recent GPUs, float16 on older GPUs, else float32 "
                        "(default: the workspace's, float32 for a new one)")
    p.add_argument("--xla", action=argparse.BooleanOptionalAction, default=None,
                   help="compile the train step with XLA (default: the workspace's, off for a new one)")
    p.add_argument("--strategy", choices=["default", "mirrored", "multiworker"], default="default",
                   help="tf.distribute strategy: mirrored = every local GPU (or CPU), multiworker = "
                        "several machines described by TF_CONFIG (see the README)")
    p.add_argument("--no-timelapse", dest="timelapse", action="store_false",
                   help="do not record the probe subset's latents after each epoch (WS/timelapse)")
    p.add_argument("--tensorboard", metavar="DIR", type=Path,
                   help="also write TensorBoard logs (the losses of every epoch and validation "
                        "pass, Keras' TensorBoard callback) into DIR; view with 'tensorboard "
                        "--logdir DIR'")
    _args.add_wait(p)
    p.set_defaults(handler=run)


def _open_or_create(args: argparse.Namespace):
    from ..errors import InvalidInputError
    from ..inputs import printable
    from ..schemas import ModelConfig
    from ..workspace import Workspace

    ws_dir = Path(args.workspace)
    exists = (ws_dir / "config.json").exists()
    if exists:
        ws = Workspace.open(ws_dir)
        trained = ws.checkpoint_epoch > 0
        if trained and not args.resume:
            raise InvalidInputError(f"{printable(ws_dir)}: workspace exists with {ws.checkpoint_epoch} "
                                    "epoch(s); continue it with --resume or use another folder")
        if trained or args.data is None:
            if args.data and Path(args.data).resolve() != ws.data_path:
                raise InvalidInputError(f"--data {printable(args.data)}: the workspace trains on "
                                        f"{printable(ws.data_path)}; leave --data out when resuming")
            changes = {k: v for k, v in (("lr", args.lr), ("seed", args.seed),
                                         ("precision", _precision(args)), ("jit_compile", args.xla))
                       if v is not None}
            if changes:
                with ws.lock(_args.wait_seconds(args)):
                    ws.update_training(**changes)
            return ws
        # no committed epoch: a failed first run left only its config; start again with these args
    if args.data is None:
        raise InvalidInputError(f"{printable(ws_dir)}: a new workspace needs --data DIR (a dataset store)")
    from ..data.store import DatasetStore

    store = DatasetStore.open(args.data)
    cfg = ModelConfig.from_preset(
        args.preset, kind=args.model, image_size=store.size, z_dim=args.z_dim, fact=args.fact,
        loss=args.loss, activation=args.activation, batchnorm=args.batchnorm, dropout=args.dropout,
        upsampling=args.upsampling)
    training = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                  ("lr", args.lr), ("seed", args.seed),
                                  ("precision", _precision(args)), ("jit_compile", args.xla))
                if v is not None}
    from ..workspace.training import check_memory

    check_memory(cfg, training.get("batch_size", 128))  # before anything is written
    return Workspace.create(ws_dir, args.data, cfg, training=training)


def _precision(args: argparse.Namespace) -> str | None:
    from ..models.precision import resolve_precision

    return None if args.precision is None else resolve_precision(args.precision)


def _strategy(name: str):
    """The tf.distribute strategy named on the command line (None: TensorFlow's default)."""
    if name == "default":
        return None
    import os

    from .. import _env  # noqa: F401
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if not os.environ.get("TF_CONFIG"):
        from ..errors import InvalidInputError

        raise InvalidInputError("--strategy multiworker: TF_CONFIG is not set (it lists the workers "
                                "and this one's index; see the README, 'Several machines')")
    return tf.distribute.MultiWorkerMirroredStrategy()


def _describe_workers(strategy, ws) -> None:
    """One line per worker of a multi-worker run: which one it is and what it reads."""
    from ..data.tfdata import worker_count

    workers = worker_count(strategy)
    if workers > 1:
        resolver = strategy.cluster_resolver
        train_idx, _ = ws.dataset().split()
        print(f"train: {resolver.task_type} {resolver.task_id} of {workers} workers; reads its "
              f"shard of {len(train_idx) // workers} of the {len(train_idx)} training images",
              flush=True)


def run(args: argparse.Namespace) -> int:
    from ..inputs import printable
    from ..progress import TerminalProgress
    from ..workspace.training import train

    if args.tensorboard is not None:  # checked before a workspace is created
        from ..outputs import check_output

        check_output(args.tensorboard, kind="folder", option="--tensorboard")
    ws = _open_or_create(args)
    cfg = ws.model_config
    start = ws.checkpoint_epoch
    epochs = args.epochs or ws.training["epochs"]
    xla = ", XLA" if ws.training["jit_compile"] else ""
    print(f"train: {cfg.kind.upper()} {cfg.preset} z_dim {cfg.z_dim} {cfg.image_size}px, loss {cfg.loss}"
          f"{f', fact {cfg.fact:g}' if cfg.kind == 'vae' else ''}; {ws.training['precision']}{xla}; "
          f"{ws.dataset().n} images; "
          f"epochs {start + 1}..{epochs} -> {printable(ws.path)}", flush=True)
    if start >= epochs:
        print(f"train: already at epoch {start} of {epochs}; pass a larger --epochs to continue")
        return 0
    strategy = _strategy(args.strategy)
    _describe_workers(strategy, ws)
    progress = TerminalProgress("train")
    try:
        # reset: each epoch's bar shows its own elapsed time and ETA
        history = train(ws, epochs, resume=args.resume, batch_size=args.batch_size, progress=progress,
                        strategy=strategy,
                        on_epoch_end=lambda row: progress.reset("train"), verbose=True,
                        wait=_args.wait_seconds(args),
                        tensorboard=args.tensorboard, timelapse=args.timelapse)
    except KeyboardInterrupt as exc:
        done = ws.checkpoint_epoch
        exc.add_note(f"checkpoint of epoch {done} kept; continue with --resume" if done else
                     "no epoch completed, nothing saved")
        raise
    last = history[-1] if history else None
    if last is not None:
        print(f"train: done, epoch {last['epoch']}, total loss {last['total_loss']:.1f} per image; "
              f"model in {printable(ws.model_dir)}")
    return 0
