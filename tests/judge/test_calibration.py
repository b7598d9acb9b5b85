"""The calibration kept with the code, and the probes it is measured with."""

import numpy as np
import pytest
from PIL import Image

from latentexplorer.errors import InvalidInputError
from latentexplorer.judge.calibration import (blurred_noise, calibrate, format_calibration,
                                              load_calibration, mean_face)


def test_shipped_calibration_separates_faces_from_garbage():
    cal = load_calibration()
    sets = cal["sets"]
    assert set(sets) >= {"real_aligned", "real_unseen", "reconstructions", "synthetic",
                         "blurred_noise", "mean_face"}
    assert sets["real_unseen"]["mtcnn"]["rate"] >= 0.85
    assert sets["real_aligned"]["mtcnn"]["rate"] >= 0.85
    assert sets["blurred_noise"]["mtcnn"]["rate"] <= 0.05
    assert cal["settings"]["mtcnn"]["min_face_size"] == 20
    text = format_calibration(cal)
    assert "blurred_noise" in text and "ms per image" in text


def test_blurred_noise_and_mean_face():
    a = blurred_noise(6, 32, random_state=5)
    assert a.shape == (6, 32, 32, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, blurred_noise(6, 32, random_state=5))
    assert all(img.min() == 0 and img.max() == 255 for img in a)          # full contrast
    m = mean_face(np.stack([np.zeros((4, 4, 3)), np.full((4, 4, 3), 200)]).astype(np.uint8))
    assert m.dtype == np.uint8 and (m == 100).all()
    with pytest.raises(InvalidInputError):
        blurred_noise(0)


def test_calibrate_on_a_tiny_stand_in(tmp_path, faces):
    """The whole calibration run, on synthetic faces standing in for the two CelebA folders."""
    aligned, crops = tmp_path / "celeba_aligned_half", tmp_path / "celeba_crops"
    aligned.mkdir()
    crops.mkdir()
    for i, f in enumerate(faces[:8]):
        Image.fromarray(f).resize((89, 109)).save(aligned / f"{i:06d}.jpg")
        Image.fromarray(f).resize((128, 140)).save(crops / f"{i:06d}.jpg")
    cal = calibrate(tmp_path, n=8)
    assert cal["sets"]["mean_face"]["n"] == 1 and cal["sets"]["synthetic"]["n"] == 8
    assert cal["sets"]["blurred_noise"]["mtcnn"]["rate"] == 0.0
    assert "real_unseen: second half vs first half" not in cal["coverage"]   # 4 + 4 images: too few
    c = cal["coverage"]["blurred_noise vs real_unseen"]      # 8 images: k-NN balls are huge here
    assert 0 <= c["precision"] <= 1 and c["n_real"] == 8
    assert set(cal["timing_ms_per_image"]) == {"mtcnn", "haar", "features"}
    with pytest.raises(InvalidInputError, match="not found"):
        calibrate(aligned)
