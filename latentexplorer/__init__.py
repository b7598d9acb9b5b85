"""LatentExplorer: train autoencoders / VAEs on faces and explore their latent space.

Everything outside :mod:`latentexplorer.gui` is plain Python (NumPy in, NumPy out) and
usable from a notebook; only ``gui`` imports Qt / pyqtgraph.
"""

__version__ = "0.1.0"

from . import _env  # noqa: E402,F401  (quiet TensorFlow before anything imports it)
