"""Statistical z-vector generators and latent-space paths (NumPy / scikit-learn only)."""

from .generators import (EllipseSampler, Generator, GridSampler, MultivariateNormalSampler,
                         NormalSampler, UniformBoxSampler, ellipse_condition_violations,
                         ellipse_pair_max, make_sampler)
from .paths import attribute_path, line_path, plane_path, resample_polyline

__all__ = ["Generator", "GridSampler", "UniformBoxSampler", "NormalSampler",
           "MultivariateNormalSampler", "EllipseSampler", "make_sampler", "ellipse_pair_max",
           "ellipse_condition_violations", "plane_path", "resample_polyline", "line_path",
           "attribute_path"]
