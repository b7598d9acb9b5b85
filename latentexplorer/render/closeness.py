"""Closeness of generated z-vectors to the model's data: how much a decoded vector behaves like an
encoded training image. It is NOT a face detector — it rewards nearness to the encoded cloud and to
the training images, so it over-rates smooth average faces and under-rates varied ones that lie
farther out (a VAE's N(0, 1) samples). Whether a decoded image is a face is judged independently by
:mod:`latentexplorer.judge`; this module keeps the re-encode ratio and the hit test, which the
scoreboard reports next to the detector rates.

Definitions (for a generated vector ``z`` with decoded image ``x = decode(z)``):

1. **Re-encode consistency** ``cycle = |encode(decode(z)) − z| / R`` where ``R`` is the RMS
   distance of the data z-points to their mean (the typical spread of the cloud). A decoder
   maps a point inside the data cloud to a face the encoder recognises and places back near
   ``z``; off the manifold the decoder invents an image the encoder puts somewhere else.
   ``cycle_ratio = cycle / median(cycle of real z-points)`` (≈ 1: as consistent as real data).
   For a VAE the encoder's ``mu`` is used.
2. **Nearest training image** ``nn_mse`` = mean squared pixel difference (pixels in [0, 1],
   images average-pooled to at most ``max_side`` pixels a side) between ``x`` and its nearest
   neighbour in a random subset of training images (default 2,000).
   ``nn_ratio = nn_mse / median(nn_mse of decoded real z-points)``; the real reference points
   are other images than the subset, so a reconstruction is never compared with its own original.
3. **Data-region hit** (if per-component centre ``mu`` and half-width ``hw`` are given):
   ``hit_fraction`` = fraction of the components with ``|z_i − mu_i| ≤ k · hw_i``; ``all_hit`` =
   every component inside (the hit test of SPEC §4).

Raw numbers are primary. For convenience ``closeness = sqrt(min(1, 1/cycle_ratio) ·
min(1, 1/nn_ratio))`` in [0, 1]: 1 when a vector is at least as consistent and as close to a
training face as a typical real z-point, falling towards 0 for garbage. Per generator,
:meth:`Closeness.summary` reports means/medians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError

__all__ = ["Closeness", "ClosenessScorer", "pool_images", "nearest_mse"]


def pool_images(images: np.ndarray, max_side: int = 48) -> np.ndarray:
    """uint8/float images ``(n, H, W, C)`` → float32 ``(n, D)`` in [0, 1], average-pooled so that
    the side is at most ``max_side`` (integer factor; edge rows/columns beyond a multiple dropped)."""
    arr = np.asarray(images)
    if arr.ndim != 4:
        raise InvalidInputError(f"images: expected shape (n, H, W, C), got {arr.shape}")
    scale = 255.0 if arr.dtype == np.uint8 else 1.0
    n, h, w, c = arr.shape
    f = max(1, int(math.ceil(max(h, w) / max_side)))
    hh, ww = (h // f) * f, (w // f) * f
    x = arr[:, :hh, :ww].astype(np.float32) / scale
    if f > 1:
        x = x.reshape(n, hh // f, f, ww // f, f, c).mean(axis=(2, 4))
    return x.reshape(n, -1)


def nearest_mse(queries: np.ndarray, references: np.ndarray, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``queries`` (n, D): the smallest mean squared difference to a row of
    ``references`` (m, D) and its index. Chunked ``|a|² + |b|² − 2ab`` products."""
    q = np.asarray(queries, np.float32)
    r = np.asarray(references, np.float32)
    r2 = np.einsum("ij,ij->i", r, r)
    best = np.empty(q.shape[0], np.float64)
    idx = np.empty(q.shape[0], np.int64)
    for s in range(0, q.shape[0], chunk):
        block = q[s:s + chunk]
        d2 = r2[None, :] - 2.0 * (block @ r.T) + np.einsum("ij,ij->i", block, block)[:, None]
        j = np.argmin(d2, axis=1)
        idx[s:s + chunk] = j
        best[s:s + chunk] = np.maximum(d2[np.arange(len(block)), j], 0.0) / q.shape[1]
    return best, idx


