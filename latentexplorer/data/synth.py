"""Embedded synthetic face dataset: procedural, colour, anti-aliased, shaded cartoon-realistic faces.

This is the default dataset so that the whole program works offline. Every image is drawn from a
vector of named *factors* (:data:`FACTOR_NAMES`), stored with the image as its attributes so the
latent space can be coloured by them (like CelebA's 40 attributes).

Determinism: the factors of global image index ``i`` come from ``np.random.default_rng([seed, i])``
and rendering is purely per image, so image ``i`` depends only on ``(seed, i)`` — any chunking of the
index range gives identical bytes.

Rendering works in normalised coordinates (the image spans [-1, 1] in both axes) on coordinate grids
of shape ``(batch, H, W)``; every shape is a signed-distance field ``d`` (negative inside) turned into
coverage with a one-pixel linear ramp ``clip(0.5 - d / pixel, 0, 1)`` — that is the anti-aliasing —
and composited back to front. Any size >= 16 renders directly.

Factor ranges (all float32):

* binary, +1 / -1 like CelebA: ``male``, ``bald``, ``beard``, ``glasses``
* [0, 1]: ``skin_tone`` (0 very light .. 1 very dark), ``hair_lightness`` (0 black .. 1 platinum),
  ``hair_redness``, ``hair_length`` (0 cropped .. 1 shoulder long), ``hair_volume``, ``fringe``,
  ``iris_color`` (0 dark brown .. 1 light blue), ``brow_darkness``, ``mouth_open``, ``lip_color``,
  ``background_hue``, ``background_brightness``, ``light_contrast``, ``clothing_hue``
* [-1, 1]: everything else (0 = average face; e.g. ``smile`` -1 frown .. +1 broad smile,
  ``light_direction`` -1 light from the image's left .. +1 from the right, ``head_tilt`` ±12 degrees)

Correlations built in (as in real faces): hair and iris colour with skin tone, brow darkness with hair
colour, mouth opening and eye squint with smile, hair length / volume / beard / baldness / jaw and lip
colour with ``male``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..progress import ProgressReporter
from .store import DatasetStore, StoreWriter

GENERATOR_ID = "latentexplorer.synth/1"
MIN_SIZE = 16
CHUNK = 16  # images rendered at once: (16, 96, 96) float32 grids (0.6 MB) stay in cache and, unlike
#             larger chunks, are recycled by malloc instead of page-faulted in afresh (~40 % of the time)

FACTOR_NAMES: list[str] = [
    "male", "skin_tone", "face_width", "face_height", "jaw_width",
    "hair_lightness", "hair_redness", "hair_length", "hair_volume", "fringe", "hair_part", "bald",
    "eye_size", "eye_spacing", "iris_color", "gaze_x", "brow_darkness", "brow_raise",
    "nose_length", "nose_width", "smile", "mouth_open", "mouth_width", "lip_color",
    "beard", "glasses",
    "head_shift_x", "head_shift_y", "head_tilt", "head_scale",
    "background_hue", "background_brightness", "light_direction", "light_contrast", "clothing_hue",
]
_IDX = {name: j for j, name in enumerate(FACTOR_NAMES)}
BINARY_FACTORS = ("male", "bald", "beard", "glasses")          # values exactly -1 or +1
_UNIT_FACTORS = ("skin_tone", "hair_lightness", "hair_redness", "hair_length", "hair_volume", "fringe",
                 "iris_color", "brow_darkness", "mouth_open", "lip_color", "background_hue",
                 "background_brightness", "light_contrast", "clothing_hue")
#: documented value range of every factor (closed intervals)
FACTOR_RANGES: dict[str, tuple[float, float]] = {
    name: (0.0, 1.0) if name in _UNIT_FACTORS else (-1.0, 1.0) for name in FACTOR_NAMES}
_N_UNIFORM = 24
_N_NORMAL = 12

# Reference colours (linear-ish RGB in [0, 1]); skin and hair are interpolated along these ramps.
_SKIN_RAMP = np.array([[0.98, 0.84, 0.74], [0.90, 0.70, 0.56], [0.74, 0.52, 0.36],
                       [0.52, 0.34, 0.22], [0.33, 0.21, 0.14]], dtype=np.float32)
_HAIR_RAMP = np.array([[0.07, 0.055, 0.05], [0.22, 0.13, 0.07], [0.42, 0.27, 0.13],
                       [0.66, 0.49, 0.27], [0.92, 0.82, 0.58]], dtype=np.float32)
_HAIR_RED = np.array([0.62, 0.22, 0.07], dtype=np.float32)
_IRIS_RAMP = np.array([[0.22, 0.12, 0.05], [0.42, 0.30, 0.12], [0.30, 0.42, 0.22],
                       [0.30, 0.50, 0.72]], dtype=np.float32)


# --------------------------------------------------------------------------------------------
# factors

def _check_args(n: int, size: int, seed: int, start: int) -> None:
    if int(n) != n or n < 0:
        raise InvalidInputError(f"n={n!r}: expected a non-negative integer number of images")
    if int(size) != size or size < MIN_SIZE:
        raise InvalidInputError(f"size={size!r}: expected an integer image size >= {MIN_SIZE}")
    if int(seed) != seed or seed < 0:
        raise InvalidInputError(f"seed={seed!r}: expected a non-negative integer")
    if int(start) != start or start < 0:
        raise InvalidInputError(f"start={start!r}: expected a non-negative integer image index")


def draw_factors(n: int, seed: int = 0, start: int = 0) -> np.ndarray:
    """Factor values of images ``start .. start + n - 1``.

    Each index gets its own generator ``default_rng([seed, index])`` (about 10 µs each), so
    the values do not depend on how the index range is chunked.

    Returns
    -------
    factors : ndarray of float32, shape (n, len(FACTOR_NAMES))
    """
    _check_args(n, MIN_SIZE, seed, start)
    u = np.empty((n, _N_UNIFORM), dtype=np.float64)
    g = np.empty((n, _N_NORMAL), dtype=np.float64)
    for k in range(n):
        rng = np.random.default_rng([int(seed), int(start) + k])
        u[k] = rng.random(_N_UNIFORM)
        g[k] = rng.standard_normal(_N_NORMAL)
    return _factors_from_noise(u, g)


def _factors_from_noise(u: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Map uniforms ``u`` (n, 24) and normals ``g`` (n, 12) to factors (n, F) with correlations."""
    f = np.zeros((u.shape[0], len(FACTOR_NAMES)), dtype=np.float64)

    def pm(mask):  # boolean -> +1 / -1
        return np.where(mask, 1.0, -1.0)

    male = pm(u[:, 0] < 0.45)
    m01 = (male + 1) / 2
    skin = 0.02 + 0.96 * u[:, 1] ** 1.35
    f[:, _IDX["male"]] = male
    f[:, _IDX["skin_tone"]] = skin
    f[:, _IDX["face_width"]] = 2 * u[:, 2] - 1
    f[:, _IDX["face_height"]] = 2 * u[:, 3] - 1
    f[:, _IDX["jaw_width"]] = np.clip(0.4 * male + 0.45 * g[:, 0], -1, 1)
    # darker skin -> darker hair (and brows, irises): the main colour correlations of real faces
    hair_light = np.clip(u[:, 4] ** 1.3 * (1.0 - 0.92 * skin), 0, 1)
    f[:, _IDX["hair_lightness"]] = hair_light
    f[:, _IDX["hair_redness"]] = np.clip(4.0 * (u[:, 5] - 0.8), 0, 1) * (1 - skin)  # rare
    bald = pm((male > 0) & (u[:, 6] < 0.18))
    length = np.where(male > 0, 0.3 * u[:, 7], 0.3 + 0.7 * u[:, 7]) * (bald < 0)
    f[:, _IDX["hair_length"]] = length
    f[:, _IDX["hair_volume"]] = u[:, 8] * (1 - 0.5 * m01)
    f[:, _IDX["fringe"]] = np.clip(1.3 * u[:, 9] - 0.15, 0, 1) * (bald < 0)
    f[:, _IDX["hair_part"]] = 2 * u[:, 10] - 1
    f[:, _IDX["bald"]] = bald
    f[:, _IDX["eye_size"]] = 2 * u[:, 11] - 1
    f[:, _IDX["eye_spacing"]] = 2 * u[:, 12] - 1
    f[:, _IDX["iris_color"]] = np.clip(u[:, 13] * (1.15 - 1.1 * skin), 0, 1)
    f[:, _IDX["gaze_x"]] = np.clip(0.4 * g[:, 1], -1, 1)
    f[:, _IDX["brow_darkness"]] = np.clip(0.95 - 0.7 * hair_light + 0.12 * g[:, 2], 0, 1)
    f[:, _IDX["brow_raise"]] = np.clip(0.45 * g[:, 3], -1, 1)
    f[:, _IDX["nose_length"]] = 2 * u[:, 14] - 1
    f[:, _IDX["nose_width"]] = np.clip(2 * u[:, 15] - 1 + 0.2 * (skin - 0.5), -1, 1)
    smile = np.clip(0.25 + 0.5 * g[:, 4], -1, 1)
    f[:, _IDX["smile"]] = smile
    # a broad smile usually opens the mouth
    f[:, _IDX["mouth_open"]] = np.clip(0.7 * np.maximum(smile, 0) + 0.22 * g[:, 5] - 0.1, 0, 1)
    f[:, _IDX["mouth_width"]] = 2 * u[:, 16] - 1
    f[:, _IDX["lip_color"]] = np.clip(u[:, 17] * (1.0 - 0.7 * m01), 0, 1)
    f[:, _IDX["beard"]] = pm((male > 0) & (u[:, 18] < 0.3))
    f[:, _IDX["glasses"]] = pm(u[:, 19] < 0.2)
    f[:, _IDX["head_shift_x"]] = np.clip(0.4 * g[:, 6], -1, 1)
    f[:, _IDX["head_shift_y"]] = np.clip(0.4 * g[:, 7], -1, 1)
    f[:, _IDX["head_tilt"]] = np.clip(0.4 * g[:, 8], -1, 1)
    f[:, _IDX["head_scale"]] = np.clip(0.45 * g[:, 9], -1, 1)
    f[:, _IDX["background_hue"]] = u[:, 20]
    f[:, _IDX["background_brightness"]] = u[:, 21]
    f[:, _IDX["light_direction"]] = 2 * u[:, 22] - 1
    f[:, _IDX["light_contrast"]] = u[:, 23]
    f[:, _IDX["clothing_hue"]] = (u[:, 20] + 0.35 + 0.3 * np.tanh(g[:, 10])) % 1.0
    return f.astype(np.float32)


