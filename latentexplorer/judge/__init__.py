"""Judging "faces or garbage" independently of the model under test (SPEC §5, issue 12).

* :mod:`.detectors` — MTCNN (primary) and OpenCV's Haar cascade (second opinion): per image
  face found, confidence, box, landmarks; :func:`~.detectors.judge_images` scores a set.
* :mod:`.rates` — detection rate with a 95 % Wilson interval and mean confidence per set.
* :mod:`.coverage` — precision, recall, density and coverage of a generated set against real
  images, and a variety figure, in the feature space of the detector network.
* :mod:`.sources` — the images of a folder, a grid PNG with its sidecar, or a sweep folder.
* :mod:`.scoring` — :func:`~.scoring.score_images` (one set: rates, variety, coverage; what a
  scoreboard calls) and :func:`~.scoring.score_path` (what ``latentexplorer score`` runs).
* :mod:`.calibration` — the judge's rates on real photos, synthetic faces, blurred noise and
  the mean face, kept with the code (``latentexplorer/resources/judge_calibration.json``).

Qt-free; TensorFlow and OpenCV are imported only when a detector runs.
"""
