"""The face judges: pinned settings, per-image answers, faces versus noise."""

import numpy as np
import pytest

from latentexplorer.errors import EnvironmentProblem, InvalidInputError
from latentexplorer.judge.detectors import (HaarDetector, MTCNNDetector, as_image_batch,
                                            check_pyramid, default_detector, judge_images)


def test_pinned_settings(mtcnn):
    s = mtcnn.settings
    assert (s["work_size"], s["min_face_size"], s["min_confidence"]) == (64, 20, 0.9)
    assert s["package"].startswith("mtcnn 1.")
    assert default_detector("haar").settings["cascade"] == "haarcascade_frontalface_default.xml"


@pytest.mark.parametrize("work_size, min_face_size", [(96, 40), (160, 40), (64, 30)])
def test_settings_whose_pyramid_breaks_are_refused(work_size, min_face_size):
    """mtcnn starts its pyramid at 12 / min_face_size but sizes it as if it started at 1: with a
    large min_face_size the last level is below PNet's 12-px window and the batch finds nothing."""
    with pytest.raises(InvalidInputError, match="min_face_size <= 20"):
        check_pyramid(work_size, min_face_size, 0.709)
    with pytest.raises(InvalidInputError, match="PNet"):
        MTCNNDetector(work_size=work_size, min_face_size=min_face_size)


def test_default_pyramid_stays_above_the_window():
    scales = check_pyramid(64, 20, 0.709)
    assert int(64 * scales.min()) >= 12 and scales.max() == pytest.approx(0.6)


def test_mtcnn_finds_faces_not_noise(mtcnn, faces, noise):
    found = mtcnn.detect(faces)
    assert len(found) == 16 and sum(f.found for f in found) >= 12
    for f in found:
        if not f.found:
            continue
        x, y, w, h = f.box
        assert -2 <= x and -2 <= y and x + w <= 98 and y + h <= 98 and w > 20 and h > 20
        lm = f.landmarks
        assert lm["left_eye"][0] < lm["right_eye"][0]                     # image left / right
        assert max(lm["left_eye"][1], lm["right_eye"][1]) < lm["nose"][1] < \
            min(lm["mouth_left"][1], lm["mouth_right"][1])
        assert 0.9 <= f.confidence <= 1 and f.n_faces >= 1
    assert not any(f.found for f in mtcnn.detect(noise))


def test_input_size_and_type_do_not_matter(mtcnn, faces):
    """Boxes come back in the input's pixels; 64-px and float images are judged alike."""
    from PIL import Image

    small = np.stack([np.asarray(Image.fromarray(f).resize((64, 64))) for f in faces[:8]])
    a = mtcnn.detect(faces[:8])
    b = mtcnn.detect(small.astype(np.float32) / 255.0)
    assert sum(fa.found == fb.found for fa, fb in zip(a, b)) >= 7     # borderline faces may flip
    for fa, fb in zip(a, b):
        if fa.found and fb.found:
            assert np.allclose(np.array(fb.box) * 1.5, fa.box, atol=6)
    d = a[0].to_dict()
    assert set(d) == {"found", "confidence", "box", "landmarks", "n_faces"}


def test_haar_is_a_lenient_second_opinion(faces, noise):
    haar = HaarDetector()
    found = haar.detect(faces)
    assert sum(f.found for f in found) >= 4 and all(f.confidence is None for f in found)
    assert sum(f.found for f in haar.detect(noise)) <= 1


def test_haar_without_its_cascade_is_an_environment_problem(monkeypatch, tmp_path):
    import cv2

    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path))
    with pytest.raises(EnvironmentProblem, match="below 5"):
        HaarDetector().detect(np.zeros((1, 96, 96, 3), np.uint8))


def test_judge_images_scores_each_detector(faces):
    result = judge_images(faces[:8])
    assert set(result) == {"mtcnn", "haar"}
    found, score = result["mtcnn"]
    assert score.n == 8 and score.detected == sum(f.found for f in found)
    assert score.interval[0] <= score.rate <= score.interval[1]
    assert 0 < score.mean_confidence <= 1 and score.settings["work_size"] == 64
    assert result["haar"][1].mean_confidence is None


def test_embedding(mtcnn, faces, noise):
    f = mtcnn.embed(faces)
    assert f.shape == (16, 256) and f.dtype == np.float32 and np.isfinite(f).all()
    np.testing.assert_array_equal(f, mtcnn.embed(faces))
    # faces lie closer to each other than to noise in this space
    g = mtcnn.embed(noise)
    within = np.linalg.norm(f[:, None] - f[None], axis=-1).mean()
    across = np.linalg.norm(f[:, None] - g[None], axis=-1).mean()
    assert within < across


def test_bad_images_are_refused():
    with pytest.raises(InvalidInputError, match="shape"):
        as_image_batch(np.zeros((2, 5)))
    with pytest.raises(InvalidInputError, match="uint8"):
        as_image_batch(np.zeros((1, 8, 8, 3), np.int64))
    with pytest.raises(InvalidInputError, match="NaN"):
        as_image_batch(np.full((1, 8, 8, 3), np.nan))
    assert as_image_batch(np.zeros((8, 8, 1), np.uint8)).shape == (1, 8, 8, 3)
    with pytest.raises(InvalidInputError, match="detector"):
        default_detector("yolo")