# --------------------------------------------------------------------------------------------
# drawing primitives
#
# The canvas is planar, shape (3, B, H, W): with channels first NumPy's inner loops run along
# contiguous rows (an NHWC canvas, whose innermost axis has length 3, composites ~4x slower).
# Coverage / distance arrays are (B, H, W); per-image parameters are (B, 1, 1).

def _cov(d, px):
    """Coverage of an SDF ``d`` (negative inside) with a one-pixel linear edge; ``px`` = pixel size."""
    return np.clip(0.5 - d / px, 0.0, 1.0)


def _ellipse(x, y, a, b):
    """Approximate signed distance to an axis-aligned ellipse with half-axes a, b centred at 0.

    First-order estimate ``k0 (k0 - 1) / k1`` — exact on the boundary, which is all the one-pixel
    anti-aliasing ramp needs.
    """
    k0 = np.sqrt((x / a) ** 2 + (y / b) ** 2)
    k1 = np.sqrt((x / (a * a)) ** 2 + (y / (b * b)) ** 2) + 1e-6
    return k0 * (k0 - 1.0) / k1


def _over(canvas, colour, alpha):
    """Composite in place: canvas (3,B,H,W), colour (3,B,1,1) / (3,B,H,W) / (3,1,1,1), alpha (B,H,W)."""
    t = canvas - colour
    t *= alpha
    canvas -= t


