"""``latentexplorer facemap``: the face-likeness map of a plane as ``MAP.png`` + ``MAP.json``.

A grid of points over a rectangle of the plane (default: the bulk of the z-points) is decoded —
each point is the base vector with its two plane coordinates replaced — and MTCNN judges every
image; the PNG shades the plane by the detector's confidence (0 = no face found), with the
z-points as dots and the base vector as a red ring. The JSON holds the confidences, the plane,
the extent, the base vector, the detector's settings and the model's fingerprint.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..inputs import printable
from . import _args


def _plane(text: str) -> tuple[str, int, int]:
    """``latent:0,1`` or ``pca:0,1`` (axes 0-based, as in gui_state.json)."""
    try:
        kind, axes = text.split(":")
        i, j = (int(a) for a in axes.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected latent:I,J or pca:I,J, got {text!r}") from None
    if kind not in ("latent", "pca"):
        raise argparse.ArgumentTypeError(f"expected latent:I,J or pca:I,J, got {text!r}")
    return kind, i, j


def _extent(text: str) -> tuple[float, ...]:
    values = [_args.number()(v) for v in text.split(",")]
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"expected x0,x1,y0,y1, got {text!r}")
    return tuple(values)


def register(subparsers) -> None:
    p = subparsers.add_parser("facemap", help="face-likeness map of a plane (decoded grid judged by MTCNN)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workspace", metavar="WS", required=True, help="a trained and encoded workspace")
    p.add_argument("--plane", type=_plane, default=("latent", 0, 1),
                   help="latent:I,J or pca:I,J, axes counted from 0 (default latent:0,1)")
    p.add_argument("--resolution", type=_args.integer(1, 128), default=32,
                   help="cells per side (default %(default)s: 1,024 decoded faces)")
    p.add_argument("--extent", type=_extent, default=None, metavar="X0,X1,Y0,Y1",
                   help="the rectangle of the plane (default: the bulk of the z-points)")
    p.add_argument("--base", default="mean", metavar="mean|point:N",
                   help="the vector whose other coordinates are kept: the mean of the z-points "
                        "(default) or data point N")
    p.add_argument("--out", type=Path, required=True, metavar="MAP.png",
                   help="the map image; MAP.json is written next to it")
    _args.add_wait(p)
    p.set_defaults(handler=run)


def _base(text: str, z: np.ndarray) -> np.ndarray:
    if text == "mean":
        return z.mean(axis=0)
    if text.startswith("point:"):
        try:
            k = int(text[6:])
        except ValueError:
            k = -1
        if 0 <= k < len(z):
            return z[k]
        raise InvalidInputError(f"--base {text}: expected point:N with N from 0 to {len(z) - 1}")
    raise InvalidInputError(f"--base {printable(text)}: expected 'mean' or 'point:N'")


def run(args: argparse.Namespace) -> int:
    from ..explore.analysis import compute_analysis
    from ..explore.facemap import face_map
    from ..explore.model import ExplorationModel
    from ..fileio import atomic_files, json_text
    from ..locks import folder_lock
    from ..models.codec import Decoder
    from ..models.io import weights_fingerprint
    from ..progress import TerminalProgress
    from ..render.heatmap import heatmap_image
    from ..workspace import Workspace

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise InvalidInputError(f"--out {printable(out)}: the map file must end in .png")
    ws = Workspace.open(args.workspace)
    snapshot = ws.snapshot()
    latents = ws.latents()
    stale = ws.staleness(latents)
    if stale.stale:
        _args.warn(f"{printable(ws.path)}: {stale.message}")
    model = ExplorationModel()
    model.set_data(latents.z)
    if args.plane[0] == "pca":
        model.set_analysis(compute_analysis(latents.z))
    model.set_plane(args.plane)
    model.set_current(_base(args.base, latents.z))
    keras_decoder = ws.load_decoder(snapshot)
    fmap = face_map(model, Decoder(keras_decoder), resolution=args.resolution, extent=args.extent,
                    progress=TerminalProgress("facemap"))
    plane = model.plane
    labels = (plane.label(0), plane.label(1))
    img = heatmap_image(fmap.confidence, fmap.extent, cell=max(4, 512 // args.resolution),
                        points=model.plane_points(), marker=tuple(model.plane_coords(fmap.base[None])[0]),
                        labels=labels, title=f"MTCNN face confidence, {labels[0]} / {labels[1]}")
    record = {"format": "latentexplorer-facemap/1", "workspace": str(Path(ws.path).resolve()),
              "fingerprint": weights_fingerprint(keras_decoder), "model_epoch": snapshot.epoch,
              "base_choice": args.base, **fmap.to_dict()}
    sidecar = out.with_suffix(".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(out.parent).acquire(_args.wait_seconds(args)), \
            atomic_files(out, sidecar) as (tmp_png, tmp_json):
        img.save(tmp_png, format="PNG")
        tmp_json.write_text(json_text(record), encoding="utf-8")
    print(f"facemap: {args.resolution}x{args.resolution} over {labels[0]} / {labels[1]}: a face in "
          f"{fmap.face_fraction:.0%} of the cells ({fmap.seconds:.1f} s) -> {printable(out)} "
          f"(+ {printable(sidecar.name)})")
    return 0
