"""Independent face judges: MTCNN (primary) and OpenCV's Haar cascade (second opinion).

Neither depends on the model under test, and both ship their weights in their wheels, so they
work offline: MTCNN from the ``mtcnn`` package (Zhang et al. 2016; Keras 3 on our TensorFlow),
the frontal-face cascade of Viola & Jones from ``opencv-python-headless`` below 5 (the 5.x wheels
no longer ship the cascade files).

Settings are pinned, because they decide the numbers (measured on 1,000 unseen CelebA crops, the
synthetic faces, blurred noise; see :mod:`latentexplorer.judge.calibration`):

* **MTCNN** works on every image resized to ``work_size`` = 64 px with ``min_face_size`` = 20,
  i.e. it looks for faces of at least a third of the tile — tiles of a face grid are filled by
  one face. Enlarging a 96-px tile to 160 px (the usual advice for small images) found the
  same faces (100 % of unseen crops at 64, 96 and 160 px) at three times the cost, so tiles are
  *shrunk* to 64 px instead. ``mtcnn`` builds its image pyramid from the image size and starts
  it at ``12 / min_face_size``: with ``min_face_size`` above about 24 its last level is smaller
  than PNet's 12-px window and the whole batch fails — earlier releases swallowed that error and
  reported "no face" for every image (the setting that "detected nothing at all"). The
  constructor refuses such settings (:func:`check_pyramid`). A face counts when ONet's
  probability is at least ``min_confidence`` = 0.9 (no false positive on blurred noise); weaker
  candidates down to 0.5 still give the image its confidence.
* **Haar** runs on 96-px grey images (``scaleFactor`` 1.1, ``minNeighbors`` 3, faces of at
  least 30 % of the side): lenient by design, a second opinion that only sees frontal faces.

The detectors take uint8 images ``(n, H, W, 3)`` (or floats in [0, 1]) and return one
:class:`Detection` per image, in batches (MTCNN: a few ms per image on two CPU cores).
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import EnvironmentProblem, InvalidInputError
from .rates import SetScore, score_set

__all__ = ["Detection", "MTCNNDetector", "HaarDetector", "DETECTOR_NAMES", "check_pyramid",
           "default_detector", "as_image_batch", "resize_batch", "judge_images"]

#: the detectors `latentexplorer score` runs, primary first
DETECTOR_NAMES = ("mtcnn", "haar")
#: MTCNN's five landmarks, in the order of its output columns
LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
#: PNet's input window: every level of the image pyramid must be at least this large
PNET_WINDOW = 12


@dataclass(frozen=True)
class Detection:
    """The judge's answer for one image.

    Attributes
    ----------
    found : bool
        A face with at least the detector's minimum confidence (Haar: any face).
    confidence : float or None
        Best face probability among the candidates (0 when there was none); None for Haar.
    box : (x, y, width, height) or None
        The best face in the input image's pixels.
    landmarks : dict or None
        MTCNN only: ``left_eye``, ``right_eye``, ``nose``, ``mouth_left``, ``mouth_right`` →
        ``(x, y)`` in the input image's pixels.
    n_faces : int
        Faces found (candidates at or above the minimum confidence).
    """

    found: bool
    confidence: float | None
    box: tuple[float, float, float, float] | None = None
    landmarks: dict[str, tuple[float, float]] | None = None
    n_faces: int = 0

    def to_dict(self) -> dict:
        return {"found": self.found, "confidence": self.confidence,
                "box": None if self.box is None else [round(float(v), 2) for v in self.box],
                "landmarks": None if self.landmarks is None else
                {k: [round(float(x), 2), round(float(y), 2)] for k, (x, y) in self.landmarks.items()},
                "n_faces": self.n_faces}


# --------------------------------------------------------------------------- images

def as_image_batch(images: Any) -> np.ndarray:
    """``images`` as uint8 ``(n, H, W, 3)``: one image ``(H, W, 3)``, greyscale ``(n, H, W, 1)``
    and floats in [0, 1] are accepted."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3) or arr.shape[0] < 1 or min(arr.shape[1:3]) < 1:
        raise InvalidInputError(f"images: expected shape (n, H, W, 3) with n >= 1, got {np.shape(images)}")
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.floating):
            raise InvalidInputError(f"images: expected uint8 (or float in [0, 1]), got {arr.dtype}")
        if not np.isfinite(arr).all():
            raise InvalidInputError("images: contain NaN or infinite values")
        arr = np.round(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return arr


def resize_batch(images: np.ndarray, size: int) -> np.ndarray:
    """Every image resized to ``size`` x ``size`` (area averaging to shrink, bilinear to enlarge)."""
    import cv2

    n, h, w, _ = images.shape
    if (h, w) == (size, size):
        return images
    interp = cv2.INTER_AREA if size < min(h, w) else cv2.INTER_LINEAR
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        out[i] = cv2.resize(images[i], (size, size), interpolation=interp)
    return out


def _batches(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield start, min(n, start + batch_size)


def _report(progress, done: int, total: int, message: str) -> None:
    if progress is not None:
        progress.raise_if_cancelled()
        progress.update(done, total, message)


# --------------------------------------------------------------------------- MTCNN

def check_pyramid(work_size: int, min_face_size: int, scale_factor: float) -> np.ndarray:
    """The image-pyramid scales ``mtcnn`` will use, or InvalidInputError when a level would be
    smaller than PNet's 12-px window (the batch would fail, or — in older releases — report no
    face at all)."""
    from .. import _env  # noqa: F401  (mtcnn imports TensorFlow: quiet its start-up)
    from mtcnn.utils.images import build_scale_pyramid

    scales = np.asarray(build_scale_pyramid(work_size, work_size, min_face_size=min_face_size,
                                            scale_factor=scale_factor, min_size=PNET_WINDOW))
    if scales.size == 0 or int(work_size * scales.min()) < PNET_WINDOW:
        smallest = 0 if scales.size == 0 else int(work_size * scales.min())
        raise InvalidInputError(
            f"MTCNN settings: work_size {work_size}, min_face_size {min_face_size}, scale_factor "
            f"{scale_factor:g} give a pyramid level of {smallest} px, below PNet's {PNET_WINDOW}-px "
            f"window (mtcnn then finds nothing); use min_face_size <= 20")
    return scales


def _int_option(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise InvalidInputError(f"{name}: expected an integer from {lo} to {hi}, got {value!r}")
    return int(value)


def _float_option(value, name: str, lo: float, hi: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}: expected a number, got {value!r}") from None
    if not (np.isfinite(v) and lo <= v <= hi):
        raise InvalidInputError(f"{name}: expected a number from {lo:g} to {hi:g}, got {value!r}")
    return v


class MTCNNDetector:
    """MTCNN face detector with pinned settings (see the module docstring).

    Parameters
    ----------
    work_size : int
        Side the images are resized to before detection (default 64).
    min_face_size : int
        Smallest face searched for, in pixels of the resized image (default 20).
    scale_factor : float
        Image-pyramid step (default 0.709, MTCNN's).
    thresholds : (float, float, float)
        PNet, RNet and ONet candidate thresholds (default 0.6, 0.7, 0.5).
    min_confidence : float
        ONet probability from which a candidate counts as a face (default 0.9).
    batch_size : int
        Images per call of the network (default 256).
    device : str
        TensorFlow device (default "CPU:0").
    """

    name = "mtcnn"

    def __init__(self, *, work_size: int = 64, min_face_size: int = 20, scale_factor: float = 0.709,
                 thresholds: Sequence[float] = (0.6, 0.7, 0.5), min_confidence: float = 0.9,
                 batch_size: int = 256, device: str = "CPU:0") -> None:
        self.work_size = _int_option(work_size, "work_size", 24, 1024)
        self.min_face_size = _int_option(min_face_size, "min_face_size", PNET_WINDOW, 1024)
        self.scale_factor = _float_option(scale_factor, "scale_factor", 0.1, 0.95)
        if len(tuple(thresholds)) != 3:
            raise InvalidInputError(
                f"thresholds: expected three numbers (PNet, RNet, ONet), got {thresholds!r}")
        self.thresholds = tuple(_float_option(t, "thresholds", 0.0, 1.0) for t in thresholds)
        self.min_confidence = _float_option(min_confidence, "min_confidence", 0.0, 1.0)
        self.batch_size = _int_option(batch_size, "batch_size", 1, 65_536)
        self.device = str(device)
        self.scales_ = check_pyramid(self.work_size, self.min_face_size, self.scale_factor)
        self._mtcnn = None

    @property
    def settings(self) -> dict:
        """The pinned settings, as recorded in every score."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            package = f"mtcnn {version('mtcnn')}"
        except PackageNotFoundError:
            package = "mtcnn (version unknown)"
        return {"package": package, "work_size": self.work_size,
                "min_face_size": self.min_face_size, "scale_factor": self.scale_factor,
                "thresholds": list(self.thresholds), "min_confidence": self.min_confidence}

    def _load(self):
        if self._mtcnn is not None:
            return self._mtcnn
        from .. import _env  # noqa: F401  (quiet TensorFlow start-up)
        import tensorflow as tf
        from mtcnn import MTCNN
        from mtcnn.stages import StageONet, StagePNet, StageRNet

        # absolute paths: given a bare name, mtcnn first loads "pnet.lz4" from the *current
        # folder* (a joblib pickle — never load one from wherever the user happens to be)
        weights = importlib.resources.files("mtcnn.assets.weights")
        try:
            stages = [cls(weights=str(weights / f)) for cls, f in
                      ((StagePNet, "pnet.lz4"), (StageRNet, "rnet.lz4"), (StageONet, "onet.lz4"))]
        except (FileNotFoundError, OSError) as exc:
            raise EnvironmentProblem(
                f"mtcnn: its weights cannot be loaded ({exc}); reinstall mtcnn==1.0.0") from None
        self._onet = stages[2].model
        for stage in stages:
            # a traced graph instead of eager layer calls: about 30 % faster on CPU (mtcnn 1.0.0
            # keeps the network in the stage's `_model`; without it the stage stays eager)
            if hasattr(stage, "_model"):
                stage._model = tf.function(stage.model, reduce_retracing=True)
        self._mtcnn = MTCNN(stages=stages, device=self.device)
        return self._mtcnn

    def detect(self, images: Any, *, progress=None) -> list[Detection]:
        """One :class:`Detection` per image of ``images`` ``(n, H, W, 3)``."""
        arr = as_image_batch(images)
        n, h, w, _ = arr.shape
        det = self._load()
        fx, fy = w / self.work_size, h / self.work_size
        out: list[Detection] = []
        for a, b in _batches(n, self.batch_size):
            _report(progress, a, n, "MTCNN")
            batch = resize_batch(arr[a:b], self.work_size).astype(np.float32)
            rows = det.detect_faces(list(batch), min_face_size=self.min_face_size,
                                    scale_factor=self.scale_factor,
                                    threshold_pnet=self.thresholds[0], threshold_rnet=self.thresholds[1],
                                    threshold_onet=self.thresholds[2], box_format="xyxy",
                                    output_type="numpy")
            rows = np.asarray(rows, dtype=np.float64).reshape(-1, 16)
            out.extend(self._per_image(rows, b - a, fx, fy))
        _report(progress, n, n, "MTCNN")
        return out

    def _per_image(self, rows: np.ndarray, count: int, fx: float, fy: float) -> list[Detection]:
        result = []
        ids = rows[:, 0].astype(int) if rows.size else np.empty(0, int)
        for i in range(count):
            mine = rows[ids == i]
            if mine.shape[0] == 0:
                result.append(Detection(found=False, confidence=0.0))
                continue
            best = mine[np.argmax(mine[:, 5])]
            conf = float(best[5])
            x1, y1, x2, y2 = best[1] * fx, best[2] * fy, best[3] * fx, best[4] * fy
            marks = {name: (float(best[6 + j] * fx), float(best[11 + j] * fy))
                     for j, name in enumerate(LANDMARKS)}
            n_faces = int((mine[:, 5] >= self.min_confidence).sum())
            result.append(Detection(found=conf >= self.min_confidence, confidence=conf,
                                    box=(float(x1), float(y1), float(x2 - x1), float(y2 - y1)),
                                    landmarks=marks, n_faces=n_faces))
        return result

    def embed(self, images: Any, *, batch_size: int = 512, progress=None) -> np.ndarray:
        """Face features of whole images: ONet's 256-d last hidden layer on the image at 48 px.

        ONet was trained to tell faces from non-faces and to place five landmarks on 48-px
        crops, so this layer describes face structure (eyes, nose, mouth, pose) and not the
        pixels of the model under test. Used by :mod:`latentexplorer.judge.coverage`.

        Returns
        -------
        features : ndarray of shape (n, 256), float32
        """
        import tensorflow as tf

        arr = as_image_batch(images)
        self._load()
        trunk = self._trunk
        n = arr.shape[0]
        out = np.empty((n, 256), np.float32)
        for a, b in _batches(n, batch_size):
            _report(progress, a, n, "features")
            x = (resize_batch(arr[a:b], 48).astype(np.float32) - 127.5) / 128.0
            out[a:b] = trunk(tf.constant(x)).numpy()
        _report(progress, n, n, "features")
        return out

    @functools.cached_property
    def _trunk(self):
        """ONet up to its 256-d hidden layer, traced once."""
        import tensorflow as tf

        onet = self._onet
        names = ("conv1", "prelu1", "maxpool1", "conv2", "prelu2", "maxpool2", "conv3", "prelu3",
                 "maxpool3", "conv4", "prelu4", "permute", "flatten", "fc5", "prelu5")
        missing = [name for name in names if not hasattr(onet, name)]
        if missing:
            raise EnvironmentProblem(f"mtcnn: ONet has no layer {missing[0]!r}; install mtcnn==1.0.0")
        layers = [getattr(onet, name) for name in names]

        @tf.function(reduce_retracing=True)
        def trunk(x):
            for layer in layers:
                x = layer(x)
            return x
        return trunk


# --------------------------------------------------------------------------- Haar

class HaarDetector:
    """OpenCV's Haar frontal-face cascade (Viola & Jones), lenient by design.

    Parameters
    ----------
    work_size : int
        Side the images are resized to (default 96).
    scale_factor : float
        ``detectMultiScale`` scale step (default 1.1).
    min_neighbors : int
        Overlapping hits a face needs (default 3).
    min_face_fraction : float
        Smallest face as a fraction of the side (default 0.3).
    """

    name = "haar"
    CASCADE = "haarcascade_frontalface_default.xml"

    def __init__(self, *, work_size: int = 96, scale_factor: float = 1.1, min_neighbors: int = 3,
                 min_face_fraction: float = 0.3) -> None:
        self.work_size = _int_option(work_size, "work_size", 24, 1024)
        self.scale_factor = _float_option(scale_factor, "scale_factor", 1.01, 2.0)
        self.min_neighbors = _int_option(min_neighbors, "min_neighbors", 0, 100)
        self.min_face_fraction = _float_option(min_face_fraction, "min_face_fraction", 0.0, 1.0)
        self._cascade = None

    @property
    def settings(self) -> dict:
        import cv2

        return {"package": f"opencv {cv2.__version__}", "cascade": self.CASCADE,
                "work_size": self.work_size, "scale_factor": self.scale_factor,
                "min_neighbors": self.min_neighbors, "min_face_fraction": self.min_face_fraction}

    def _load(self):
        if self._cascade is None:
            import cv2

            folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
            cascade = cv2.CascadeClassifier(str(folder) + "/" + self.CASCADE) if folder else None
            if cascade is None or cascade.empty():
                raise EnvironmentProblem(
                    f"OpenCV {cv2.__version__} has no {self.CASCADE}; install "
                    "opencv-python-headless below 5 (the 5.x wheels do not ship the cascades)")
            self._cascade = cascade
        return self._cascade

    def detect(self, images: Any, *, progress=None) -> list[Detection]:
        """One :class:`Detection` per image (``confidence`` is None: the cascade has none)."""
        import cv2

        arr = as_image_batch(images)
        n, h, w, _ = arr.shape
        cascade = self._load()
        side = max(1, int(round(self.min_face_fraction * self.work_size)))
        fx, fy = w / self.work_size, h / self.work_size
        out = []
        for a, b in _batches(n, 256):
            _report(progress, a, n, "Haar")
            for img in resize_batch(arr[a:b], self.work_size):
                grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
                faces = cascade.detectMultiScale(grey, scaleFactor=self.scale_factor,
                                                 minNeighbors=self.min_neighbors,
                                                 minSize=(side, side))
                if len(faces) == 0:
                    out.append(Detection(found=False, confidence=None))
                    continue
                x, y, bw, bh = max(faces, key=lambda f: f[2] * f[3])   # the largest face
                out.append(Detection(found=True, confidence=None,
                                     box=(x * fx, y * fy, bw * fx, bh * fy), n_faces=len(faces)))
        _report(progress, n, n, "Haar")
        return out


# --------------------------------------------------------------------------- both

@functools.lru_cache(maxsize=None)
def default_detector(name: str):
    """The detector ``name`` ("mtcnn" or "haar") with its pinned settings, loaded once per process."""
    if name == "mtcnn":
        return MTCNNDetector()
    if name == "haar":
        return HaarDetector()
    raise InvalidInputError(f"detector: expected one of {', '.join(DETECTOR_NAMES)}, got {name!r}")


def judge_images(images: Any, detectors: Sequence = DETECTOR_NAMES, *, progress=None
                 ) -> dict[str, tuple[list[Detection], SetScore]]:
    """Run each detector on ``images`` and score the set.

    Parameters
    ----------
    images : ndarray of shape (n, H, W, 3), uint8 (or float in [0, 1])
    detectors : sequence of names or detector objects
        Default: MTCNN and Haar with their pinned settings.

    Returns
    -------
    dict
        ``name -> (detections, SetScore)``; the score holds the rate, its 95 % Wilson interval
        and the mean confidence (see :class:`~latentexplorer.judge.rates.SetScore`).
    """
    arr = as_image_batch(images)
    result = {}
    for d in detectors:
        det = default_detector(d) if isinstance(d, str) else d
        found = det.detect(arr, progress=progress)
        conf = None if found and found[0].confidence is None else [f.confidence for f in found]
        result[det.name] = (found, score_set(det.name, [f.found for f in found], conf, det.settings))
    return result