@dataclass
class Closeness:
    """Closeness numbers per vector (arrays of shape (n,)); see the module docstring."""

    cycle: np.ndarray
    cycle_ratio: np.ndarray
    nn_mse: np.ndarray
    nn_ratio: np.ndarray
    hit_fraction: np.ndarray | None
    all_hit: np.ndarray | None
    closeness: np.ndarray
    reference: dict

    @property
    def n(self) -> int:
        return int(self.cycle.shape[0])

    def per_vector(self) -> list[dict]:
        """One JSON-ready dict per vector."""
        rows = []
        for i in range(self.n):
            row = {"cycle": float(self.cycle[i]), "cycle_ratio": float(self.cycle_ratio[i]),
                   "nn_mse": float(self.nn_mse[i]), "nn_ratio": float(self.nn_ratio[i]),
                   "closeness": float(self.closeness[i])}
            if self.hit_fraction is not None:
                row["hit_fraction"] = float(self.hit_fraction[i])
                row["all_hit"] = bool(self.all_hit[i])
            rows.append(row)
        return rows

    def summary(self) -> dict:
        """Means and medians over the vectors, plus the reference values of real z-points."""
        out = {"n": self.n,
               "cycle_mean": float(self.cycle.mean()), "cycle_median": float(np.median(self.cycle)),
               "cycle_ratio_median": float(np.median(self.cycle_ratio)),
               "nn_mse_mean": float(self.nn_mse.mean()), "nn_mse_median": float(np.median(self.nn_mse)),
               "nn_ratio_median": float(np.median(self.nn_ratio)),
               "closeness_mean": float(self.closeness.mean()),
               "closeness_median": float(np.median(self.closeness))}
        if self.hit_fraction is not None:
            out["hit_fraction_mean"] = float(self.hit_fraction.mean())
            out["all_hit_rate"] = float(self.all_hit.mean())
        out["reference"] = dict(self.reference)
        return out

    def to_dict(self) -> dict:
        """``{"summary": ..., "per_vector": [...]}`` for a sidecar."""
        return {"summary": self.summary(), "per_vector": self.per_vector()}


