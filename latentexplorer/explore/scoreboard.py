"""The scoreboard: per generator, is what it makes a face, how varied, how close to real photos?

One entry per generated set, the same in ``sample``, ``sweep`` and the GUI's generator tab:

* **detector rates** — MTCNN (primary) and Haar (lenient second opinion): fraction of the decoded
  images in which a face is found, with a 95 % Wilson interval, and MTCNN's mean confidence
  (:mod:`latentexplorer.judge`; independent of the model under test);
* **variety** — mean pairwise distance of the images in the judge's feature space, next to the same
  figure for held-out real photos of the workspace's dataset (``variety_ratio`` ≈ 1: as varied as
  real photos; ≪ 1: near-copies of one face);
* **precision / recall / density / coverage** against those held-out photos (Kynkäänniemi et al.
  2019; Naeem et al. 2020);
* **re-encode ratio** — median ‖encode(decode(z)) − z‖ relative to real z-points, and
  **closeness** (:mod:`latentexplorer.render.closeness`: nearness to the encoded cloud and to the
  training images; *not* a face measure);
* **radius** of the vectors next to that of the data: for a VAE both the μ cloud and the cloud of
  sampled z = μ + σ·ε that the decoder was trained on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: held-out photos the variety and coverage are measured against
N_REFERENCE = 500


def judge_reference(ws, n: int = N_REFERENCE, progress=None) -> dict | None:
    """Judge features of up to ``n`` held-out (test split) photos of the workspace's dataset.

    Returns ``{"features": (m, 256) array, "variety": float, "n": m}``, or None when the dataset
    is not available or too small for coverage.
    """
    from ..errors import InvalidInputError
    from ..judge.coverage import NEAREST_K, image_features, mean_pairwise_distance

    try:
        store = ws.dataset()
    except (InvalidInputError, OSError):
        return None
    _train, test = store.split()
    idx = test if len(test) > NEAREST_K else np.arange(store.n)
    if len(idx) <= NEAREST_K:
        return None
    idx = np.sort(np.random.default_rng(0).permutation(idx)[:n])
    feats = image_features(np.asarray(store.images[idx]), progress=progress)
    return {"features": feats, "variety": mean_pairwise_distance(feats), "n": int(len(idx))}


def judge_images(images: np.ndarray, reference: dict | None, progress=None) -> dict:
    """Detector rates (per image and per set), variety and coverage of decoded ``images``."""
    from ..judge.scoring import score_images

    out = score_images(images, real=None if reference is None else reference["features"],
                       per_image=True, progress=progress)
    if reference is not None and out.get("variety") is not None and reference["variety"]:
        out["variety_real"] = float(reference["variety"])
        out["variety_ratio"] = float(out["variety"] / reference["variety"])
    return out


def entry(gen, data_radius: dict | None = None) -> dict:
    """The scoreboard entry of a :class:`~latentexplorer.explore.generate.Generated`."""
    r = gen.radius
    out: dict[str, Any] = {"generator": gen.name, "settings": dict(gen.settings), "n": int(len(gen.z)),
                           "seed": gen.spec.seed, "radius_mean": float(r.mean()),
                           "radius_std": float(r.std())}
    if data_radius:
        out["data_radius"] = dict(data_radius)
    judge = gen.judge
    if judge is not None:
        out["n_judged"] = judge["n"]
        for name in ("mtcnn", "haar"):
            if judge.get(name):
                out[name] = {k: judge[name][k] for k in ("rate", "interval", "detected", "mean_confidence")
                             if k in judge[name]}
        for key in ("variety", "variety_real", "variety_ratio", "coverage"):
            if judge.get(key) is not None:
                out[key] = judge[key]
    if gen.scores is not None:
        s = gen.scores.summary()
        out["reencode_ratio"] = s["cycle_ratio_median"]
        out["closeness"] = s["closeness_mean"]
        if "all_hit_rate" in s:
            out["hit_rate"] = s["all_hit_rate"]
    return out


def format_entry(e: dict) -> str:
    """One line: ``ellipse (fact 0.7): radius 10.2; MTCNN 96% [88-99%] conf 0.97; Haar ...``."""
    settings = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in e.get("settings", {}).items())
    parts = [f"{e['generator']}" + (f" ({settings})" if settings else "")
             + f": radius {e['radius_mean']:.2f}"]
    dr = e.get("data_radius") or {}
    if dr.get("mean") is not None:
        parts[0] += f" (data {dr['mean']:.2f}" + (f", sampled z {dr['sampled_mean']:.2f}"
                                                  if dr.get("sampled_mean") is not None else "") + ")"
    for name, label in (("mtcnn", "MTCNN"), ("haar", "Haar")):
        s = e.get(name)
        if s:
            lo, hi = s["interval"]
            text = f"{label} {s['rate']:.0%} [{lo:.0%}-{hi:.0%}]"
            if s.get("mean_confidence") is not None and name == "mtcnn":
                text += f" conf {s['mean_confidence']:.2f}"
            parts.append(text)
    if e.get("variety_ratio") is not None:
        parts.append(f"variety x{e['variety_ratio']:.2f} of real")
    elif e.get("variety") is not None:
        parts.append(f"variety {e['variety']:.2f}")
    c = e.get("coverage")
    if c:
        parts.append(f"P/R/D/C {c['precision']:.2f}/{c['recall']:.2f}/{c['density']:.2f}/{c['coverage']:.2f}")
    if e.get("reencode_ratio") is not None:
        parts.append(f"re-encode x{e['reencode_ratio']:.2f}")
    if e.get("closeness") is not None:
        parts.append(f"closeness {e['closeness']:.2f}")
    return "; ".join(parts)


def sampled_cloud(latents, seed: int = 0) -> np.ndarray | None:
    """A VAE's z = μ + exp(logvar / 2)·ε (ε ~ N(0, 1), seeded): the cloud its decoder was trained
    on (None for an autoencoder)."""
    if latents.mu is None or latents.logvar is None:
        return None
    eps = np.random.default_rng(seed).standard_normal(latents.mu.shape).astype(np.float32)
    return (latents.mu + np.exp(0.5 * latents.logvar) * eps).astype(np.float32)


def radius_summary(z: np.ndarray, sampled: np.ndarray | None = None) -> dict:
    """Mean and 1 / 99 % percentiles of the radius of the data (and of the sampled VAE cloud)."""
    r = np.linalg.norm(np.asarray(z, dtype=np.float64), axis=1)
    out = {"mean": float(r.mean()), "p01": float(np.percentile(r, 1)), "p99": float(np.percentile(r, 99))}
    if sampled is not None:
        rs = np.linalg.norm(sampled.astype(np.float64), axis=1)
        out.update(sampled_mean=float(rs.mean()), sampled_p01=float(np.percentile(rs, 1)),
                   sampled_p99=float(np.percentile(rs, 99)))
    return out


__all__ = ["N_REFERENCE", "judge_reference", "judge_images", "entry", "format_entry", "sampled_cloud",
           "radius_summary"]
