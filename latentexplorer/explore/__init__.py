"""The exploration model under the GUI, free of Qt: planes and their geometry, the current vector,
paths, samples, neighbours and the analysis the explorer needs — usable from a notebook."""

from .analysis import ExplorerAnalysis, Thresholds, compute_analysis
from .model import Current, ExplorationModel
from .neighbors import NearestIndex
from .paths import DirectionPath, PlanePath
from .plane import Plane, Projector

__all__ = ["ExplorationModel", "Current", "Plane", "Projector", "PlanePath", "DirectionPath",
           "NearestIndex", "ExplorerAnalysis", "Thresholds", "compute_analysis"]
