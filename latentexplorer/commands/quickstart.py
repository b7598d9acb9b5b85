"""``latentexplorer quickstart DIR``: the whole job on the embedded synthetic faces, headless.

synthetic faces -> train an AE -> encode -> analyse -> before/after reconstruction grid ->
sample grids (uniform vs ellipse). Everything lands in DIR so the GUI can open DIR/workspace.

A rerun continues what is there: the dataset is reused when it has the asked-for size, count and
seed (else it is made again, unless a trained workspace depends on it), training resumes at the last
committed epoch, and the latents are encoded again only when they are missing or stale. Every
argument is checked before any work (the ellipse grid's PCA needs more faces than components). A
run that finished writes DIR/quickstart.json; the workspace of a run that did not finish is
started again when the next run asks for other settings, that of a finished run never is.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..errors import InvalidInputError
from ..fileio import atomic_write_json
from ..inputs import printable
from ..progress import TerminalProgress
from ..schemas import QUICKSTART_FORMAT
from . import _args

#: written into DIR when a run has finished (its settings)
RECORD_FILE = "quickstart.json"


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
    _args.add_wait(p)
    p.set_defaults(handler=run)


def _ellipse_components(z_dim: int) -> int:
    """Components of the ellipse grid (the sample command's default)."""
    return min(100, z_dim)


def _check_arguments(args: argparse.Namespace) -> None:
    """What would fail late is refused now: k PCA components of n points need n > k (n points
    span at most n - 1 directions around their mean)."""
    k = _ellipse_components(args.z_dim)
    if args.n <= k:
        raise InvalidInputError(
            f"-n {args.n}: the ellipse grid keeps {k} PCA components of the {args.n} encoded faces, "
            f"which needs at least {k + 1} faces; pass -n {k + 1} or more, or a --z-dim below {args.n}")


def run(args: argparse.Namespace) -> int:
    from ..schemas import ModelConfig
    from ..workspace import Workspace
    from ..workspace.training import check_memory, train

    from ..outputs import check_output

    out: Path = check_output(args.out, kind="folder", option="quickstart DIR")
    wait = _args.wait_seconds(args)
    # every argument is checked before anything is written
    cfg = ModelConfig.from_preset("case1", kind=args.model, z_dim=args.z_dim, image_size=args.size)
    _check_arguments(args)
    check_memory(cfg, 128)
    t0 = time.monotonic()
    data_dir, ws_dir = out / "faces", out / "workspace"
    trained = _trained_workspace(ws_dir)
    if trained is not None and trained.model_config != cfg:
        _start_again_or_refuse(trained, out, wait)
        trained = None
    store = _dataset(data_dir, args, keep=trained is not None, wait=wait)

    if trained is not None:
        ws = trained
    else:  # also replaces the config a failed first run left behind
        ws = Workspace.create(ws_dir, data_dir, cfg, training={"seed": args.seed})
    if ws.checkpoint_epoch < args.epochs:
        history = train(ws, args.epochs, resume=True, progress=TerminalProgress("train "), verbose=True,
                        wait=wait)
        if history:
            last = history[-1]
            print(f"trained to epoch {last['epoch']}: total loss {last['total_loss']:.1f} per image")

    if not ws.has_latents or ws.latents_stale:
        ws.encode(progress=TerminalProgress("encode"), wait=wait)
    lat = ws.latents()
    print(f"latents: {lat.z.shape} -> {ws.path / 'latents'}")

    _write_reconstructions(ws, store, out / "reconstructions.png")
    _analyse_and_sample(ws, lat.z, out, wait)
    atomic_write_json(out / RECORD_FILE, {
        "format": QUICKSTART_FORMAT, "n": args.n, "size": args.size, "model": args.model,
        "z_dim": args.z_dim, "seed": args.seed, "epochs": args.epochs})
    print(f"done in {time.monotonic() - t0:.0f} s. Open the explorer with:  latentexplorer gui {ws_dir}")
    return 0


def _finished(out: Path, cfg) -> bool:
    """Did a quickstart run in ``out`` finish with the model settings ``cfg`` (DIR/quickstart.json)?"""
    from ..inputs import read_json
    from ..schemas import QuickstartRecord

    if not (out / RECORD_FILE).exists():
        return False
    rec = read_json(out / RECORD_FILE, QuickstartRecord)  # a damaged record is named, not guessed
    return (rec.model, rec.z_dim, rec.size) == (cfg.kind, cfg.z_dim, cfg.image_size)


def _start_again_or_refuse(trained, out: Path, wait: float | None) -> None:
    """``trained`` has other settings than this run: start again if it is the workspace of an
    earlier quickstart here that did not finish, else say exactly what to do."""
    import os
    import shutil

    from ..locks import workspace_lock

    have = trained.model_config
    settings = f"--model {have.kind} --z-dim {have.z_dim} --size {have.image_size}"
    own = trained.data_path == (out / "faces").resolve()
    if not own or _finished(out, have):
        raise InvalidInputError(
            f"{printable(trained.path)}: trained by an earlier run with other settings ({settings}); "
            f"rerun with those to continue it, or use another folder (or delete "
            f"{printable(trained.path)} to start again here)")
    print(f"note: {printable(trained.path)}: an earlier quickstart with other settings ({settings}) "
          "did not finish; starting again with these settings")
    # out of sight in one rename (under its lock: nobody trains or encodes it), then deleted
    aside = trained.path.with_name(f".{trained.path.name}.discarded-{os.getpid()}")
    with workspace_lock(trained.path).acquire(wait):
        os.replace(trained.path, aside)
    shutil.rmtree(aside, ignore_errors=True)


def _trained_workspace(ws_dir: Path):
    """The workspace at ``ws_dir`` if it has a committed epoch, else None."""
    from ..workspace import Workspace

    if not (ws_dir / "config.json").exists():
        return None
    ws = Workspace.open(ws_dir)
    return ws if ws.checkpoint_epoch > 0 else None


def _dataset(data_dir: Path, args: argparse.Namespace, *, keep: bool, wait: float | None = 0.0):
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
                                  progress=TerminalProgress("synth "), overwrite=True, wait=wait)
    print(f"dataset: {store.n} synthetic faces {args.size}x{args.size} -> {printable(data_dir)}")
    return store