class ClosenessScorer:
    """Scores generated z-vectors against a model's data (see the module docstring).

    Parameters
    ----------
    decoder : render.decode.Decoder or keras.Model
    encoder : render.decode.Encoder or keras.Model
    z_data : ndarray (n_points, z_dim)
        Encoded training points (``ws.latents().z``).
    train_images : ndarray (n_images, H, W, 3) uint8
        Training images (a memmap is fine; only the subset is read). If ``n_images ==
        n_points`` the two are taken to be aligned (image i encodes to z_data[i]) and the real
        reference points are chosen among images outside the nearest-neighbour subset.
    n_train : int
        Size of the nearest-neighbour subset (default 2,000).
    n_reference : int
        Number of real z-points decoded for the reference values (default 200).
    mu, half_width : ndarray (z_dim,), optional
        Per-component centre and half-width for the data-region hit (both or neither).
    k : float
        Hit box ``mu ± k · half_width`` (default 3, the seeds' choice).
    seed : int
        Seed of the subset choice.
    max_side : int
        Images are average-pooled to at most this side for the pixel distances (default 48).
    """

    def __init__(self, decoder, encoder, z_data, train_images, *, n_train: int = 2000,
                 n_reference: int = 200, mu=None, half_width=None, k: float = 3.0, seed: int = 0,
                 max_side: int = 48) -> None:
        from ..models.codec import Decoder, Encoder

        self.decoder = decoder if isinstance(decoder, Decoder) else Decoder(decoder)
        self.encoder = encoder if isinstance(encoder, Encoder) else Encoder(encoder)
        z = np.asarray(z_data, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != self.decoder.z_dim or z.shape[0] < 2:
            raise InvalidInputError(f"z_data: expected shape (n >= 2, {self.decoder.z_dim}), got {z.shape}")
        if self.encoder.z_dim != self.decoder.z_dim:
            raise InvalidInputError(f"encoder z_dim {self.encoder.z_dim} != decoder z_dim {self.decoder.z_dim}")
        n_images = int(np.shape(train_images)[0])
        made, stored = tuple(self.decoder.image_shape[:2]), tuple(np.shape(train_images)[1:3])
        if made != stored:
            raise InvalidInputError(f"the dataset's images are {stored[0]}x{stored[1]} px but the decoder "
                                    f"makes {made[0]}x{made[1]} px (the dataset was replaced since "
                                    "training): closeness scores cannot compare them")
        if n_images < 2:
            raise InvalidInputError("train_images: need at least 2 images")
        if (mu is None) != (half_width is None):
            raise InvalidInputError("closeness: give both mu and half_width, or neither")
        self.max_side = int(max_side)
        self.k = float(k)
        self.mu = None if mu is None else np.asarray(mu, np.float64).reshape(-1)
        self.half_width = None if half_width is None else np.asarray(half_width, np.float64).reshape(-1)
        if self.mu is not None and (self.mu.size != z.shape[1] or self.half_width.size != z.shape[1]):
            raise InvalidInputError(f"mu / half_width: expected {z.shape[1]} values each")

        rng = np.random.default_rng(seed)
        self.z_mean = z.mean(axis=0)
        self.spread = float(np.sqrt(np.mean(np.sum((z - self.z_mean) ** 2, axis=1))))
        if self.spread == 0.0:
            raise InvalidInputError("z_data: all points are identical (no spread)")

        n_train = int(min(n_train, n_images - 1)) if n_images > 1 else 1
        perm = rng.permutation(n_images)
        train_idx = np.sort(perm[:n_train])
        self.train_pooled = pool_images(np.asarray(train_images[train_idx]), self.max_side)
        if n_images == z.shape[0]:
            pool = perm[n_train:]  # aligned: real reference points outside the NN subset
        else:
            pool = rng.permutation(z.shape[0])
        ref_idx = np.sort(pool[:int(min(n_reference, len(pool)))])
        z_ref = z[ref_idx].astype(np.float32)
        self._ref_cycle = 1.0
        self._ref_nn = 1.0
        cycle, nn = self._raw(z_ref, self.decoder.decode(z_ref))
        self._ref_cycle = float(np.median(cycle)) or 1e-12
        self._ref_nn = float(np.median(nn)) or 1e-12
        self.reference = {"spread_rms": self.spread, "cycle_real_median": self._ref_cycle,
                          "nn_mse_real_median": self._ref_nn, "n_reference": int(len(ref_idx)),
                          "n_train_subset": int(n_train), "pool_max_side": self.max_side,
                          "hit_k": self.k if self.mu is not None else None}

    def _raw(self, z: np.ndarray, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z_back = self.encoder.encode(images)
        cycle = np.linalg.norm(z_back.astype(np.float64) - z, axis=1) / self.spread
        nn, _ = nearest_mse(pool_images(images, self.max_side), self.train_pooled)
        return cycle, nn

    def score(self, z, images=None) -> Closeness:
        """Closeness of vectors ``z`` (n, z_dim); pass ``images`` (their raw decoded uint8
        images, before sharpening) to avoid decoding twice."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float32))
        if z.shape[1] != self.decoder.z_dim:
            raise InvalidInputError(f"z: expected shape (n, {self.decoder.z_dim}), got {z.shape}")
        if images is None:
            images = self.decoder.decode(z)
        elif len(images) != len(z):
            raise InvalidInputError(f"images: {len(images)} images for {len(z)} vectors")
        cycle, nn = self._raw(z, np.asarray(images))
        cycle_ratio = cycle / self._ref_cycle
        nn_ratio = nn / self._ref_nn
        close = np.sqrt(np.minimum(1.0, 1.0 / np.maximum(cycle_ratio, 1e-12))
                       * np.minimum(1.0, 1.0 / np.maximum(nn_ratio, 1e-12)))
        hit_fraction = all_hit = None
        if self.mu is not None:
            inside = np.abs(z.astype(np.float64) - self.mu) <= self.k * self.half_width
            hit_fraction = inside.mean(axis=1)
            all_hit = inside.all(axis=1)
        return Closeness(cycle=cycle, cycle_ratio=cycle_ratio, nn_mse=nn, nn_ratio=nn_ratio,
                         hit_fraction=hit_fraction, all_hit=all_hit, closeness=close,
                         reference=self.reference)
