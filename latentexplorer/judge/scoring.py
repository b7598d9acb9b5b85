"""One call per set of images: detector rates, variety and coverage — the content of ``SCORE.json``.

:func:`score_images` is what a scoreboard (``sample``, ``sweep``, the GUI's generator tab) calls on
decoded images; :func:`score_path` reads a folder, a grid or a sweep first
(:mod:`latentexplorer.judge.sources`) and is what ``latentexplorer score`` runs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import InvalidInputError
from .coverage import NEAREST_K, coverage_score, image_features, mean_pairwise_distance
from .detectors import DETECTOR_NAMES, as_image_batch, default_detector, judge_images

__all__ = ["SCORE_FORMAT", "score_images", "score_path", "summary_line", "real_features"]

SCORE_FORMAT = "latentexplorer-score/1"


def score_images(images: Any, *, detectors: Sequence[str] = DETECTOR_NAMES, real=None,
                 per_image: bool = True, progress=None) -> dict:
    """Judge one set of images.

    Parameters
    ----------
    images : ndarray of shape (n, H, W, 3), uint8 (or float in [0, 1])
    detectors : sequence of str, keyword-only
        Default ``("mtcnn", "haar")``.
    real : ndarray of shape (n_real, 256), optional, keyword-only
        Judge features of real images (:func:`real_features`) for precision, recall, density,
        coverage and the variety ratio; without it only the variety is given.
    per_image : bool, keyword-only
        Include every image's detections (face found, confidence, box, landmarks).

    Returns
    -------
    dict
        ``n``; per detector (``"mtcnn"``, ``"haar"``) ``rate``, ``interval`` (95 % Wilson),
        ``detected``, ``mean_confidence``; ``variety`` (mean pairwise distance in the judge's
        feature space, None below 2 images); ``coverage`` (a
        :class:`~latentexplorer.judge.coverage.CoverageScore` dict, or None); ``images``.
    """
    arr = as_image_batch(images)
    judged = judge_images(arr, detectors, progress=progress)
    out: dict = {"n": int(arr.shape[0])}
    for name, (_, score) in judged.items():
        out[name] = {k: v for k, v in score.to_dict().items() if k not in ("detector", "settings")}
    feats = image_features(arr, progress=progress) if arr.shape[0] >= 2 else None
    out["variety"] = None if feats is None else mean_pairwise_distance(feats)
    out["coverage"] = None
    if real is not None and feats is not None and feats.shape[0] > NEAREST_K \
            and np.shape(real)[0] > NEAREST_K:
        out["coverage"] = coverage_score(real, feats).to_dict()
    if per_image:
        out["images"] = [{name: found[i].to_dict() for name, (found, _) in judged.items()}
                         for i in range(arr.shape[0])]
    return out


def real_features(folder: str | Path, *, preset: str = "center", size: int = 96,
                  limit: int | None = 2000, progress=None) -> np.ndarray:
    """Judge features of the real photos in ``folder`` (the reference for coverage)."""
    from .sources import load_image_sets

    (real_set,) = load_image_sets(folder, preset=preset, size=size, limit=limit, progress=progress)
    if real_set.images.shape[0] <= NEAREST_K:
        raise InvalidInputError(f"{folder}: {real_set.images.shape[0]} usable photos; coverage "
                                f"needs more than {NEAREST_K}")
    return image_features(real_set.images, progress=progress)


def score_path(path: str | Path, *, detectors: Sequence[str] = DETECTOR_NAMES, real=None,
               preset: str = "center", size: int = 96, limit: int | None = None,
               per_image: bool = True, progress=None) -> dict:
    """Score every set under ``path`` (a folder of images, a grid PNG + sidecar, a sweep folder).

    Parameters
    ----------
    path : str or Path
    detectors : sequence of str, keyword-only
    real : str, Path or ndarray of shape (n_real, 256), optional, keyword-only
        A folder of real photos (or their judge features) for coverage.
    preset, size, limit : keyword-only
        How photos of a folder are read (see :func:`~latentexplorer.judge.sources.load_image_sets`).

    Returns
    -------
    dict
        ``format``, ``created``, ``input``, ``detectors`` (each one's pinned settings), ``real``
        (the reference folder or None) and ``sets``: one :func:`score_images` dict per set with
        its ``name``, ``source`` and ``skipped`` files.
    """
    from .sources import load_image_sets

    for d in detectors:
        default_detector(d)                 # a bad name is refused before any image is read
    sets = load_image_sets(path, preset=preset, size=size, limit=limit, progress=progress)
    real_path = None
    if real is not None and not isinstance(real, np.ndarray):
        real_path = str(real)
        real = real_features(real, preset=preset, size=size, progress=progress)
    result = {"format": SCORE_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "input": str(path),
              "detectors": {d: default_detector(d).settings for d in detectors},
              "real": real_path if real_path is not None else (None if real is None else "features"),
              "sets": []}
    for s in sets:
        entry = {"name": s.name, "source": s.source,
                 "skipped": [{"file": f, "reason": r} for f, r in s.skipped]}
        entry.update(score_images(s.images, detectors=detectors, real=real, per_image=per_image,
                                  progress=progress))
        result["sets"].append(entry)
    return result


def summary_line(entry: dict) -> str:
    """One line for one set: ``NAME: N images; mtcnn 96% [82-99%] conf 0.95; haar ...; variety``."""
    parts = [f"{entry.get('name', 'images')}: {entry['n']} images"]
    for name in DETECTOR_NAMES:
        s = entry.get(name)
        if not s:
            continue
        lo, hi = s["interval"]
        text = f"{name} {s['rate']:.0%} [{lo:.0%}-{hi:.0%}]"
        if s.get("mean_confidence") is not None:
            text += f" conf {s['mean_confidence']:.2f}"
        parts.append(text)
    if entry.get("variety") is not None:
        parts.append(f"variety {entry['variety']:.2f}")
    c = entry.get("coverage")
    if c:
        parts.append(f"P/R/D/C {c['precision']:.2f}/{c['recall']:.2f}/{c['density']:.2f}/"
                     f"{c['coverage']:.2f}")
    if entry.get("skipped"):
        parts.append(f"{len(entry['skipped'])} files skipped")
    return "; ".join(parts)
