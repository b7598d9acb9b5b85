"""The judge's calibration: what its numbers are on images whose answer is known.

Kept with the code in ``latentexplorer/resources/judge_calibration.json`` (aggregate numbers
only — no image and nothing derived from one per image) and printed by
``latentexplorer score --calibrate``. Regenerate it with::

    python -m latentexplorer.judge.calibration --data ../shared/data \\
        --out latentexplorer/resources/judge_calibration.json

The sets (``-n`` images each, 96 x 96 like the training data):

* ``real_aligned`` — CelebA aligned photos cropped with the project's CelebA preset (what a model
  is trained on);
* ``real_unseen`` — CelebA face crops the project never trains on (centre square);
* ``reconstructions`` — ``real_unseen`` through the optimal linear autoencoder of
  ``real_aligned`` (its first 256 principal components, :func:`linear_reconstructions`): blurry
  faces like a small AE's, measured without shipping a trained model;
* ``synthetic`` — the embedded procedural faces (:func:`latentexplorer.data.synth.generate_faces`);
* ``blurred_noise`` — uniform colour noise blurred with radii 1 … 6 px and stretched to the full
  contrast range (:func:`blurred_noise`);
* ``mean_face`` — the mean of the ``real_aligned`` images, one image (the blurry average face a
  collapsed generator would give: a detector that sees a face there is a reminder that
  "a face" is not "a varied, realistic face" — that is what coverage is for).

Coverage figures compare each set with ``real_unseen`` in the judge's feature space
(:mod:`latentexplorer.judge.coverage`), so "real vs real" shows what good looks like.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError

__all__ = ["CALIBRATION_PATH", "CALIBRATION_FORMAT", "blurred_noise", "mean_face",
           "linear_reconstructions", "calibrate", "load_calibration", "format_calibration"]

CALIBRATION_PATH = Path(__file__).resolve().parents[1] / "resources" / "judge_calibration.json"
CALIBRATION_FORMAT = "latentexplorer-judge-calibration/1"
_BLUR_RADII = (1, 2, 3, 4, 6)
#: latent size of the linear autoencoder whose reconstructions are measured (the project's z_dim)
_PCA_DIM = 256


def blurred_noise(n: int, size: int = 96, *, random_state=0) -> np.ndarray:
    """Blurred colour noise stretched to full contrast: images with blobs but no face.

    Parameters
    ----------
    n : int
    size : int
    random_state : int or numpy Generator

    Returns
    -------
    images : ndarray of shape (n, size, size, 3), uint8
        Gaussian blur radius cycles through 1, 2, 3, 4, 6 px.
    """
    from PIL import Image, ImageFilter

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidInputError(f"n: expected an integer >= 1, got {n!r}")
    rng = np.random.default_rng(random_state)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        noise = Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
        img = np.asarray(noise.filter(ImageFilter.GaussianBlur(_BLUR_RADII[i % len(_BLUR_RADII)])),
                         dtype=np.float64)
        lo, hi = img.min(), img.max()
        out[i] = np.round((img - lo) / max(hi - lo, 1e-9) * 255.0)
    return out


def mean_face(images) -> np.ndarray:
    """The pixel mean of ``images`` ``(n, H, W, 3)`` as one uint8 image ``(H, W, 3)``."""
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[0] < 1:
        raise InvalidInputError(f"images: expected shape (n, H, W, 3), got {arr.shape}")
    return np.round(arr.astype(np.float64).mean(axis=0)).astype(np.uint8)


def linear_reconstructions(train, images, n_components: int, random_state=0) -> np.ndarray:
    """``images`` encoded and decoded by the optimal *linear* autoencoder of ``train`` (PCA with
    ``n_components``, at most the number of training images): blurry faces like a small AE's."""
    from sklearn.decomposition import PCA

    x = np.asarray(train, np.float32).reshape(len(train), -1) / 255.0
    k = max(1, min(n_components, x.shape[0] - 1))
    pca = PCA(n_components=k, svd_solver="randomized", random_state=random_state).fit(x)
    y = np.asarray(images, np.float32).reshape(len(images), -1) / 255.0
    out = pca.inverse_transform(pca.transform(y)).reshape(np.shape(images))
    return np.round(np.clip(out, 0.0, 1.0) * 255.0).astype(np.uint8)


def _photos(folder: Path, preset: str, n: int) -> np.ndarray:
    from ..data.prepare import list_images, load_face

    return np.stack([load_face(f, preset, 96) for f in list_images(folder, limit=n)])


