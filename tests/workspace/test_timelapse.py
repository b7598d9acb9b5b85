"""The time-lapse recording (no Qt): one frame per committed epoch holding the encoder's output for
the probe images, recording kept checkpoints afterwards, and one clear error per tampered file."""

import errno
import json
import shutil

import numpy as np
import pytest
from tiny_models import make_store, tiny_config

from latentexplorer.errors import InvalidInputError
from latentexplorer.workspace import Workspace
from latentexplorer.workspace import timelapse as tlmod
from latentexplorer.workspace.timelapse import (Timelapse, frame_file, probe_indices,
                                                record_kept_epochs)
from latentexplorer.workspace.training import train


def _create(root, name="ws"):
    return Workspace.create(root / name, make_store(root / "store"), tiny_config(),
                            training={"batch_size": 16, "lr": 3e-3, "epochs": 2, "seed": 0})


def _encode_probe(ws, folder=None):
    """The probe images encoded by an epoch's encoder loaded from disk (default: the current)."""
    from latentexplorer.models.codec import Encoder
    from latentexplorer.models.io import load_encoder

    meta = ws.timelapse().meta()
    encoder = load_encoder(folder) if folder is not None else ws.load_encoder()
    return Encoder(encoder, warmup=False).encode(ws.dataset().batch(meta.indices))


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory):
    """A tiny workspace trained for 2 epochs, with the frame of epoch 1 as recorded then and the
    probe images encoded by epoch 1's encoder (read before epoch 2 was committed)."""
    root = tmp_path_factory.mktemp("timelapse")
    ws = _create(root)
    train(ws, 1)
    first = np.load(ws.timelapse().root / frame_file(1))
    by_epoch1 = _encode_probe(ws)
    train(ws, 2, resume=True)
    return ws, first, by_epoch1


def test_training_records_one_frame_per_committed_epoch(two_epochs):
    ws, first, by_epoch1 = two_epochs
    tl = ws.timelapse()
    assert sorted(p.name for p in tl.root.iterdir()) == ["epoch-0001.npy", "epoch-0002.npy", "meta.json"]
    rec = tl.load()
    assert rec.epochs.tolist() == [1, 2]
    store = ws.dataset()
    np.testing.assert_array_equal(rec.indices, probe_indices(store))
    assert set(rec.indices) <= set(store.split()[0])  # training images only
    assert rec.fingerprints[-1] == ws.model_fingerprint() and rec.fingerprints[0] != rec.fingerprints[1]
    # the contents: what each epoch's encoder makes of the probe images
    np.testing.assert_allclose(rec.frames[1], _encode_probe(ws), atol=1e-5)
    np.testing.assert_allclose(rec.frames[0], by_epoch1, atol=1e-5)
    np.testing.assert_array_equal(rec.frames[0], first)  # the resumed run kept epoch 1's frame
    assert rec.frames[0].dtype == np.float32 and rec.frames[0].shape == (len(rec.indices), 4)


def test_a_workspace_without_a_recording_records_its_kept_epochs(two_epochs, tmp_path):
    ws, _, _ = two_epochs
    copy = Workspace.open(shutil.copytree(ws.path, tmp_path / "ws"))
    recorded = copy.timelapse().load()
    shutil.rmtree(copy.timelapse().root)  # trained before the time-lapse existed
    assert [s.epoch for s in copy.kept_snapshots()] == [1, 2]
    assert record_kept_epochs(copy) == [1, 2]
    again = copy.timelapse().load()
    assert again.epochs.tolist() == [1, 2] and again.fingerprints == recorded.fingerprints
    for a, b in zip(again.frames, recorded.frames):  # loaded encoders = the in-memory ones
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert record_kept_epochs(copy) == []  # nothing left to add


def test_a_failed_frame_is_a_warning_and_the_epoch_stays(tmp_path, monkeypatch, capsys):
    def full_disk(path, array):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(tlmod, "save_npy", full_disk)
    ws = _create(tmp_path)
    train(ws, 1)
    assert ws.checkpoint_epoch == 1
    err = capsys.readouterr().err
    assert "time-lapse frame of epoch 1 not recorded" in err and "timelapse" in err
    assert not ws.timelapse().exists and not list(ws.timelapse().root.glob("epoch-*"))


# ------------------------------------------------------------------ tampered files (no TensorFlow)
STORE = {"count": 50, "size": 16, "digest": "abcd1234"}


def _recording(tmp_path, epochs=(1, 2, 3)):
    """A recording of 3 frames of 20 probe images (z_dim 4) written through Timelapse.record."""
    from latentexplorer.schemas import StoreFingerprint

    tl = Timelapse(tmp_path / "timelapse", z_dim=4, kind="ae")
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(50, 20, replace=False))
    for e in epochs:
        tl.record(rng.standard_normal((20, 4)), epoch=e, fingerprint=f"{e:08x}",
                  store=StoreFingerprint(**STORE), indices=idx)
    return tl, idx


