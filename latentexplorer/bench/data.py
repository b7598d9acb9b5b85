"""Benchmark inputs, built once and cached (``--cache``, default ``$TMPDIR/latentexplorer-bench``).

* :func:`latent_cloud` -- latent-like points: correlated Gaussian with decaying scales and an
  offset (the shape of a trained AE's z-points), deterministic.
* :func:`face_store` -- a dataset store of ``n`` 96x96 synthetic faces: a few hundred faces
  rendered by :mod:`latentexplorer.data.synth`, repeated with shifts and flips (rendering
  200,000 would take longer than the benchmark; the pixels only have to look like images).
* :func:`jpeg_source` -- a folder of JPEGs: real CelebA (half size) when available, else
  synthetic faces saved as JPEG at the same 89x109 size.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

ENV_CACHE = "LATENTEXPLORER_BENCH_CACHE"
ENV_JPEG = "LATENTEXPLORER_BENCH_JPEGS"
CELEBA_HALF = "celeba_aligned_half"


def default_cache() -> Path:
    return Path(os.environ.get(ENV_CACHE) or Path(tempfile.gettempdir()) / "latentexplorer-bench")


def latent_cloud(n: int, d: int = 256, seed: int = 0) -> np.ndarray:
    """(n, d) float32 latent-like points (correlated, scales from 3 down to 0.05, offset 0.3)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    scales = np.geomspace(3.0, 0.05, d)
    mix = (scales[:, None] * q.T).astype(np.float32)
    out = np.empty((n, d), np.float32)
    for s in range(0, n, 32768):
        k = min(32768, n - s)
        np.matmul(rng.standard_normal((k, d), dtype=np.float32), mix, out=out[s:s + k])
    out += np.float32(0.3)
    return out


def _base_faces(k: int, size: int, cache: Path) -> np.ndarray:
    path = cache / f"faces_{k}_{size}.npy"
    if path.is_file():
        return np.load(path)
    from ..data.synth import generate_faces

    images, _ = generate_faces(k, size=size, seed=0)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, images)
    tmp.replace(path)
    return images


def face_store(cache: Path, n: int, size: int = 96, base: int = 256):
    """A cached :class:`~latentexplorer.data.store.DatasetStore` of ``n`` face images."""
    from ..data.store import DatasetStore, StoreWriter

    path = cache / f"store_{n}_{size}"
    if (path / "meta.json").is_file():
        return DatasetStore.open(path)
    faces = _base_faces(min(base, n), size, cache)
    k = len(faces)
    with StoreWriter(path, n, size, overwrite=True) as w:
        for s in range(0, n, k):
            m = min(k, n - s)
            block = faces[:m]
            rep = s // k
            if rep:
                block = np.roll(block, shift=(rep % 7) - 3, axis=2)
                if rep % 2:
                    block = block[:, :, ::-1]
            w.images[s:s + m] = block
        w.finish({"source": "benchmark (synthetic faces, repeated)", "preset": "synthetic"})
    return DatasetStore.open(path)


def _shared_candidates() -> list[Path]:
    here = Path(__file__).resolve()
    out = []
    env = os.environ.get(ENV_JPEG)
    if env:
        out.append(Path(env))
    for parent in here.parents[1:4]:
        out.append(parent / "shared" / "data" / CELEBA_HALF)
        out.append(parent.parent / "shared" / "data" / CELEBA_HALF)
    return out


def find_real_jpegs(n: int, explicit: Path | None = None) -> Path | None:
    """A folder with at least ``n`` JPEG files (``explicit``, $LATENTEXPLORER_BENCH_JPEGS, or
    ``shared/data/celeba_aligned_half`` next to the repository), else None."""
    for cand in ([explicit] if explicit is not None else []) + _shared_candidates():
        if cand is not None and cand.is_dir():
            count = 0
            with os.scandir(cand) as it:
                for e in it:
                    if e.name.lower().endswith((".jpg", ".jpeg")):
                        count += 1
                        if count >= n:
                            return cand
    return None


def jpeg_source(cache: Path, n: int, explicit: Path | None = None) -> tuple[Path, str]:
    """``(folder, description)`` of at least ``n`` face JPEGs (CelebA 178:218 aspect)."""
    real = find_real_jpegs(n, explicit)
    if real is not None:
        return real, f"real CelebA JPEGs from {real}"
    path = cache / f"jpegs_{n}"
    marker = path / ".complete"
    if not marker.is_file():
        from PIL import Image

        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        faces = _base_faces(min(64, n), 96, cache)
        rng = np.random.default_rng(0)
        for i in range(n):
            face = faces[i % len(faces)]
            canvas = np.full((109, 89, 3), 200, np.uint8)
            img = Image.fromarray(face).resize((89, 89), Image.Resampling.BILINEAR)
            canvas[20:109] = np.asarray(img)
            noise = rng.integers(-6, 7, size=canvas.shape)
            canvas = np.clip(canvas.astype(np.int16) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(canvas).save(path / f"{i:06d}.jpg", quality=92)
        marker.touch()
    return path, "synthetic face JPEGs (89x109; no real data found)"
