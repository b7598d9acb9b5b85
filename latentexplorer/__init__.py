"""LatentExplorer: train autoencoders / VAEs on faces and explore their latent space.

Everything outside :mod:`latentexplorer.gui` is plain Python (NumPy in, NumPy out) and
usable from a notebook; only ``gui`` imports Qt / pyqtgraph.
"""

import os as _os

__version__ = "0.1.0"

# before anything imports TensorFlow (which happens only in latentexplorer._env, lazily)
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hides grappler "remapper failed" noise
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
