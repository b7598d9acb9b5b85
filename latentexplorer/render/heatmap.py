"""A heat map of values over a rectangle of a plane as a PNG (Pillow only, no plotting library).

Used for the face-likeness map (``latentexplorer facemap``): one square per grid cell coloured by
its value in [0, 1] (viridis), the data points as small dots, an optional marker, axis labels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

#: viridis at 0, 0.25, 0.5, 0.75, 1 (matplotlib's values); linear in between
_VIRIDIS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]],
                    dtype=np.float64)


def viridis(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (any shape) → uint8 RGB (shape + (3,)); NaN is grey."""
    v = np.asarray(values, dtype=np.float64)
    nan = ~np.isfinite(v)
    t = np.clip(np.where(nan, 0.0, v), 0.0, 1.0) * (len(_VIRIDIS) - 1)
    k = np.minimum(t.astype(int), len(_VIRIDIS) - 2)
    frac = (t - k)[..., None]
    rgb = _VIRIDIS[k] * (1 - frac) + _VIRIDIS[k + 1] * frac
    rgb[nan] = 160
    return np.round(rgb).astype(np.uint8)


def heatmap_image(values: np.ndarray, extent, *, cell: int = 16, points: np.ndarray | None = None,
                  marker: tuple[float, float] | None = None, labels: tuple[str, str] = ("x", "y"),
                  title: str = "") -> Image.Image:
    """Render ``values`` (rows follow y upwards, columns x) over ``extent`` = (x0, x1, y0, y1).

    Parameters
    ----------
    values : ndarray of shape (ny, nx), values in [0, 1]
    cell : int
        Pixels per cell side.
    points : ndarray of shape (m, 2), optional
        Plane points drawn as dots (at most 20,000 are drawn, evenly spaced).
    marker : (x, y), optional
        Drawn as a red ring (the base vector of a face map).
    """
    v = np.asarray(values, dtype=np.float64)
    ny, nx = v.shape
    x0, x1, y0, y1 = (float(e) for e in extent)
    w, h = nx * cell, ny * cell
    margin_l, margin_b, margin_t, margin_r = 60, 40, 24 if title else 8, 70
    img = Image.new("RGB", (w + margin_l + margin_r, h + margin_t + margin_b), "white")
    heat = Image.fromarray(viridis(v[::-1])).resize((w, h), Image.NEAREST)  # y grows upwards
    img.paste(heat, (margin_l, margin_t))
    draw = ImageDraw.Draw(img)

    def to_px(x, y):
        return (margin_l + (np.asarray(x) - x0) / (x1 - x0) * w,
                margin_t + (1 - (np.asarray(y) - y0) / (y1 - y0)) * h)

    if points is not None and len(points):
        pts = np.asarray(points, dtype=np.float64)
        pts = pts[::max(1, len(pts) // 20_000)]
        inside = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
        px, py = to_px(pts[inside, 0], pts[inside, 1])
        for a, b in zip(px, py):
            draw.point((float(a), float(b)), fill=(255, 255, 255))
    if marker is not None:
        mx, my = to_px(*marker)
        draw.ellipse((mx - 6, my - 6, mx + 6, my + 6), outline=(220, 30, 30), width=2)
    draw.rectangle((margin_l - 1, margin_t - 1, margin_l + w, margin_t + h), outline="black")
    dark = (20, 20, 20)
    draw.text((margin_l, margin_t + h + 4), f"{x0:.3g}", fill=dark)
    draw.text((margin_l + w - 30, margin_t + h + 4), f"{x1:.3g}", fill=dark)
    draw.text((margin_l + w // 2 - 20, margin_t + h + 20), labels[0], fill=dark)
    draw.text((4, margin_t + h - 12), f"{y0:.3g}", fill=dark)
    draw.text((4, margin_t), f"{y1:.3g}", fill=dark)
    draw.text((4, margin_t + h // 2), labels[1], fill=dark)
    if title:
        draw.text((margin_l, 5), title, fill=dark)
    # colour bar: 0 at the bottom, 1 at the top
    bar = Image.fromarray(viridis(np.linspace(1, 0, h)[:, None].repeat(12, axis=1)))
    bx = margin_l + w + 12
    img.paste(bar, (bx, margin_t))
    draw.text((bx + 16, margin_t), "1", fill=dark)
    draw.text((bx + 16, margin_t + h - 10), "0", fill=dark)
    return img


__all__ = ["viridis", "heatmap_image"]
