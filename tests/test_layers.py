"""The import floors of docs/architecture.md: no import runs back up, and only ``gui/`` imports Qt.

Pure ``ast``: every module under ``latentexplorer/`` is parsed, none is imported. Counted as imports:
``import`` and ``from ... import`` (absolute and relative) at module level and inside functions
("lazy"), and a module named in quotes, such as ``"latentexplorer.gui.bench_cases:bench_gui"``
(loaded later with ``importlib``; counted as lazy). Outside ``gui/``, importing Qt is refused at any
level, and importing ``latentexplorer.gui`` (which imports Qt) at module level.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "latentexplorer"

# Floors, bottom up, by the first name under latentexplorer ("" is latentexplorer/__init__.py).
# A module may import its own floor and any floor below it, at module level or lazily.
FLOORS = [
    # 0 base: exceptions, progress protocol, writing (fileio, filegroups) and reading (inputs) files,
    #   output-path checks, JSON schemas, locks, stop signals, TensorFlow set-up
    {"", "errors", "progress", "fileio", "filegroups", "outputs", "schemas", "inputs", "locks",
     "signals", "_env"},
    {"data"},  # 1 dataset stores: synthetic faces, photo import, merge, tf.data pipeline
    {"models"},  # 2 Keras AE/VAE, Encoder/Decoder, .keras files, the epoch loop (knows no workspace)
    {"workspace"},  # 3 one run's folder: committed epochs and latents, staleness, training a workspace
    # 4 siblings that need at most the workspace: statistics (analysis.report reads a workspace),
    #   generators and paths, images/grids/heat maps and closeness (render), the face judge
    {"analysis", "sampling", "render", "judge"},
    {"explore"},  # 5 the Qt-free exploration model and the generate/decode/judge pipelines
    {"reports", "bench"},  # 6 the written analysis report; benchmarks (Qt only in their child process)
    {"gui"},  # 7 the only package that imports Qt; above bench: gui/bench_cases.py uses bench.runner
    {"commands"},  # 8 one module per CLI command
    {"cli"},  # 9 the entry point
]
FLOOR = {name: i for i, names in enumerate(FLOORS) for name in names}
QT = {"PySide6", "shiboken6", "pyqtgraph", "superqt", "qtpy"}

# Lazy imports allowed to go up a floor (never at module level), "importer -> imported": reason.
ALLOWED_LAZY_UP = {
    "latentexplorer.reports -> latentexplorer.gui.analysis_plots":
        "the PNG plots of `analyze` are drawn with pyqtgraph, imported only when plots are asked for",
    "latentexplorer.bench.cases -> latentexplorer.gui.bench_cases":
        "GUI bench rows (cases 8, 9) are named by string and run in a child process with offscreen Qt",
    "latentexplorer.bench.cases -> latentexplorer.gui.bench_scale":
        "the 2,000,000-point GUI rows (case 13), named by string, run in a child process likewise",
}

# Upward imports that exist today and are to be fixed ("importer -> imported"). Fixing one makes this
# test fail until its entry is removed here: the set only shrinks.
KNOWN_VIOLATIONS: set[str] = set()

_BY_NAME = re.compile(r"""["'](latentexplorer(?:\.\w+)+)(?::\w+)?["']""")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _statements(body, lazy=False):
    """Every statement under ``body`` with whether it runs inside a function (expressions skipped)."""
    for node in body:
        yield node, lazy
        inner = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            yield from _statements(getattr(node, field, ()), inner)


def _imports(name: str, path: Path):
    """``(line, imported module, lazy)`` for every import of module ``name``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    text = path.read_text(encoding="utf-8")
    for node, lazy in _statements(ast.parse(text, str(path)).body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, lazy
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            mod = ".".join(p for p in (base, node.module) if p)
            for alias in node.names:  # `from . import x`: x may be a module of its own
                sub = f"{mod}.{alias.name}"
                yield node.lineno, sub if sub in MODULES else mod, lazy
    for m in _BY_NAME.finditer(text):  # a module named by a string, imported later by importlib
        yield text.count("\n", 0, m.start()) + 1, m.group(1), True


def _floor_key(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@functools.lru_cache(maxsize=1)
def _scan():
    """``(violations {key: [where, ...]}, allowed lazy-up keys used, modules without a floor)``."""
    violations, allowed_used, unplaced = {}, set(), set()
    for name, path in MODULES.items():
        if _floor_key(name) not in FLOOR:
            unplaced.add(name)
            continue
        src, in_gui = FLOOR[_floor_key(name)], _floor_key(name) == "gui"
        for line, target, lazy in _imports(name, path):
            key, where = f"{name} -> {target}", f"{path.relative_to(PKG.parent)}:{line}"
            top = target.split(".")[0]
            if top in QT and not in_gui:
                violations.setdefault(key, []).append(f"{where} (Qt outside gui/)")
            if top != "latentexplorer":
                continue
            if _floor_key(target) not in FLOOR:
                unplaced.add(target)
                continue
            dst = FLOOR[_floor_key(target)]
            if _floor_key(target) == "gui" and not in_gui and not lazy:
                violations.setdefault(key, []).append(f"{where} (gui, i.e. Qt, at module level)")
            elif dst > src:
                if lazy and key in ALLOWED_LAZY_UP:
                    allowed_used.add(key)
                else:
                    violations.setdefault(key, []).append(
                        f"{where} ({'lazy' if lazy else 'module-level'} import up from floor {src} to {dst})")
    return violations, allowed_used, unplaced


def _listing(keys, violations=None) -> str:
    return "".join(f"\n  {k}" + ("".join(f"\n      {w}" for w in violations[k]) if violations else "")
                   for k in sorted(keys))


def test_every_module_and_import_target_has_a_floor():
    assert len(MODULES) > 50
    _, _, unplaced = _scan()
    assert not unplaced, f"add these to FLOORS in {Path(__file__).name}:{_listing(unplaced)}"


def test_no_import_runs_up_a_floor_and_only_gui_imports_qt():
    violations, _, _ = _scan()
    new = set(violations) - KNOWN_VIOLATIONS
    assert not new, f"imports that run up a floor or bring Qt outside gui/:{_listing(new, violations)}"
    fixed = KNOWN_VIOLATIONS - set(violations)
    assert not fixed, f"fixed: remove from KNOWN_VIOLATIONS:{_listing(fixed)}"


def test_allow_list_entries_are_still_needed():
    _, allowed_used, _ = _scan()
    unused = set(ALLOWED_LAZY_UP) - allowed_used
    assert not unused, f"no longer imported: remove from ALLOWED_LAZY_UP:{_listing(unused)}"
