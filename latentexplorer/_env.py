"""Process-wide defaults applied before TensorFlow is imported (quiet logs)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hides grappler "remapper failed" noise
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
