"""Saving and restoring an exploration (``WS/gui_state.json``, schema ``schemas.GuiState``).

What is saved: the plane, the sliders (σ level, fact, sharpen), the current vector and its data
point, the colouring, the mouse modes, the dominant-component thresholds, the path and how the
shown samples were generated (the generator re-creates them: the same latents, settings and seed
give the same vectors). A value that no longer fits (another z_dim, a PCA plane while the PCA is
still being computed) is applied when it can be, or dropped with a warning — the file is disposable.
"""

from __future__ import annotations

import dataclasses

from typing import Callable

import numpy as np

from ..errors import InvalidInputError
from .analysis import Thresholds
from .model import ExplorationModel
from .paths import DirectionPath, path_from_dict
from .plane import Plane


def to_state(m: ExplorationModel, **extra) -> dict:
    """The JSON-ready state of ``m`` (plus ``extra`` entries such as the open tab)."""
    state = {"plane": m.plane.as_list(), "sigma_level": m.sigma_level, "fact": m.fact,
             "sharpen": m.sharpen, "color_by": m.color_by, "snap": m.snap, "path_mode": m.path_mode,
             "thresholds": dataclasses.asdict(m.thresholds)}
    if m.current is not None:
        state["current"] = [float(x) for x in m.current.vector]
        state["current_index"] = m.current.index
    if m.path is not None:
        state["path"] = m.path.to_dict()
    spec = m.sample_info.get("spec") if m.sample_info else None
    if spec:
        state["samples"] = dict(spec)
    state.update({k: v for k, v in extra.items() if v is not None})
    return state


def restore(m: ExplorationModel, state: dict, warn: Callable[[str], None] = lambda _m: None) -> None:
    """Apply a state from :func:`to_state` (already validated by the GuiState schema)."""
    def attempt(what: str, fn) -> None:
        try:
            fn()
        except (InvalidInputError, TypeError, ValueError) as exc:
            warn(f"gui_state.json: {what} not restored ({exc})")

    for key, setter in (("sigma_level", m.set_sigma_level), ("fact", m.set_fact),
                        ("sharpen", m.set_sharpen), ("color_by", m.set_color_by)):
        if key in state:
            attempt(key, lambda v=state[key], s=setter: s(v))
    if "snap" in state or "path_mode" in state:
        m.set_modes(snap=state.get("snap"), path_mode=state.get("path_mode"))
    if "thresholds" in state:
        t = state["thresholds"]
        attempt("thresholds", lambda: m.set_thresholds(Thresholds(**{**dataclasses.asdict(m.thresholds), **t})))
    if "current" in state and len(state["current"]) == m.z_dim:
        idx = state.get("current_index")
        idx = idx if isinstance(idx, int) and 0 <= idx < m.n_points else None
        attempt("current", lambda: m.set_current(np.asarray(state["current"], np.float32), idx))
    if "plane" in state:
        plane = Plane.parse(state["plane"])
        if plane.kind == "pca" and m.analysis is None:
            m._pending_plane = plane  # applied when the PCA arrives
        else:
            attempt("plane", lambda: m.set_plane(plane))
    if "path" in state:
        attempt("path", lambda: _restore_path(m, state["path"]))


def _restore_path(m: ExplorationModel, d: dict) -> None:
    path = path_from_dict(d)
    if isinstance(path, DirectionPath) and path.unit.shape[0] != m.z_dim:
        raise InvalidInputError(f"the direction has {path.unit.shape[0]} components, z_dim is {m.z_dim}")
    m.set_path(path)
