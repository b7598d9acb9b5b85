"""``latentexplorer quickstart DIR``: the whole job on the embedded synthetic faces, headless.

synthetic faces -> train an AE -> encode -> analyse -> before/after reconstruction grid ->
sample grids (uniform vs ellipse). Everything lands in DIR so the GUI can open DIR/workspace.

A rerun continues what is there: the dataset is reused when it has the asked-for size, count and
seed (else it is made again, unless a trained workspace depends on it), training resumes at the last
committed epoch, and the latents are encoded again only when they are missing or stale.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..errors import InvalidInputError
from ..inputs import printable
from ..progress import TerminalProgress
from . import _args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quickstart", help="synthetic faces -> train -> encode -> analyse -> grids (headless)",
                       description=__doc__)
    p.add_argument("out", type=Path, help="folder for the dataset, workspace and results (created)")
    p.add_argument("-n", type=_args.integer(20, 10_000_000), default=5000,
                   help="number of synthetic faces (default 5000)")
    p.add_argument("--size", type=_args.integer(16, 2048), default=96,
                   help="image size in pixels, a multiple of 16 (default 96)")
    p.add_argument("--epochs", type=_args.epochs, default=3, help="training epochs (default 3)")
    p.add_argument("--model", choices=["ae", "vae"], default="ae")
    p.add_argument("--z-dim", type=_args.z_dim, default=256)
    p.add_argument("--seed", type=_args.seed, default=0)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..schemas import ModelConfig
    from ..workspace import Workspace
    from ..workspace.training import check_memory, train

    out: Path = args.out
    # every argument is checked before anything is written
    cfg = ModelConfig.from_preset("case1", kind=args.model, z_dim=args.z_dim, image_size=args.size)
    check_memory(cfg, 128)
    t0 = time.monotonic()
    data_dir, ws_dir = out / "faces", out / "workspace"
    trained = _trained_workspace(ws_dir)
    if trained is not None and trained.model_config != cfg:
        raise InvalidInputError(f"{printable(ws_dir)}: trained with other settings (z_dim "
                                f"{trained.model_config.z_dim}, {trained.model_config.kind}, "
                                f"{trained.model_config.image_size} px); use another folder")
    store = _dataset(data_dir, args, keep=trained is not None)

    if trained is not None:
        ws = trained
    else:  # also replaces the config a failed first run left behind
        ws = Workspace.create(ws_dir, data_dir, cfg, training={"seed": args.seed})
    if ws.checkpoint_epoch < args.epochs:
        history = train(ws, args.epochs, resume=True, progress=TerminalProgress("train "), verbose=True)
        if history:
            last = history[-1]
            print(f"trained to epoch {last['epoch']}: total loss {last['total_loss']:.1f} per image")

    if not ws.has_latents or ws.latents_stale:
        ws.encode(progress=TerminalProgress("encode"))
    lat = ws.latents()
    print(f"latents: {lat.z.shape} -> {ws.path / 'latents'}")

    _write_reconstructions(ws, store, out / "reconstructions.png")
    _analyse_and_sample(ws, lat.z, out)
    print(f"done in {time.monotonic() - t0:.0f} s. Open the explorer with:  latentexplorer gui {ws_dir}")
    return 0


def _trained_workspace(ws_dir: Path):
    """The workspace at ``ws_dir`` if it has a committed epoch, else None."""
    from ..workspace import Workspace

    if not (ws_dir / "config.json").exists():
        return None
    ws = Workspace.open(ws_dir)
    return ws if ws.checkpoint_epoch > 0 else None


def _dataset(data_dir: Path, args: argparse.Namespace, *, keep: bool):
    """The synthetic dataset of these arguments: reused if it matches, else (re)made."""
    from ..data.store import DatasetStore
    from ..data.synth import write_synthetic_store

    if (data_dir / "meta.json").exists():
        store = DatasetStore.open(data_dir)
        same = (store.n, store.size, store.meta.get("seed"), store.meta.get("source")) == \
            (args.n, args.size, args.seed, "synthetic")
        if same or keep:
            if not same:
                print(f"note: keeping {printable(data_dir)} ({store.n} images, {store.size} px): the "
                      "trained workspace uses it")
            print(f"using existing dataset {printable(data_dir)} ({store.n} images)")
            return store
        if store.meta.get("source") != "synthetic":
            raise InvalidInputError(f"{printable(data_dir)}: holds another dataset; use another folder")
    store = write_synthetic_store(data_dir, n=args.n, size=args.size, seed=args.seed,
                                  progress=TerminalProgress("synth "), overwrite=True)
    print(f"dataset: {store.n} synthetic faces {args.size}x{args.size} -> {printable(data_dir)}")
    return store


def _write_reconstructions(ws, store, path: Path) -> None:
    """Top row: inputs of the test split; bottom row: their reconstructions."""
    import numpy as np

    from ..fileio import atomic_path
    from ..models.codec import Decoder, Encoder
    from ..render.images import make_grid

    _, test_idx = store.split()
    idx = (test_idx if len(test_idx) >= 8 else np.arange(store.n))[:8]
    originals = store.batch(idx)
    snap = ws.snapshot()
    z = Encoder(ws.load_encoder(snap)).encode(originals)
    recon = Decoder(ws.load_decoder(snap)).decode(z)
    with atomic_path(path) as tmp:
        make_grid(np.concatenate([originals, recon]), rows=2, cols=len(idx)).save(tmp, format="PNG")
    print(f"reconstructions (top: input, bottom: output) -> {printable(path)}")


def _analyse_and_sample(ws, z, out: Path) -> None:
    from ..reports import write_analysis

    summary = write_analysis(ws, out / "analysis")
    r = summary["radius"]
    print(f"analysis -> {out / 'analysis'}: radius peak {r['peak']:.2f}, "
          f"{len(summary['dominant'])} dominant components")
    from ..explore.generate import GenerationContext, GeneratorSpec
    from .sample import sample_to_grid

    ctx = GenerationContext.from_workspace(ws, warn=_args.warn)  # decoder and scorer loaded once
    for method, params in (("uniform", {"b": 1.5}), ("normal", {"sigma": 1.0}),
                           ("ellipse", {"sigma_level": 2.35, "fact": 0.7})):
        spec = GeneratorSpec.of(method, 28, 0, z_dim=z.shape[1], **params)
        res = sample_to_grid(ctx, spec, out=out / f"samples_{method}.png")
        print(f"samples {method:8s} -> {printable(out / f'samples_{method}.png')}  {res}")
