"""Reconstructions: images → encoder → decoder, side by side with the originals, judged.

Shared by ``latentexplorer reconstruct`` and ``quickstart``. The images come from the workspace's
dataset (by default its test split: images the model was not trained on) or from any other store
of the same image size (a user's own photos after ``prepare``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..inputs import printable

SPLITS = ("test", "train", "all")


@dataclass
class Reconstruction:
    """``originals`` and ``reconstructions`` (n, H, W, 3) uint8 of store images ``indices``."""

    originals: np.ndarray
    reconstructions: np.ndarray
    indices: np.ndarray
    z: np.ndarray
    store_path: str
    fingerprint: str
    epoch: int
    judge: dict | None = None  # {"originals": score_images(...), "reconstructions": ...}


def choose_indices(store, n: int, split: str = "test", seed: int = 0) -> np.ndarray:
    """``n`` image indices of ``store`` from ``split`` ("test", "train" or "all"), sorted."""
    if split not in SPLITS:
        raise InvalidInputError(f"split: expected one of {', '.join(SPLITS)}, got {split!r}")
    train, test = store.split()
    pool = {"test": test, "train": train, "all": np.arange(store.n)}[split]
    if len(pool) == 0:
        raise InvalidInputError(f"{printable(store.path)}: the {split} split is empty")
    k = min(int(n), len(pool))
    return np.sort(np.random.default_rng(seed).choice(pool, k, replace=False))


def reconstruct(ws, *, store=None, n: int = 16, split: str = "test", seed: int = 0,
                judge: bool = True, progress=None) -> Reconstruction:
    """Encode and decode ``n`` images of ``store`` (default: the workspace's dataset).

    Parameters
    ----------
    ws : Workspace
        A trained workspace (the committed epoch is used).
    store : DatasetStore, optional
        Another store of the model's image size.
    judge : bool
        Run the face detectors on originals and reconstructions.
    """
    from ..models.codec import Decoder, Encoder
    from ..models.io import weights_fingerprint

    if not 1 <= int(n) <= 1000:
        raise InvalidInputError(f"n={n}: expected 1 to 1,000 images")
    store = ws.dataset() if store is None else store
    size = ws.model_config.image_size
    if store.size != size:
        raise InvalidInputError(f"{printable(store.path)}: images are {store.size}x{store.size} px, the "
                                f"model takes {size}x{size} (prepare the images with --size {size})")
    idx = choose_indices(store, n, split, seed)
    originals = np.asarray(store.batch(idx))
    snap = ws.snapshot()
    keras_decoder = ws.load_decoder(snap)
    z = Encoder(ws.load_encoder(snap)).encode(originals)
    recon = Decoder(keras_decoder).decode(z)
    rec = Reconstruction(originals, recon, idx, z, str(store.path), weights_fingerprint(keras_decoder),
                         snap.epoch)
    if judge:
        from ..judge.scoring import score_images

        rec.judge = {name: score_images(imgs, per_image=False, progress=progress)
                     for name, imgs in (("originals", originals), ("reconstructions", recon))}
    return rec


def write_reconstruction_grid(rec: Reconstruction, out, *, cols: int | None = None,
                              staged: bool = False) -> Path:
    """Originals over their reconstructions, row pairs of ``cols`` images; PNG + JSON sidecar.

    The sidecar is a grid sidecar (generator ``"reconstruction"``) whose z-vectors are the
    encodings, so File > Open grid shows them in the explorer. Returns the sidecar path.
    """
    from ..render.images import save_grid

    n = len(rec.indices)
    cols = int(cols or min(n, 8))
    rows = []
    z_rows = []
    for a in range(0, n, cols):
        b = min(a + cols, n)
        pad = cols - (b - a)
        blank = np.full((pad, *rec.originals.shape[1:]), 255, np.uint8)
        rows += [np.concatenate([rec.originals[a:b], blank]), np.concatenate([rec.reconstructions[a:b], blank])]
        zpad = np.repeat(rec.z[b - 1:b], pad, axis=0)
        z_rows += [np.concatenate([rec.z[a:b], zpad])] * 2
    images, z = np.concatenate(rows), np.concatenate(z_rows)
    labels = []
    for a in range(0, n, cols):
        b = min(a + cols, n)
        labels += [f"#{int(i)}" for i in rec.indices[a:b]] + [""] * (cols - (b - a))
        labels += ["recon."] * (b - a) + [""] * (cols - (b - a))
    return save_grid(out, images, z, generator="reconstruction",
                     settings={"n": n, "store": rec.store_path}, seed=None, fingerprint=rec.fingerprint,
                     scores=rec.judge, cols=cols, labels=labels, staged=staged,
                     extra={"indices": [int(i) for i in rec.indices], "model_epoch": rec.epoch,
                            "layout": "row pairs: originals above their reconstructions"})


__all__ = ["Reconstruction", "reconstruct", "write_reconstruction_grid", "choose_indices", "SPLITS"]
