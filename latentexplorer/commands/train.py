"""``latentexplorer train --data DIR --workspace WS``: train an AE / VAE, checkpoint every epoch.

A new WS is created; an existing one needs ``--resume`` (it then continues at the next epoch with
the saved model, config and loss history; architecture options are ignored). Ctrl-C keeps the last
completed epoch's checkpoint and exits with 130.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..models.config import ACTIVATIONS, PRESETS


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train an autoencoder / VAE on a dataset store (checkpoint every epoch)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", metavar="DIR", help="dataset store (from 'synth' or 'prepare'); "
                   "needed for a new workspace")
    p.add_argument("--workspace", metavar="WS", required=True, help="workspace folder (created if new)")
    p.add_argument("--model", choices=["ae", "vae"], default="ae", help="default: %(default)s")
    p.add_argument("--preset", choices=sorted(PRESETS), default="case1", help="default: %(default)s")
    p.add_argument("--z-dim", type=int, default=256, help="latent dimension (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=None,
                   help="total epochs to reach (default: 24, or the workspace's value with --resume)")
    p.add_argument("--fact", type=float, default=5.0, help="VAE weight of the KL term (default: %(default)s)")
    p.add_argument("--loss", choices=["bce", "mse"], default="bce", help="default: %(default)s")
    p.add_argument("--batch-size", type=int, default=None, help="default: 128 (or the workspace's)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: 5e-4 or the workspace's)")
    p.add_argument("--activation", choices=ACTIVATIONS, default="leaky_relu", help="default: %(default)s")
    p.add_argument("--batchnorm", action="store_true", help="BatchNormalization after each convolution")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout rate (default: %(default)s)")
    p.add_argument("--upsampling", action="store_true",
                   help="decoder: UpSampling2D + Conv2D instead of Conv2DTranspose")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: 0 or the workspace's)")
    p.add_argument("--resume", action="store_true", help="continue an existing workspace")
    p.set_defaults(handler=run)


def _open_or_create(args: argparse.Namespace):
    from ..errors import InvalidInputError
    from ..models.config import ModelConfig
    from ..workspace import Workspace

    ws_dir = Path(args.workspace)
    exists = (ws_dir / "config.json").is_file()
    if exists and not args.resume:
        raise InvalidInputError(f"{ws_dir}: workspace exists, use --resume or another folder")
    if exists:
        ws = Workspace.open(ws_dir)
        if args.data and Path(args.data).resolve() != ws.data_path:
            raise InvalidInputError(f"--data {args.data}: the workspace trains on {ws.data_path}; "
                                    "leave --data out when resuming")
        changes = {k: v for k, v in (("lr", args.lr), ("seed", args.seed)) if v is not None}
        if changes:
            ws.update_training(**changes)
        return ws
    if args.data is None:
        raise InvalidInputError(f"{ws_dir}: new workspace needs --data DIR (a dataset store)")
    from ..data.store import DatasetStore

    store = DatasetStore.open(args.data)
    cfg = ModelConfig.from_preset(
        args.preset, kind=args.model, image_size=store.size, z_dim=args.z_dim, fact=args.fact,
        loss=args.loss, activation=args.activation, batchnorm=args.batchnorm, dropout=args.dropout,
        upsampling=args.upsampling)
    training = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                  ("lr", args.lr), ("seed", args.seed)) if v is not None}
    return Workspace.create(ws_dir, args.data, cfg, training=training)


def run(args: argparse.Namespace) -> int:
    from ..errors import Cancelled
    from ..models.training import TrainingDivergedError, train
    from ..progress import TerminalProgress

    ws = _open_or_create(args)
    cfg = ws.model_config
    start = ws.checkpoint_epoch
    epochs = args.epochs or ws.training["epochs"]
    print(f"train: {cfg.kind.upper()} {cfg.preset} z_dim {cfg.z_dim} {cfg.image_size}px, loss {cfg.loss}"
          f"{f', fact {cfg.fact:g}' if cfg.kind == 'vae' else ''}; {ws.dataset().n} images; "
          f"epochs {start + 1}..{epochs} -> {ws.path}", flush=True)
    if start >= epochs:
        print(f"train: already at epoch {start} of {epochs}; pass a larger --epochs to continue")
        return 0
    progress = TerminalProgress("train")
    try:
        # reset: each epoch's bar shows its own elapsed time and ETA
        history = train(ws, epochs, resume=args.resume, batch_size=args.batch_size, progress=progress,
                        on_epoch_end=lambda row: progress.reset("train"), verbose=True)
    except (KeyboardInterrupt, Cancelled):
        done = ws.checkpoint_epoch
        print("\nstopped; " + (f"checkpoint of epoch {done} kept; resume with --resume" if done else
                               "no epoch completed, nothing saved"), file=sys.stderr)
        return 130
    except TrainingDivergedError:
        print(file=sys.stderr)  # end the progress bar's line before cli prints the error
        raise
    last = history[-1] if history else None
    if last is not None:
        print(f"train: done, epoch {last['epoch']}, total loss {last['total_loss']:.1f} per image; "
              f"model in {ws.model_dir}")
    return 0