def _ramp(table, t):
    """Piecewise-linear colour ramp: ``t`` in [0, 1] of shape (B,) -> colours (B, 3)."""
    pos = np.clip(t, 0, 1) * (len(table) - 1)
    i = np.minimum(pos.astype(int), len(table) - 2)
    w = (pos - i)[:, None]
    return (table[i] * (1 - w) + table[i + 1] * w).astype(np.float32)


def _hsv(h, s, v):
    """HSV -> RGB for arrays of shape (B,); returns (B, 3)."""
    h6 = (h % 1.0) * 6.0
    c = v * s
    xx = c * (1 - np.abs(h6 % 2 - 1))
    z = np.zeros_like(h)
    sector = h6.astype(int) % 6
    r = np.choose(sector, [c, xx, z, z, xx, c])
    g = np.choose(sector, [xx, c, c, xx, z, z])
    b = np.choose(sector, [z, z, xx, c, c, xx])
    m = v - c
    return np.stack([r + m, g + m, b + m], axis=1).astype(np.float32)


def _col(rgb):
    """Per-image colours (B, 3) -> (3, B, 1, 1)."""
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.float32).T)[:, :, None, None]


def _rgb(r, g, b):
    """One colour for every image -> (3, 1, 1, 1)."""
    return np.array([r, g, b], dtype=np.float32)[:, None, None, None]


