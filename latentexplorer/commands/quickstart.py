"""``latentexplorer quickstart DIR``: the whole job on the embedded synthetic faces, headless.

synthetic faces -> train an AE -> encode -> analyse -> before/after reconstruction grid ->
sample grids (uniform vs ellipse). Everything lands in DIR so the GUI can open DIR/workspace.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..progress import TerminalProgress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quickstart", help="synthetic faces -> train -> encode -> analyse -> grids (headless)",
                       description=__doc__)
    p.add_argument("out", type=Path, help="folder for the dataset, workspace and results (created)")
    p.add_argument("-n", type=int, default=5000, help="number of synthetic faces (default 5000)")
    p.add_argument("--size", type=int, default=96, help="image size in pixels (default 96)")
    p.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    p.add_argument("--model", choices=["ae", "vae"], default="ae")
    p.add_argument("--z-dim", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..data.store import DatasetStore
    from ..data.synth import write_synthetic_store
    from ..models.config import ModelConfig
    from ..models.training import train
    from ..workspace import Workspace

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    data_dir = out / "faces"
    if (data_dir / "meta.json").is_file():
        store = DatasetStore.open(data_dir)
        print(f"using existing dataset {data_dir} ({store.n} images)")
    else:
        store = write_synthetic_store(data_dir, n=args.n, size=args.size, seed=args.seed,
                                      progress=TerminalProgress("synth "))
        print(f"dataset: {store.n} synthetic faces {args.size}x{args.size} -> {data_dir}")

    ws_dir = out / "workspace"
    if (ws_dir / "config.json").is_file():
        ws = Workspace.open(ws_dir)
        resume = True
    else:
        cfg = ModelConfig.from_preset("case1", kind=args.model, z_dim=args.z_dim, image_size=store.size)
        ws = Workspace.create(ws_dir, data_dir, cfg, training={"seed": args.seed})
        resume = False
    if ws.checkpoint_epoch < args.epochs:
        history = train(ws, args.epochs, resume=resume, progress=TerminalProgress("train "), verbose=True)
        if history:
            last = history[-1]
            print(f"trained to epoch {last['epoch']}: total loss {last['total_loss']:.1f} per image")

    ws.encode(progress=TerminalProgress("encode"))
    lat = ws.latents()
    print(f"latents: {lat.z.shape} -> {ws.path / 'latents'}")

    _write_reconstructions(ws, store, out / "reconstructions.png")
    _analyse_and_sample(ws, lat.z, out)
    print(f"done in {time.monotonic() - t0:.0f} s. Open the explorer with:  latentexplorer gui {ws_dir}")
    return 0


def _write_reconstructions(ws, store, path: Path) -> None:
    """Top row: inputs of the test split; bottom row: their reconstructions."""
    import numpy as np

    from ..render.decode import Decoder, Encoder
    from ..render.images import make_grid

    _, test_idx = store.split()
    idx = (test_idx if len(test_idx) >= 8 else np.arange(store.n))[:8]
    originals = store.batch(idx)
    z = Encoder(ws.load_encoder()).encode(originals)
    recon = Decoder(ws.load_decoder()).decode(z)
    make_grid(np.concatenate([originals, recon]), rows=2, cols=len(idx)).save(path)
    print(f"reconstructions (top: input, bottom: output) -> {path}")


def _analyse_and_sample(ws, z, out: Path) -> None:
    from ..analysis.report import write_analysis

    summary = write_analysis(ws, out / "analysis")
    r = summary["radius"]
    print(f"analysis -> {out / 'analysis'}: radius peak {r['peak']:.2f}, "
          f"{len(summary['dominant'])} dominant components")
    from .sample import sample_to_grid

    for method, params in (("uniform", {"b": 1.5}), ("normal", {"sigma": 1.0}),
                           ("ellipse", {"n_comp": min(100, z.shape[1]), "sigma_level": 2.35, "fact": 0.7})):
        res = sample_to_grid(ws, method, params, n=28, seed=0, out=out / f"samples_{method}.png")
        print(f"samples {method:8s} -> {out / f'samples_{method}.png'}  {res}")
