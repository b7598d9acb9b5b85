"""Replaying the time-lapse: the probe subset's latents of every recorded epoch in one stable 2-D
basis, its probe faces, and the export of the frames (no Qt).

The basis is the *last* recorded epoch's PCA; each earlier frame is rotated / reflected onto the
frame after it (already aligned) by orthogonal Procrustes in a 16-dimensional PCA subspace — the
:class:`~latentexplorer.explore.projection.StableProjector`, fed the frames from the last to the
first. So the final picture is the trained model's own PCA view, and the cloud does not jump when
PCA axes flip or swap between epochs. No scaling: a cloud that grows or shrinks does so on screen
(all frames share one set of axes).

Probe faces: only the last epoch's decoder is kept, so decoding an early epoch's latents would show
what *today's* decoder makes of them, not what the model produced then. The replay therefore shows
a few probe images' *original* thumbnails next to their moving points: the same images, frame after
frame, picked spread over the last frame's cloud.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InvalidInputError
from ..fileio import atomic_files, json_text
from .projection import ALIGN_DIM, StableProjector

EXPORT_FORMAT = "latentexplorer-timelapse-export/1"
#: probe images whose thumbnails accompany their points
N_FACES = 6
#: one colour per probe face (matplotlib's tab10), in the scatter, the thumbnails and the export
FACE_COLORS = ((214, 39, 40), (255, 127, 14), (44, 160, 44), (148, 103, 189), (140, 86, 75),
               (227, 119, 194), (23, 190, 207), (188, 189, 34), (127, 127, 127), (31, 119, 180))
#: side of one exported frame in pixels; frames per row of the exported sheet
EXPORT_SIZE, EXPORT_COLS = 160, 8
BASIS_TEXT = ("last epoch's PCA; each earlier epoch rotated onto the next one (orthogonal "
              "Procrustes, no scaling)")


def pick_faces(xy: np.ndarray, n: int = N_FACES) -> np.ndarray:
    """Rows of ``xy`` (m, 2) spread over the cloud: the point nearest the centre, then each time
    the point farthest from those picked (deterministic). Returns (min(n, m),) int64."""
    xy = np.asarray(xy, dtype=np.float64)
    n = min(int(n), len(xy))
    if n <= 0:
        return np.zeros(0, np.int64)
    centre = np.median(xy, axis=0)
    picked = [int(np.argmin(np.sum((xy - centre) ** 2, axis=1)))]
    dist = np.sum((xy - xy[picked[0]]) ** 2, axis=1)
    while len(picked) < n:
        nxt = int(np.argmax(dist))
        if dist[nxt] <= 0:  # fewer distinct points than faces
            break
        picked.append(nxt)
        dist = np.minimum(dist, np.sum((xy - xy[nxt]) ** 2, axis=1))
    return np.asarray(picked, dtype=np.int64)


class TimelapseReplay:
    """Fit one stable 2-D basis to successive encodings of the same images.

    Parameters
    ----------
    n_faces : int
        Probe faces to pick (:func:`pick_faces` on the last frame).
    align_dim : int
        Dimension of the PCA subspace in which frames are aligned.

    Attributes
    ----------
    xy_ : ndarray of shape (n_frames, m, 2), float32
        Every frame in the common basis.
    limits_ : tuple of float
        ``(xmin, xmax, ymin, ymax)`` over all frames, with a 5 % margin (shared axes).
    faces_ : ndarray of shape (n_faces,), int64
        Rows (of the m probe images) of the probe faces.
    """

    def __init__(self, n_faces: int = N_FACES, align_dim: int = ALIGN_DIM) -> None:
        self.n_faces = n_faces
        self.align_dim = align_dim

    def fit(self, frames: Sequence[np.ndarray]) -> "TimelapseReplay":
        """``frames``: the encodings (m, z_dim) of the same m images, oldest first."""
        if len(frames) == 0:
            raise InvalidInputError("time-lapse: no frames to replay")
        shapes = {np.shape(f) for f in frames}
        if len(shapes) != 1:
            raise InvalidInputError(f"time-lapse: frames of different shapes {sorted(shapes)}")
        projector = StableProjector(self.align_dim)
        xy = [projector.project(f) for f in reversed(frames)][::-1]
        self.xy_ = np.stack(xy).astype(np.float32)
        lo, hi = self.xy_.reshape(-1, 2).min(axis=0), self.xy_.reshape(-1, 2).max(axis=0)
        pad = np.maximum((hi - lo) * 0.05, 1e-6)
        self.limits_ = (float(lo[0] - pad[0]), float(hi[0] + pad[0]),
                        float(lo[1] - pad[1]), float(hi[1] + pad[1]))
        self.faces_ = pick_faces(self.xy_[-1], self.n_faces)
        return self


@dataclass(frozen=True)
class Replay:
    """What the time-lapse panel shows and exports: the fitted frames and their context.

    ``losses`` / ``val_losses`` hold the epoch's total loss per image (NaN where the history has
    none); ``face_images`` (n_faces, H, W, 3) uint8 are the probe faces' original images;
    ``kept`` says whether the last frame's weights are the workspace's current ones.
    """

    epochs: np.ndarray
    xy: np.ndarray
    limits: tuple
    indices: np.ndarray
    filenames: list
    faces: np.ndarray
    face_images: np.ndarray
    losses: np.ndarray
    val_losses: np.ndarray
    fingerprints: list
    kept: bool = True
    workspace: str = ""

    @property
    def n_frames(self) -> int:
        return int(len(self.epochs))


def load_replay(ws, n_faces: int = N_FACES) -> Replay:
    """Read ``ws``'s recorded time-lapse, fit the stable basis, attach losses and probe faces.

    Raises
    ------
    InvalidInputError
        Nothing recorded, or one clear line naming the damaged file.
    """
    rec = ws.timelapse().load()
    replay = TimelapseReplay(n_faces=n_faces).fit(rec.frames)
    store = ws.dataset()
    if int(rec.indices[-1]) >= store.n:
        raise InvalidInputError(f"{ws.timelapse().meta_path}: probe image {int(rec.indices[-1])} is "
                                f"beyond the store's {store.n} images (the store changed)")
    rows = {r["epoch"]: r for r in ws.history()}

    def loss(key: str) -> np.ndarray:
        return np.asarray([float(rows.get(int(e), {}).get(key, math.nan)) for e in rec.epochs])

    face_idx = rec.indices[replay.faces_]
    return Replay(epochs=rec.epochs, xy=replay.xy_, limits=replay.limits_, indices=rec.indices,
                  filenames=[store.filenames[int(i)] for i in rec.indices], faces=replay.faces_,
                  face_images=store.batch(face_idx), losses=loss("total_loss"),
                  val_losses=loss("val_total_loss"), fingerprints=rec.fingerprints,
                  kept=rec.fingerprints[-1] == ws.model_fingerprint(), workspace=str(ws.path))


# ---------------------------------------------------------------------- export
def render_frame(xy: np.ndarray, limits: Sequence[float], faces: Sequence[int] = (),
                 size: int = EXPORT_SIZE) -> np.ndarray:
    """One frame as a uint8 image (size, size, 3) in a light grey frame: the cloud as grey-blue
    dots, the probe faces as larger dots in their colours (:data:`FACE_COLORS`)."""
    img = np.full((size, size, 3), 255, np.uint8)
    img[[0, -1], :] = img[:, [0, -1]] = 205  # a light frame: the sheet's frames stay apart
    x0, x1, y0, y1 = limits
    col = np.clip(((xy[:, 0] - x0) / max(x1 - x0, 1e-12) * (size - 1)).round().astype(int), 0, size - 1)
    row = np.clip(((y1 - xy[:, 1]) / max(y1 - y0, 1e-12) * (size - 1)).round().astype(int), 0, size - 1)
    for dy in (0, 1):
        for dx in (0, 1):
            img[np.minimum(row + dy, size - 1), np.minimum(col + dx, size - 1)] = (70, 110, 170)
    for k, i in enumerate(faces):
        r, c = row[i], col[i]
        img[max(r - 2, 0):r + 3, max(c - 2, 0):c + 3] = FACE_COLORS[k % len(FACE_COLORS)]
    return img


def export_replay(path_png: str | Path, replay: Replay, *, size: int = EXPORT_SIZE,
                  cols: int = EXPORT_COLS) -> tuple[Path, Path]:
    """Write every frame as one PNG sheet (``cols`` frames per row, "epoch N" under each) and a
    JSON sidecar (``PATH.json``: epochs, losses, the 2-D points of every frame, the probe images'
    store rows and file names, the probe faces, the weights fingerprints), committed as one unit.
    Returns ``(png, json)``."""
    from ..outputs import check_output
    from ..render.images import make_grid

    path_png = Path(path_png)
    if path_png.suffix.lower() != ".png":
        path_png = path_png.with_name(path_png.name + ".png")
    sidecar = path_png.with_suffix(".json")
    check_output(path_png, kind="file", derived=[(sidecar, EXPORT_FORMAT)])
    frames = np.stack([render_frame(xy, replay.limits, replay.faces, size) for xy in replay.xy])
    sheet = make_grid(frames, cols=min(cols, len(frames)),
                      labels=[f"epoch {int(e)}" for e in replay.epochs])

    def finite(values) -> list:
        return [float(v) if math.isfinite(v) else None for v in values]

    record = {
        "format": EXPORT_FORMAT, "png": path_png.name, "workspace": replay.workspace,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "basis": BASIS_TEXT, "limits": list(replay.limits),
        "epochs": [int(e) for e in replay.epochs], "total_loss": finite(replay.losses),
        "val_total_loss": finite(replay.val_losses), "fingerprints": list(replay.fingerprints),
        "indices": [int(i) for i in replay.indices], "filenames": list(replay.filenames),
        "faces": [{"row": int(r), "index": int(replay.indices[r]), "file": replay.filenames[r],
                   "color": list(FACE_COLORS[k % len(FACE_COLORS)])}
                  for k, r in enumerate(replay.faces)],
        "xy": [[[float(v) for v in p] for p in frame] for frame in replay.xy],
    }
    with atomic_files(path_png, sidecar) as (tmp_png, tmp_json):
        sheet.save(tmp_png, format="PNG")
        tmp_json.write_text(json_text(record), encoding="utf-8")
    return path_png, sidecar