# --------------------------------------------------------------------------------------------
# pose and geometry

_BASE_SCALE = 1.15    # face size relative to the image, chosen to fill the frame about like CelebA
_MAX_TILT = 12.0      # degrees at |head_tilt| = 1
_SHIFT_U, _SHIFT_V, _CENTRE_V = 0.10, 0.08, 0.07
# Box (face-local units) that holds eyes, brows, nose and mouth for every factor setting; these
# features are only computed inside its image-space bounding window, about 45 % of the pixels.
_FEATURE_BOX = (-0.37, 0.37, -0.28, 0.48)


def _pose(P):
    """Per-image pose (B,1,1) arrays: scale, cos, sin of the tilt, centre (u, v)."""
    s = _BASE_SCALE * (1.0 + 0.13 * P["head_scale"])
    ang = float(np.deg2rad(_MAX_TILT)) * P["head_tilt"]
    return s, np.cos(ang), np.sin(ang), _SHIFT_U * P["head_shift_x"], \
        _CENTRE_V + _SHIFT_V * P["head_shift_y"]


def _local(pose, u, v):
    """Face-local coordinates (x right, y down; face centre 0) of the pixel grid ``v`` x ``u``.

    Parameters
    ----------
    u, v : ndarray (W',), (H',) pixel-centre image coordinates in [-1, 1]

    Returns
    -------
    x, y : ndarray float32, shape (B, H', W')
    """
    s, ca, sa, cu, cv = pose
    du = u[None, None, :] - cu
    dv = v[None, :, None] - cv
    return (ca * du + sa * dv) / s, (ca * dv - sa * du) / s


def _feature_window(size: int) -> tuple[int, int, int, int]:
    """Fixed pixel window (r0, r1, c0, c1) containing :data:`_FEATURE_BOX` for every pose.

    Fixed per size (never per chunk) so that the result of an image does not depend on its chunk.
    """
    x0, x1, y0, y1 = _FEATURE_BOX
    us, vs = [], []
    for scale in (1 - 0.13, 1 + 0.13):
        for deg in np.linspace(-_MAX_TILT, _MAX_TILT, 25):
            t = np.deg2rad(deg)
            for x in (x0, x1):
                for y in (y0, y1):
                    s = _BASE_SCALE * scale
                    us.append(s * (np.cos(t) * x - np.sin(t) * y))
                    vs.append(s * (np.sin(t) * x + np.cos(t) * y))
    u0, u1 = min(us) - _SHIFT_U, max(us) + _SHIFT_U
    v0, v1 = min(vs) + _CENTRE_V - _SHIFT_V, max(vs) + _CENTRE_V + _SHIFT_V

    def pix(c):
        return (c + 1) / 2 * size

    c0, c1 = max(0, int(pix(u0)) - 2), min(size, int(np.ceil(pix(u1))) + 2)
    r0, r1 = max(0, int(pix(v0)) - 2), min(size, int(np.ceil(pix(v1))) + 2)
    return r0, r1, c0, c1


# --------------------------------------------------------------------------------------------
# rendering

def render_faces(factors: np.ndarray, size: int = 96) -> np.ndarray:
    """Render faces from factor rows (see :data:`FACTOR_NAMES` for the columns).

    Parameters
    ----------
    factors : ndarray, shape (n, len(FACTOR_NAMES))
    size : int, >= 16

    Returns
    -------
    images : ndarray of uint8, shape (n, size, size, 3)
    """
    factors = np.asarray(factors, dtype=np.float32)
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_NAMES):
        raise InvalidInputError(
            f"factors: shape {factors.shape}, expected (n, {len(FACTOR_NAMES)})")
    _check_args(factors.shape[0], size, 0, 0)
    out = np.empty((factors.shape[0], size, size, 3), dtype=np.uint8)
    for s in range(0, factors.shape[0], CHUNK):
        img = _render_chunk(factors[s:s + CHUNK], int(size))
        out[s:s + CHUNK] = np.moveaxis(np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8), 0, -1)
    return out


