"""Side-by-side benchmarks: every figure of ours is measured next to a baseline in the same run.

``latentexplorer bench [--quick] [--out results.json] [--only NAME,...]`` (see
:mod:`latentexplorer.commands.bench`) runs the cases of :mod:`latentexplorer.bench.cases` and
prints a table plus JSON rows ``name, ours, baseline, ratio, unit, budget, passed``.

* :mod:`.runner` -- timing helpers (interleaved repeats, medians), the :class:`Result` row,
  the table, the JSON document, and the subprocess protocol for the GUI / memory cases.
* :mod:`.data` -- cached inputs (face stores, latent-like point clouds, JPEG folders).
* :mod:`.cases` -- the registry; one module per group: :mod:`.training`, :mod:`.decode`,
  :mod:`.analysis`, :mod:`.importing`; the GUI rows live in :mod:`latentexplorer.gui.bench_cases`
  (named by string in the registry).

Only the GUI rows import Qt, and only inside their child process (``QT_QPA_PLATFORM=offscreen``).
"""
