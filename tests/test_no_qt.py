"""The core runs without Qt: in a process where PySide6, pyqtgraph, superqt and qtpy cannot be
imported, every module outside ``latentexplorer.gui`` imports, and an analysis, an exploration and a
generation run."""

from __future__ import annotations

import subprocess
import sys


SCRIPT = r"""
import importlib, importlib.abc, pkgutil, sys

class NoQt(importlib.abc.MetaPathFinder):
    BLOCKED = ("PySide6", "pyqtgraph", "superqt", "qtpy", "shiboken6")
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, NoQt())
import latentexplorer
names = [m.name for m in pkgutil.walk_packages(latentexplorer.__path__, "latentexplorer.")
         if not m.name.startswith("latentexplorer.gui")]
for name in names:
    importlib.import_module(name)

import numpy as np
from latentexplorer.analysis.report import analyze_latents
from latentexplorer.explore import ExplorationModel, compute_analysis
from latentexplorer.explore.generate import GenerationContext, GeneratorSpec, generate

z = np.random.default_rng(0).normal(size=(300, 8)).astype("float32")
summary, _ = analyze_latents(z)
m = ExplorationModel()
m.set_data(z)
m.set_analysis(compute_analysis(z))
m.set_plane(("pca", 0, 1))
m.set_plane_point(1.0, -1.0)
gen = generate(GeneratorSpec.of("ellipse", 50, 0, z_dim=8), GenerationContext(z))
assert gen.z.shape == (50, 8) and gen.images is None
assert not any(k.split(".")[0] in NoQt.BLOCKED for k in sys.modules)
print("ok", len(names), summary["z_dim"])
"""


def test_core_modules_and_an_analysis_run_without_qt():
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith("ok ") and int(r.stdout.split()[1]) > 30