def _render_chunk(fac: np.ndarray, size: int) -> np.ndarray:
    """Planar float32 canvas (3, B, size, size) in [0, 1] (may overshoot; clipped by the caller)."""
    B = fac.shape[0]
    f32 = np.float32
    F = {name: fac[:, j] for j, name in enumerate(FACTOR_NAMES)}
    P = {name: v[:, None, None] for name, v in F.items()}
    lin = (np.arange(size, dtype=f32) + 0.5) / size * 2 - 1
    pose = _pose(P)
    x, y = _local(pose, lin, lin)
    px = (2.0 / size) / pose[0]                   # one pixel in face-local units, (B,1,1)
    light = P["light_direction"]
    contrast = 0.35 + 0.45 * P["light_contrast"]

    # colours (B, 3)
    skin = _ramp(_SKIN_RAMP, F["skin_tone"])
    red = F["hair_redness"][:, None]
    hair = _ramp(_HAIR_RAMP, F["hair_lightness"]) * (1 - red) + _HAIR_RED * red
    bright = F["background_brightness"]
    bg = _hsv(F["background_hue"], 0.12 + 0.35 * (1 - bright), 0.35 + 0.6 * bright)
    cloth = _hsv(F["clothing_hue"], np.full(B, 0.5, f32), 0.25 + 0.45 * (1 - bright))

    # background, brighter towards the light
    img = np.empty((3, B, size, size), dtype=f32)
    img[:] = _col(bg) * (1.0 + 0.18 * light * lin[None, None, :] - 0.08 * lin[None, :, None])

    # shoulders and neck
    d_sh = _ellipse(x, y - 1.25, 0.98, 0.55)
    _over(img, _col(cloth) * (1.0 + 0.25 * light * x), _cov(d_sh, px))
    neck_w = 0.19 + 0.025 * P["male"]
    d_neck = np.maximum(np.maximum(np.abs(x) - neck_w, 0.3 - y), y - 1.0)
    neck_shade = 0.6 + 0.25 * np.clip((y - 0.5) / 0.25, 0, 1) + 0.08 * light * x
    _over(img, _col(skin) * neck_shade, _cov(d_neck, px))

    # hair behind the head: a cap round the skull, reaching down to `cut` (long hair falls lower)
    a = 0.42 * (1 + 0.08 * P["face_width"])      # face half width
    b = 0.60 * (1 + 0.06 * P["face_height"])     # face half height
    vol, length = P["hair_volume"], P["hair_length"]
    bald = P["bald"] > 0
    ax = a + 0.06 + 0.10 * vol
    ay = b * 0.92 + 0.04 + 0.10 * vol
    cap_y = -0.10
    d_cap = _ellipse(x, y - cap_y, ax, ay)
    cut = 0.02 + 0.95 * length
    flare = 1.0 + 0.3 * np.clip(y - 0.2, 0, None) * length
    bottom = y - cut + 0.08 * (x / ax) ** 2 - 0.012 * np.sin(x * 45.0)
    d_long = np.maximum(np.maximum(np.abs(x) / flare - ax, -0.1 - y), bottom)
    d_back = np.minimum(np.maximum(d_cap, bottom), d_long)
    # bald: only a fringe of hair above the ears
    d_side = _ellipse(np.abs(x) - a + 0.01, y + 0.08, 0.06, 0.15)
    d_back = np.where(bald, d_side, d_back)
    # strands: period 2*pi/70 ~ 0.09 units; faded out where that is under ~3 pixels (would alias)
    strand_amp = 0.06 * np.clip((0.09 / px - 2.0) / 2.0, 0, 1)
    hair_tex = 1.0 + strand_amp * np.sin(70.0 * x + 3.0 * np.sin(5.0 * y))
    hair_shade = (0.72 + 0.4 * np.clip(0.5 + 0.5 * light * x / ax - 0.4 * (y - cap_y), 0, 1)) * hair_tex
    _over(img, _col(hair) * (0.8 * hair_shade), _cov(d_back, px))

    # ears, a little darker than the face, with a shaded inner ear
    ex = np.abs(x) - a + 0.005
    ear_a = _cov(_ellipse(ex, y + 0.03, 0.06, 0.105), px)
    _over(img, _col(skin) * (0.88 + 0.1 * light * np.sign(x)), ear_a)
    _over(img, _col(skin) * 0.65, _cov(_ellipse(ex - 0.01, y + 0.03, 0.025, 0.06), px) * ear_a)

    # face oval; the jaw narrows towards the chin (less so for a wide jaw)
    yb = np.clip(y / b, 0, 1)
    jaw = 1.0 - (0.22 - 0.12 * P["jaw_width"]) * yb * yb
    face_a = _cov(_ellipse(x / jaw, y, a, b), px)
    # Lambert shading of an ellipsoid lit from the side and a little above
    nx = np.clip(x / (a * jaw), -1, 1)
    ny = np.clip(y / b, -1, 1)
    nz = np.sqrt(np.clip(1.0 - nx * nx - ny * ny, 0.0, 1.0))
    lx = 0.75 * light
    norm = np.sqrt(lx * lx + 0.35 ** 2 + 0.65 ** 2)
    lam = np.clip((nx * lx - 0.35 * ny + 0.65 * nz) / norm, 0, 1)
    _over(img, _col(skin) * ((1.0 - contrast) + 1.25 * contrast * lam), face_a)

    # beard (only images that have one are computed), before the mouth so that the lips show
    sel = np.flatnonzero(F["beard"] > 0)
    if sel.size:
        xs, ys, as_ = x[sel], y[sel], a[sel]
        d_beard = np.maximum(_ellipse(xs / jaw[sel], ys, as_, b[sel]) - 0.01,
                             0.21 - 0.28 * (xs / as_) ** 2 - ys)
        beard_a = _cov(d_beard, px[sel]) * 0.92 * (1 - 0.8 * np.exp(
            -((xs / 0.075) ** 2 + ((ys - 0.2 - 0.03 * P["nose_length"][sel]) / 0.03) ** 2)))
        sub = img[:, sel]
        _over(sub, _col(hair[sel]) * (0.85 * hair_shade[sel]), beard_a)
        img[:, sel] = sub

    r0, r1, c0, c1 = _feature_window(size)
    _draw_features(img[:, :, r0:r1, c0:c1], _local(pose, lin[c0:c1], lin[r0:r1]),
                   face_a[:, r0:r1, c0:c1], px, P, F, skin, hair)

    # hair in front: the top down to the hairline (lower with a fringe) and, for long hair,
    # locks that fall beside the face
    part = 0.08 * P["hair_part"]
    hl_plain = -0.50 + 0.28 * (x / a) ** 2 + part * x
    hl_fringe = -0.21 + 0.10 * (x / a) ** 2 - 0.015 * np.cos(x * 55.0) + 0.12 * part * x
    hl = hl_plain + (hl_fringe - hl_plain) * P["fringe"]
    d_front = np.maximum(d_cap, y - hl)
    inner = a * (0.84 + 0.12 * np.clip(y + 0.3, 0, None))
    d_lock = np.maximum(np.maximum(np.minimum(d_cap, d_long), inner - np.abs(x)),
                        np.maximum(bottom, -0.3 - y))
    d_front = np.where(length > 0.45, np.minimum(d_front, d_lock), d_front)
    _over(img, _col(hair) * hair_shade, _cov(d_front, px) * ~bald)

    # glasses (only images that wear them): rounded-rectangle rims, bridge, arms, faint lens tint
    sel = np.flatnonzero(F["glasses"] > 0)
    if sel.size:
        sub = img[:, sel]
        _draw_glasses(sub, x[sel], y[sel], px[sel], {k: v[sel] for k, v in P.items()}, a[sel])
        img[:, sel] = sub
    return img


