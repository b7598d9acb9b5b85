"""Replaying the time-lapse (no Qt): one stable basis for all frames, probe faces, the export."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from tiny_models import commit_untrained_epoch, make_store, tiny_config

from latentexplorer.errors import InvalidInputError
from latentexplorer.explore.projection import pca_coords
from latentexplorer.explore.timelapse import (EXPORT_FORMAT, TimelapseReplay, export_replay,
                                              load_replay, pick_faces)


def _orthogonal(k: int, rng: np.random.Generator, flip: bool) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((k, k)))
    q = q * np.sign(np.diag(r))
    if flip and np.linalg.det(q) > 0:
        q[:, 0] = -q[:, 0]
    return q


def _cloud(rng, n=200, d=6):
    return rng.standard_normal((n, d)) * np.linspace(3.0, 0.3, d) + rng.standard_normal(d)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("flip", [False, True])
def test_a_rotated_copy_of_the_cloud_aligns_back(seed, flip):
    rng = np.random.default_rng(seed)
    z = _cloud(rng)
    rotated = (z - z.mean(0)) @ _orthogonal(z.shape[1], rng, flip) + 4.0
    replay = TimelapseReplay().fit([rotated, z])
    spread = np.sqrt(np.mean(np.sum(replay.xy_[1] ** 2, axis=1)))
    assert np.max(np.abs(replay.xy_[0] - replay.xy_[1])) < 1e-4 * spread
    # the basis is the last epoch's PCA
    np.testing.assert_allclose(replay.xy_[1], pca_coords(z, 6)[:, :2], atol=1e-4 * spread)


def test_frames_move_smoothly_and_keep_their_scale():
    """A cloud that rotates a little and grows each epoch: consecutive frames stay close (no
    jumps from flipped or swapped PCA axes), and the growth is not normalised away."""
    rng = np.random.default_rng(1)
    z = _cloud(rng)
    frames = []
    for k in range(6):
        angle = 0.15 * k
        rot = np.eye(6)
        rot[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
        frames.append(z @ rot * (0.5 + 0.1 * k) + rng.standard_normal(z.shape) * 0.01)
    xy = TimelapseReplay().fit(frames).xy_
    size = [np.sqrt(np.mean(np.sum((f - f.mean(0)) ** 2, axis=1))) for f in xy]
    assert np.all(np.diff(size) > 0)  # grows on screen, frame after frame
    for a, b in zip(xy[:-1], xy[1:]):  # rescaled to the same size, neighbours nearly coincide
        a_n = (a - a.mean(0)) / np.sqrt(np.mean(np.sum((a - a.mean(0)) ** 2, axis=1)))
        b_n = (b - b.mean(0)) / np.sqrt(np.mean(np.sum((b - b.mean(0)) ** 2, axis=1)))
        assert np.mean(np.linalg.norm(a_n - b_n, axis=1)) < 0.1


def test_faces_are_spread_and_deterministic():
    xy = np.random.default_rng(0).standard_normal((300, 2))
    faces = pick_faces(xy, 6)
    assert len(set(faces.tolist())) == 6 and np.array_equal(faces, pick_faces(xy, 6))
    gaps = [np.min(np.linalg.norm(xy[faces[:k]] - xy[faces[k]], axis=1)) for k in range(1, 6)]
    assert min(gaps) > np.median(np.linalg.norm(xy - xy.mean(0), axis=1)) * 0.5
    assert len(pick_faces(np.zeros((4, 2)), 6)) == 1  # identical points: one face


def test_no_frames_or_mismatched_frames_are_refused():
    with pytest.raises(InvalidInputError, match="no frames"):
        TimelapseReplay().fit([])
    with pytest.raises(InvalidInputError, match="different shapes"):
        TimelapseReplay().fit([np.zeros((10, 3)), np.zeros((11, 3))])


# ------------------------------------------------------------------ a workspace's replay and export
@pytest.fixture
def recorded_ws(tmp_path):
    """A tiny workspace with 3 committed (untrained) epochs and a recording of 3 synthetic frames."""
    from latentexplorer.workspace import Workspace
    from latentexplorer.workspace.timelapse import probe_indices

    ws = Workspace.create(tmp_path / "ws", make_store(tmp_path / "store"), tiny_config())
    for seed in range(3):
        commit_untrained_epoch(ws, seed)
    store = ws.dataset()
    idx = probe_indices(store)
    rng = np.random.default_rng(0)
    z = _cloud(rng, len(idx), 4)
    for epoch in (1, 2, 3):
        ws.timelapse().record(z * epoch, epoch=epoch, fingerprint=f"{epoch:08x}",
                              store=store.fingerprint(), indices=idx)
    return ws


def test_load_replay_brings_losses_faces_and_names(recorded_ws):
    replay = load_replay(recorded_ws)
    assert replay.epochs.tolist() == [1, 2, 3] and replay.xy.shape == (3, len(replay.indices), 2)
    assert replay.losses.tolist() == [1.0, 1.0, 1.0]  # commit_untrained_epoch's rows
    assert np.isnan(replay.val_losses).all()
    assert replay.face_images.shape == (6, 16, 16, 3)
    store = recorded_ws.dataset()
    np.testing.assert_array_equal(replay.face_images, store.batch(replay.indices[replay.faces]))
    assert replay.filenames[0] == store.filenames[int(replay.indices[0])]
    assert not replay.kept  # its fingerprints are not the workspace's weights
    x0, x1, y0, y1 = replay.limits
    assert x0 <= replay.xy[..., 0].min() and replay.xy[..., 0].max() <= x1
    assert y0 <= replay.xy[..., 1].min() and replay.xy[..., 1].max() <= y1


def test_export_writes_the_frames_and_their_json(recorded_ws):
    replay = load_replay(recorded_ws)
    png, sidecar = export_replay(recorded_ws.results_dir / "lapse.png", replay, size=64)
    record = json.loads(sidecar.read_text())
    assert record["format"] == EXPORT_FORMAT and record["png"] == "lapse.png"
    assert record["epochs"] == [1, 2, 3] and record["total_loss"] == [1.0, 1.0, 1.0]
    assert record["val_total_loss"] == [None, None, None]
    np.testing.assert_allclose(record["xy"], replay.xy, atol=1e-6)
    assert [f["row"] for f in record["faces"]] == replay.faces.tolist()
    with Image.open(png) as img:
        assert img.width > 3 * 64 and img.height > 64
        pixels = np.asarray(img.convert("RGB"))
    assert (pixels != 255).any(axis=2).sum() > 100  # the clouds are drawn
    # the workspace's own files are never an export target
    with pytest.raises(InvalidInputError, match="belongs to the workspace"):
        export_replay(recorded_ws.path / "timelapse" / "x.png", replay)