def _write_reconstructions(ws, store, path: Path) -> None:
    """Originals of the test split above their reconstructions (with the detectors' verdicts)."""
    from ..explore.reconstruct import reconstruct, write_reconstruction_grid

    rec = reconstruct(ws, store=store, n=8, split="test")
    write_reconstruction_grid(rec, path, cols=8)
    rates = ", ".join(f"{name} {s['mtcnn']['rate']:.0%}" for name, s in rec.judge.items())
    print(f"reconstructions (top: input, bottom: output; MTCNN finds faces in {rates}) -> {printable(path)}")


def _analyse_and_sample(ws, z, out: Path, wait: float | None = 0.0) -> None:
    from ..reports import write_analysis

    summary = write_analysis(ws, out / "analysis", wait=wait)
    r = summary["radius"]
    print(f"analysis -> {out / 'analysis'}: radius peak {r['peak']:.2f}, "
          f"{len(summary['dominant'])} dominant components")
    from ..explore.generate import GenerationContext, GeneratorSpec
    from .sample import sample_to_grid

    ctx = GenerationContext.from_workspace(ws, warn=_args.warn)  # decoder and scorer loaded once
    for method, params in (("uniform", {"b": 1.5}), ("normal", {"sigma": 1.0}),
                           ("ellipse", {"sigma_level": 2.35, "fact": 0.7})):
        spec = GeneratorSpec.of(method, 28, 0, z_dim=z.shape[1], **params)
        res = sample_to_grid(ctx, spec, out=out / f"samples_{method}.png", wait=wait)
        print(f"samples {method:8s} -> {printable(out / f'samples_{method}.png')}  {res}")