def _eye_geometry(P):
    """Eye half-spacing, eye-line height and size factor, each (B,1,1) (shared with glasses)."""
    return 0.19 * (1 + 0.12 * P["eye_spacing"]), -0.08, 1 + 0.18 * P["eye_size"]


def _draw_features(img, xy, face_a, px, P, F, skin, hair) -> None:
    """Eyes, brows, nose and mouth onto the window view ``img`` (3, B, h, w) in place."""
    x, y = xy
    f32 = np.float32
    light, smile = P["light_direction"], P["smile"]
    es, ey, esz = _eye_geometry(P)
    sx = np.where(x >= 0, f32(1), f32(-1))
    xl = x - sx * es                              # x relative to the nearer eye
    ye = y - ey
    nose_y = 0.14 + 0.03 * P["nose_length"]
    nw = 1 + 0.25 * P["nose_width"]

    # soft shading: eye sockets, the nose's shadow side, a bright nose tip, blush (more when smiling)
    socket = np.exp(-((xl / 0.12) ** 2 + ((ye + 0.01) / 0.075) ** 2))
    nose_side = np.exp(-(((x + 0.05 * light) / 0.03) ** 2)) * np.clip((y + 0.06) / 0.2, 0, 1) \
        * np.clip((nose_y + 0.03 - y) / 0.02, 0, 1)
    under = np.exp(-((x / (0.065 * nw)) ** 2 + ((y - nose_y - 0.04) / 0.018) ** 2))
    d_nos = _ellipse(np.abs(x) - 0.034 * nw, y - nose_y - 0.022, 0.021 * nw, 0.011)
    dark = 0.17 * socket + (0.12 + 0.2 * np.abs(light)) * nose_side + 0.3 * under \
        + 0.55 * _cov(d_nos, px)
    img *= 1 - dark * face_a
    tip = np.exp(-((x / (0.04 * nw)) ** 2 + ((y - nose_y + 0.015) / 0.03) ** 2))
    img += 0.09 * tip * face_a
    blush = np.exp(-(((np.abs(x) - 0.24) / 0.08) ** 2 + ((y - 0.14) / 0.065) ** 2))
    _over(img, _rgb(0.85, 0.35, 0.35), (0.10 + 0.12 * np.clip(smile, 0, 1)) * blush * face_a)

    # mouth: lips bent by the smile; dark interior with upper teeth when open
    mo = P["mouth_open"]
    mw = 0.14 * (1 + 0.18 * P["mouth_width"]) * (1 + 0.12 * np.clip(smile, 0, 1))
    my = 0.33 + 0.015 * P["nose_length"]
    xm = np.clip(x / mw, -1, 1)
    env = np.sqrt(1 - xm * xm)
    yc = my - 0.05 * smile * (xm * xm - 0.35)
    ho = 0.06 * mo * env ** 0.8
    tu = 0.026 * env * (1 - 0.3 * np.exp(-(x / 0.02) ** 2))   # cupid's bow
    tl = 0.034 * env
    d_lips = np.maximum(np.maximum(yc - ho / 2 - tu - y, y - yc - ho / 2 - tl), np.abs(x) - mw)
    lc = P["lip_color"]
    lip = _col(skin * 0.78 + np.array([0.10, -0.04, -0.03], f32)) * (1 - lc) + _rgb(0.70, 0.12, 0.20) * lc
    _over(img, lip * (1.0 + 0.15 * np.clip((y - yc) / 0.03, -1, 1)), _cov(d_lips, px) * face_a)
    in_a = _cov(np.maximum(np.abs(y - yc) - ho / 2, np.abs(x) - 0.92 * mw), px)
    _over(img, _rgb(0.25, 0.06, 0.06), in_a)
    _over(img, _rgb(0.93, 0.90, 0.84), in_a * (y < yc - 0.05 * ho) * (np.abs(x) < 0.75 * mw))
    img *= 1 - 0.45 * _cov(np.maximum(np.abs(y - yc) - 0.004, np.abs(x) - mw), px) * face_a

    # eyes: white, shaded iris, pupil, catch-light, lash line; smiling eyes squint
    rx = 0.078 * esz
    ry = 0.040 * esz * (1 - 0.3 * np.clip(smile, 0, 1))
    d_white = _ellipse(xl, ye, rx, ry)
    white_a = _cov(d_white, px)
    _over(img, _rgb(0.95, 0.94, 0.92), white_a)
    ri = 0.036 * esz
    gx = 0.025 * P["gaze_x"]
    r_i = np.sqrt((xl - gx) ** 2 + ye * ye)
    iris = _col(_ramp(_IRIS_RAMP, F["iris_color"])) * (0.7 + 0.55 * np.clip(r_i / ri, 0, 1))
    _over(img, iris, _cov(r_i - ri, px) * white_a)
    _over(img, f32(0.03), _cov(r_i - 0.45 * ri, px) * white_a)
    r_h = np.sqrt((xl - gx + 0.35 * ri) ** 2 + (ye + 0.35 * ri) ** 2)
    _over(img, f32(0.98), _cov(r_h - 0.2 * ri, px) * white_a)
    lash = _cov(np.abs(d_white) - 0.006, px) * np.clip(0.5 - ye / ry, 0, 1)
    _over(img, f32(0.06), lash * face_a)

    # brows: arched, thicker at the inner end; their darkness follows the hair colour
    bw = 0.095 * (1 + 0.1 * P["eye_size"])
    by = ey - 0.095 - 0.03 * P["brow_raise"]
    xo = np.clip(sx * xl / bw, -1, 1)            # -1 inner end .. +1 outer end
    yb = by - 0.025 * (1 - xo * xo) + 0.012 * xo
    tb = 0.016 * (1 - 0.4 * xo) * (1 + 0.1 * P["male"])
    d_brow = np.maximum(np.abs(y - yb) - tb, np.abs(xl) - bw)
    bd = P["brow_darkness"]
    _over(img, _col(hair * 0.7) * bd + _col(skin * 0.7) * (1 - bd), _cov(d_brow, px) * face_a * 0.95)