def test_record_keeps_earlier_frames_and_drops_a_lost_line(tmp_path):
    tl, idx = _recording(tmp_path)
    assert tl.load().epochs.tolist() == [1, 2, 3]
    from latentexplorer.schemas import StoreFingerprint

    # training from epoch 2 again (e.g. a workspace restarted): epochs 2 and later are replaced
    tl.record(np.zeros((20, 4)), epoch=2, fingerprint="ffff0002", store=StoreFingerprint(**STORE),
              indices=idx)
    assert tl.load().epochs.tolist() == [1, 2]
    assert sorted(p.name for p in tl.root.glob("epoch-*")) == ["epoch-0001.npy", "epoch-0002.npy"]
    # another store: the recording starts again
    tl.record(np.ones((20, 4)), epoch=5, fingerprint="ffff0005",
              store=StoreFingerprint(**{**STORE, "digest": "0000ffff"}), indices=idx)
    assert tl.load().epochs.tolist() == [5]


def _edit_meta(tl, **changes):
    meta = json.loads(tl.meta_path.read_text())
    meta.update(changes)
    tl.meta_path.write_text(json.dumps(meta))


TAMPERS = {
    "index beyond the store": (lambda tl: _edit_meta(tl, indices=list(range(40, 60))),
                               "meta.json", "beyond the store's 50 images"),
    "unsorted indices": (lambda tl: _edit_meta(tl, indices=list(range(20))[::-1]),
                         "meta.json", "increasing order"),
    "frame names another file": (lambda tl: _edit_meta(tl, frames=[{
        "epoch": 1, "file": "epoch-0002.npy", "fingerprint": "00000001"}]),
        "meta.json", "expected 'epoch-0001.npy'"),
    "epochs out of order": (lambda tl: _edit_meta(tl, frames=[
        {"epoch": 2, "file": "epoch-0002.npy", "fingerprint": "00000002"},
        {"epoch": 1, "file": "epoch-0001.npy", "fingerprint": "00000001"}]),
        "meta.json", "increasing epochs"),
    "other z_dim": (lambda tl: _edit_meta(tl, z_dim=8), "meta.json", "z_dim = 8"),
    "unknown entry": (lambda tl: _edit_meta(tl, extra=1), "meta.json", "unknown entry 'extra'"),
    "not JSON": (lambda tl: tl.meta_path.write_text("{"), "meta.json", "not valid JSON"),
    "frame deleted": (lambda tl: (tl.root / "epoch-0002.npy").unlink(), "epoch-0002.npy", "not found"),
    "frame truncated": (lambda tl: (tl.root / "epoch-0002.npy").write_bytes(
        (tl.root / "epoch-0002.npy").read_bytes()[:150]), "epoch-0002.npy", "truncated"),
    "frame of other shape": (lambda tl: np.save(tl.root / "epoch-0003.npy", np.zeros((20, 3), np.float32)),
                             "epoch-0003.npy", "expected (20, 4)"),
    "frame with NaN": (lambda tl: np.save(tl.root / "epoch-0001.npy",
                                          np.full((20, 4), np.nan, np.float32)),
                       "epoch-0001.npy", "NaN"),
    "frame of integers": (lambda tl: np.save(tl.root / "epoch-0001.npy", np.zeros((20, 4), np.int32)),
                          "epoch-0001.npy", "expected float"),
}


@pytest.mark.parametrize("case", sorted(TAMPERS))
def test_a_tampered_recording_is_one_clear_error_naming_the_file(tmp_path, case):
    tamper, name, text = TAMPERS[case]
    tl, _ = _recording(tmp_path)
    tamper(tl)
    with pytest.raises(InvalidInputError) as info:
        tl.load()
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(tl.root / name)), message
    assert text in message, message


def test_a_tampered_recording_stops_recording_with_one_warning(tmp_path):
    tl, _ = _recording(tmp_path)
    _edit_meta(tl, indices=[3, 1])
    warnings = []
    ws = Workspace.create(tmp_path / "ws", make_store(tmp_path / "store"), tiny_config())
    recorder = tlmod.TimelapseRecorder(tl, ws.dataset(), on_warning=warnings.append)
    assert not recorder.enabled and len(warnings) == 1
    assert "meta.json" in warnings[0] and "delete" in warnings[0]
    assert recorder.record(model=None, epoch=1, fingerprint="abcd") is False
    assert len(warnings) == 1  # once per run, not per epoch