def calibrate(data_dir: str | Path, *, n: int = 1000, random_state: int = 0, progress=None) -> dict:
    """Measure the judge on the calibration sets (see the module docstring).

    Parameters
    ----------
    data_dir : folder holding ``celeba_aligned_half/`` and ``celeba_crops/``
    n : int, keyword-only
        Images per set.
    random_state : int, keyword-only
        Seed of the synthetic faces and the noise.

    Returns
    -------
    dict (JSON-ready; see ``latentexplorer/resources/judge_calibration.json``)
    """
    from ..data.synth import generate_faces
    from .coverage import coverage_score, image_features
    from .detectors import DETECTOR_NAMES, default_detector, judge_images

    data_dir = Path(data_dir)
    for sub in ("celeba_aligned_half", "celeba_crops"):
        if not (data_dir / sub).is_dir():
            raise InvalidInputError(f"{data_dir / sub}: not found (expected the shared CelebA folders)")
    aligned = _photos(data_dir / "celeba_aligned_half", "celeba", n)
    unseen = _photos(data_dir / "celeba_crops", "center", n)
    sets = {
        "real_aligned": ("CelebA aligned photos, CelebA crop (the training data's framing)", aligned),
        "real_unseen": ("CelebA face crops the project never trains on, centre square", unseen),
        "reconstructions": (f"real_unseen through a linear autoencoder (the first {_PCA_DIM} principal "
                            "components of real_aligned): the blur of a small AE",
                            linear_reconstructions(aligned, unseen, _PCA_DIM, random_state)),
        "synthetic": ("the embedded procedural faces (generate_faces, seed 0)",
                      generate_faces(n, size=96, seed=random_state)[0]),
        "blurred_noise": ("colour noise blurred with radii 1-6 px, full contrast",
                          blurred_noise(n, 96, random_state=random_state)),
        "mean_face": ("the mean of the real_aligned images (one image)", mean_face(aligned)[None]),
    }
    out = {"format": CALIBRATION_FORMAT, "created": time.strftime("%Y-%m-%d"), "n": n,
           "settings": {name: default_detector(name).settings for name in DETECTOR_NAMES},
           "sets": {}, "coverage": {}, "timing_ms_per_image": {}}
    features = {}
    for name, (description, images) in sets.items():
        if progress is not None:
            progress.update(0, 1, name)
        judged = judge_images(images, progress=progress)
        entry = {"description": description, "n": int(images.shape[0])}
        for det, (_, score) in judged.items():
            entry[det] = {k: v for k, v in score.to_dict().items() if k not in ("settings", "detector")}
        out["sets"][name] = entry
        if images.shape[0] > 5:
            features[name] = image_features(images)
    for name, feats in features.items():
        if name != "real_unseen":
            out["coverage"][f"{name} vs real_unseen"] = coverage_score(
                features["real_unseen"], feats).to_dict()
    half = features["real_unseen"].shape[0] // 2
    if half > 5:
        out["coverage"]["real_unseen: second half vs first half"] = coverage_score(
            features["real_unseen"][:half], features["real_unseen"][half:]).to_dict()
    sample = sets["real_unseen"][1][: min(n, 500)]
    for label, run in (("mtcnn", lambda: default_detector("mtcnn").detect(sample)),
                       ("haar", lambda: default_detector("haar").detect(sample)),
                       ("features", lambda: image_features(sample))):
        start = time.perf_counter()
        run()
        out["timing_ms_per_image"][label] = round((time.perf_counter() - start) / len(sample) * 1000, 2)
    out["notes"] = [
        "MTCNN sees the synthetic cartoon faces too, so the embedded demo can be judged with it.",
        "reconstructions: of a linear autoencoder (PCA), not of a trained AE; score a model's "
        "own reconstruction grid with `latentexplorer score GRID.png`.",
        "timings: two CPU cores shared with other work; warm detectors, batches of 256.",
    ]
    return out


def load_calibration(path: str | Path | None = None) -> dict:
    """The calibration kept with the code (or the file ``path``)."""
    from ..inputs import read_json

    data = read_json(Path(path) if path is not None else CALIBRATION_PATH)
    if not isinstance(data, dict) or data.get("format") != CALIBRATION_FORMAT:
        raise InvalidInputError(f"{path or CALIBRATION_PATH}: not a judge calibration "
                                f"(format {CALIBRATION_FORMAT})")
    return data


def _pct(score: dict | None) -> str:
    if not score:
        return "-"
    lo, hi = score["interval"]
    return f"{score['rate']:6.1%} [{lo:.1%}-{hi:.1%}]"


def format_calibration(cal: dict) -> str:
    """A table of the calibration for the terminal."""
    lines = [f"judge calibration ({cal.get('created', '?')}, {cal.get('n', '?')} images per set)",
             f"{'set':15s} {'MTCNN rate [95 %]':>24s} {'confidence':>10s} {'Haar rate [95 %]':>24s}"]
    for name, entry in cal.get("sets", {}).items():
        m, h = entry.get("mtcnn"), entry.get("haar")
        conf = "-" if not m or m.get("mean_confidence") is None else f"{m['mean_confidence']:.2f}"
        lines.append(f"{name:15s} {_pct(m):>24s} {conf:>10s} {_pct(h):>24s}")
    if cal.get("coverage"):
        lines.append("coverage in the judge's feature space "
                     "(precision / recall / density / coverage, variety):")
        for name, c in cal["coverage"].items():
            lines.append(f"  {name:40s} {c['precision']:.2f} / {c['recall']:.2f} / {c['density']:.2f}"
                         f" / {c['coverage']:.2f}, x{c['variety_ratio']:.2f}")
    if cal.get("timing_ms_per_image"):
        timing = cal["timing_ms_per_image"]
        lines.append("ms per image: " + ", ".join(f"{k} {v:g}" for k, v in timing.items()))
    lines.extend(f"note: {note}" for note in cal.get("notes", []))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m latentexplorer.judge.calibration --data DIR [--out FILE] [-n N]``."""
    from ..fileio import atomic_write_json

    p = argparse.ArgumentParser(prog="python -m latentexplorer.judge.calibration",
                                description="Measure the face judge and write its calibration.")
    p.add_argument("--data", type=Path, required=True,
                   help="folder with celeba_aligned_half/ and celeba_crops/")
    p.add_argument("--out", type=Path, default=CALIBRATION_PATH, help="output JSON (default: %(default)s)")
    p.add_argument("-n", type=int, default=1000, help="images per set (default: %(default)s)")
    args = p.parse_args(argv)
    cal = calibrate(args.data, n=args.n)
    atomic_write_json(args.out, cal)
    print(format_calibration(cal))
    return 0


if __name__ == "__main__":
    sys.exit(main())
