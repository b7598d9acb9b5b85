"""Two latent sets of one model compared: the training images against a named set.

Where do other images (held-out photos, a user's own pictures) land in the latent space, and does
the model reconstruct them as faces? For each set: the radius, the Mahalanobis distance to the
training cloud (its mean and covariance; the training set against itself is the reference), the
share of points beyond the training set's 99th Mahalanobis percentile, and — optionally — how
often MTCNN finds a face in the originals and in their reconstructions.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError

#: images per set that are reconstructed and judged (sampled evenly at random)
N_JUDGED = 200


def mahalanobis(z: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Mahalanobis distance (n,) of rows of ``z`` (n, d) to ``mean`` under ``cov`` (d, d).

    A singular covariance (fewer points than dimensions, dead components) is regularised by a
    ridge of 1e-6 of its mean diagonal, so the distance stays finite.
    """
    d = np.asarray(z, np.float64) - mean
    ridge = 1e-6 * max(float(np.mean(np.diag(cov))), 1e-12)
    chol = np.linalg.cholesky(cov + ridge * np.eye(cov.shape[0]))
    y = np.linalg.solve(chol, d.T)
    return np.sqrt(np.sum(y * y, axis=0))


def _summary(values: np.ndarray) -> dict:
    return {"mean": float(values.mean()), "median": float(np.median(values)),
            "p01": float(np.percentile(values, 1)), "p99": float(np.percentile(values, 99))}


def compare_latents(train_z: np.ndarray, other_z: np.ndarray) -> dict:
    """Radius and Mahalanobis statistics of both sets relative to the training cloud.

    Parameters
    ----------
    train_z : ndarray of shape (n, z_dim)
    other_z : ndarray of shape (m, z_dim)

    Returns
    -------
    dict
        ``training`` and ``other``: ``n``, ``radius`` and ``mahalanobis`` summaries (mean,
        median, p01, p99); ``other["beyond_training_p99"]``: share of the other set's points
        farther than the training set's 99th percentile.
    """
    a, b = np.asarray(train_z, np.float64), np.asarray(other_z, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise InvalidInputError(f"compare: the sets must share z_dim, got {a.shape} and {b.shape}")
    if a.shape[0] < 2:
        raise InvalidInputError("compare: the training set needs at least 2 points")
    mean, cov = a.mean(axis=0), np.cov(a, rowvar=False)
    out = {}
    limit = None
    for key, z in (("training", a), ("other", b)):
        dist = mahalanobis(z, mean, cov)
        out[key] = {"n": int(z.shape[0]), "radius": _summary(np.linalg.norm(z, axis=1)),
                    "mahalanobis": _summary(dist)}
        if key == "training":
            limit = float(np.percentile(dist, 99))
        else:
            out[key]["beyond_training_p99"] = float(np.mean(dist > limit))
    return out


def compare_sets(ws, name: str, *, judge: bool = True, n_judged: int = N_JUDGED, seed: int = 0,
                 progress=None) -> dict:
    """:func:`compare_latents` of the workspace's training latents and its named set ``name``,
    plus (``judge``) MTCNN's face rate on originals and reconstructions of both image sets."""
    from ..data.store import DatasetStore
    from .reconstruct import reconstruct

    train, other = ws.latents(), ws.latents(name)
    out = {"name": name, **compare_latents(train.z, other.z)}
    if judge:
        if not other.meta.data:
            raise InvalidInputError(f"latent set {name!r}: its meta.json does not say which images it holds")
        for key, store, split in (("training", None, "test"), ("other", DatasetStore.open(other.meta.data), "all")):
            rec = reconstruct(ws, store=store, n=n_judged, split=split, seed=seed, progress=progress)
            out[key]["judged"] = {
                part: {k: rec.judge[part]["mtcnn"][k] for k in ("rate", "interval", "detected")}
                | {"n": rec.judge[part]["n"]} for part in ("originals", "reconstructions")}
    return out


def format_comparison(c: dict) -> list[str]:
    """Lines for the terminal."""
    lines = []
    for key, label in (("training", "training set"), ("other", f"set '{c.get('name', 'other')}'")):
        s = c[key]
        text = (f"{label}: {s['n']:,} points, radius {s['radius']['mean']:.2f} "
                f"[{s['radius']['p01']:.2f}-{s['radius']['p99']:.2f}], Mahalanobis median "
                f"{s['mahalanobis']['median']:.2f} (p99 {s['mahalanobis']['p99']:.2f})")
        if "beyond_training_p99" in s:
            text += f", {s['beyond_training_p99']:.0%} beyond the training set's p99"
        for part, j in (s.get("judged") or {}).items():
            text += f"; MTCNN {part} {j['rate']:.0%} ({j['detected']}/{j['n']})"
        lines.append(text)
    return lines


__all__ = ["mahalanobis", "compare_latents", "compare_sets", "format_comparison", "N_JUDGED"]