def _draw_glasses(img, x, y, px, P, a) -> None:
    """Glasses onto ``img`` (3, B, H, W) in place (B = the images that wear glasses)."""
    es, ey, esz = _eye_geometry(P)
    sx = np.where(x >= 0, np.float32(1), np.float32(-1))
    xl = x - sx * es
    ye = y - ey + 0.005
    half_w, half_h, rr = 0.105 * esz, 0.062 * esz, 0.035
    qx = np.abs(xl) - half_w + rr
    qy = np.abs(ye) - half_h + rr
    d_box = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2) + \
        np.minimum(np.maximum(qx, qy), 0) - rr
    img += 0.06 * _cov(d_box, px)
    rim = _cov(np.abs(d_box) - 0.009, px)
    bar = np.abs(ye + 0.02) - 0.008
    bridge = _cov(np.maximum(bar, np.abs(x) - es + half_w), px)
    arm = _cov(np.maximum(bar, np.maximum(es + half_w - np.abs(x), np.abs(x) - a - 0.02)), px)
    _over(img, np.float32(0.07), np.maximum(np.maximum(rim, bridge), arm))


# --------------------------------------------------------------------------------------------
# public API

def generate_faces(n: int, size: int = 96, seed: int = 0, start: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic faces with global indices ``start .. start + n - 1``.

    Parameters
    ----------
    n : int
        Number of images (>= 0).
    size : int
        Image side in pixels (>= 16).
    seed : int
        Dataset seed (>= 0). Image ``i`` depends only on ``(seed, i)``.
    start : int
        Global index of the first image, so chunks can be generated independently.

    Returns
    -------
    images : ndarray of uint8, shape (n, size, size, 3)
    factors : ndarray of float32, shape (n, len(FACTOR_NAMES)), columns named by FACTOR_NAMES
    """
    _check_args(n, size, seed, start)
    factors = draw_factors(n, seed=seed, start=start)
    return render_faces(factors, size), factors


#: upper bound of :func:`write_synthetic_store` (the factors alone would need n x 60 bytes of RAM)
MAX_SYNTH_IMAGES = 50_000_000


def write_synthetic_store(out: str | Path, n: int = 20000, size: int = 96, seed: int = 0,
                          progress: ProgressReporter | None = None,
                          overwrite: bool = False, wait: float | None = 0.0) -> DatasetStore:
    """Generate ``n`` synthetic faces into a dataset store at ``out`` (atomically).

    Attributes of the store are the factors (float32 (n, len(FACTOR_NAMES))). Progress is reported
    per chunk and cancellation is checked between chunks (a cancelled run leaves no folder).

    Returns
    -------
    DatasetStore
        The store opened from ``out``.
    """
    if int(n) != n or n <= 0:
        raise InvalidInputError(f"n={n!r}: expected a positive number of images")
    if n > MAX_SYNTH_IMAGES:
        raise InvalidInputError(f"n={n!r}: at most {MAX_SYNTH_IMAGES:,} synthetic images (CelebA has ~200,000)")
    _check_args(n, size, seed, 0)
    n, size = int(n), int(size)
    t0 = time.monotonic()
    step = 512  # images per progress update / cancel check
    with StoreWriter(out, n, size, overwrite=overwrite, wait=wait) as w:  # checks the disk first
        factors = np.empty((n, len(FACTOR_NAMES)), dtype=np.float32)
        for s in range(0, n, step):
            if progress is not None:
                progress.raise_if_cancelled()
            k = min(step, n - s)
            imgs, fac = generate_faces(k, size=size, seed=seed, start=s)
            w.images[s:s + k] = imgs
            factors[s:s + k] = fac
            if progress is not None:
                progress.update(s + k, n, "synthetic faces")
        if progress is not None:
            progress.raise_if_cancelled()
        w.set_filenames([f"synth_{i:06d}.png" for i in range(n)])
        w.set_attributes(factors, FACTOR_NAMES)
        w.finish({"source": "synthetic", "preset": "synthetic", "seed": int(seed),
                  "generator": GENERATOR_ID, "seconds": round(time.monotonic() - t0, 2)})
    return DatasetStore.open(out)
