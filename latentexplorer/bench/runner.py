"""Timing helpers, the result row, the table and the JSON document of ``latentexplorer bench``.

Measuring side by side: :func:`interleaved` alternates ours and the baseline (``ABBA`` order,
so a slow drift of the machine -- a background job, thermal state -- hits both equally) and
the rows report medians. Cases that need a clean process (the GUI, peak RSS) run in a child
``python -m latentexplorer.bench.child`` that prints its rows as one JSON line.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

FORMAT = "latentexplorer-bench/1"
CHILD_MARKER = "LATENTEXPLORER_BENCH_ROWS:"


# --------------------------------------------------------------------------------------------- rows
@dataclass
class Result:
    """One row of the benchmark table.

    Attributes
    ----------
    name : short identifier (``--only`` takes it)
    title : what is measured
    ours, baseline : float or None
        The two figures, in ``unit``, measured in the same run (medians).
    unit : str
    ratio : float or None
        See ``ratio_def`` (``"baseline/ours"`` = speed-up for times, ``"ours/baseline"`` for
        throughputs and memory fractions).
    ratio_def : str
    budget : str
        The budget of the issue (full run, this 2-core CPU), in words.
    passed : bool or None
        Whether the budget is met (None: no budget, or the case failed).
    quick : bool
        Measured with ``--quick`` sizes (budgets are not meaningful there).
    notes : str
        Sizes, caps and scalings (e.g. a baseline measured on a subset and scaled).
    details : dict
        Extra figures (all samples, p95, secondary sizes).
    error : str or None
        Traceback summary if the case failed.
    device : str
        Where "ours" ran: ``CPU`` or the TensorFlow GPU (``GPU NVIDIA H200``).
    """

    name: str
    title: str
    ours: float | None
    baseline: float | None
    unit: str
    ratio: float | None = None
    ratio_def: str = "baseline/ours"
    budget: str = ""
    passed: bool | None = None
    quick: bool = False
    notes: str = ""
    details: dict = field(default_factory=dict)
    error: str | None = None
    device: str = ""

    def to_dict(self) -> dict:
        return _jsonable(asdict(self))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    return obj


def speedup(ours: float, baseline: float) -> float:
    """baseline / ours (times: > 1 means ours is faster)."""
    return float(baseline) / float(ours) if ours > 0 else float("inf")


def failed_row(name: str, title: str, unit: str, budget: str, quick: bool, exc: BaseException) -> Result:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return Result(name, title, None, None, unit, budget=budget, quick=quick,
                  error=f"{type(exc).__name__}: {exc}", details={"traceback": tb[-4000:]})


# ------------------------------------------------------------------------------------------ timing
def timed(fn: Callable[[], object]) -> float:
    """Wall time of one call in seconds."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def interleaved(ours: Callable[[], object], baseline: Callable[[], object], repeats: int,
                *, baseline_repeats: int | None = None, warmup: bool = False
                ) -> tuple[list[float], list[float]]:
    """Time ``ours`` and ``baseline`` alternately (ABBA...), ``repeats`` times each.

    ``baseline_repeats`` (default ``repeats``) lets a slow baseline run fewer times; the extra
    runs of ours are spread between them. With ``warmup`` each is called once untimed first.
    The callables may return a float: that value (e.g. a time measured inside, excluding
    set-up) is used instead of the wall time of the call.

    Returns
    -------
    ours_times, baseline_times : lists of seconds (or of the returned values)
    """
    nb = repeats if baseline_repeats is None else baseline_repeats
    if warmup:
        ours()
        baseline()

    def run(fn):
        t = time.perf_counter()
        v = fn()
        dt = time.perf_counter() - t
        return float(v) if isinstance(v, (float, np.floating)) else dt

    a: list[float] = []
    b: list[float] = []
    rounds = max(repeats, nb)
    for r in range(rounds):
        first_ours = r % 2 == 0
        order = ("o", "b") if first_ours else ("b", "o")
        for who in order:
            if who == "o" and len(a) < repeats:
                a.append(run(ours))
            elif who == "b" and len(b) < nb:
                b.append(run(baseline))
    return a, b


def median(values: Sequence[float]) -> float:
    return float(np.median(np.asarray(values, dtype=np.float64)))


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


class RssPoller:
    """Peak resident set size of a process (and its children), polled from a thread."""

    def __init__(self, pid: int | None = None, interval: float = 0.01, children: bool = True) -> None:
        import threading

        import psutil

        self._proc = psutil.Process(pid or os.getpid())
        self.interval = interval
        self.children = children
        self.start_rss, self.start_file = self._sample()
        self.peak = self.start_rss
        #: peak of the file-backed part (mapped files and shared memory: Linux RssFile + RssShmem)
        #: and of the rest (anonymous: heaps, tensors, thread stacks)
        self.peak_file = self.start_file
        self.peak_anonymous = self.start_rss - self.start_file
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> tuple[int, int]:
        """(RSS, its file-backed part) of the process and its children, in bytes."""
        import psutil

        procs = [self._proc]
        try:
            if self.children:
                procs += self._proc.children(recursive=True)
        except psutil.Error:
            return 0, 0
        rss = shared = 0
        for p in procs:
            try:
                info = p.memory_info()
            except psutil.Error:
                continue
            rss += info.rss
            shared += getattr(info, "shared", 0)
        return int(rss), int(shared)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss, shared = self._sample()
            self.peak = max(self.peak, rss)
            self.peak_file = max(self.peak_file, shared)
            self.peak_anonymous = max(self.peak_anonymous, rss - shared)

    def __enter__(self) -> "RssPoller":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        rss, shared = self._sample()
        self.peak = max(self.peak, rss)
        self.peak_file = max(self.peak_file, shared)
        self.peak_anonymous = max(self.peak_anonymous, rss - shared)

    @property
    def extra(self) -> int:
        """Peak minus the RSS at construction (bytes)."""
        return max(0, self.peak - self.start_rss)


def peak_extra_memory(fn: Callable[[], object]) -> dict:
    """Run ``fn`` once; peak extra memory by tracemalloc (NumPy buffers are traced) and RSS.

    Returns ``{"tracemalloc_mb", "rss_mb"}``.
    """
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        with RssPoller(interval=0.005, children=False) as poll:
            fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    gc.collect()
    return {"tracemalloc_mb": (peak - base) / 2**20, "rss_mb": poll.extra / 2**20}


# ------------------------------------------------------------------------------------------- cases
@dataclass
class Context:
    """What a case needs to know about the run."""

    quick: bool
    cache: Path
    jpeg_dir: Path | None = None
    log: Callable[[str], None] = lambda msg: None


@dataclass(frozen=True)
class Case:
    """A benchmark group: ``fn(ctx) -> list[Result]`` producing the rows ``names``.

    ``child`` cases run in a fresh ``python -m latentexplorer.bench.child`` process (GUI: Qt
    offscreen in a process of its own; memory: a clean RSS).
    """

    key: str
    names: tuple[str, ...]
    fn_path: str  # "module:function" inside latentexplorer.bench
    child: bool = False
    titles: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    budgets: tuple[str, ...] = ()
    uses_tf: bool = False  # its "ours" runs TensorFlow (the row names TensorFlow's device)

    def load(self) -> Callable[[Context], list[Result]]:
        import importlib

        mod, fn = self.fn_path.split(":")
        # GUI cases live in latentexplorer.gui (the only package that imports Qt): full module path
        module = mod if mod.startswith("latentexplorer.") else f"latentexplorer.bench.{mod}"
        return getattr(importlib.import_module(module), fn)


def run_case(case: Case, ctx: Context) -> list[Result]:
    """Run one case (in this process or a child); a failure becomes error rows."""
    t0 = time.perf_counter()
    try:
        rows = run_child(case, ctx) if case.child else case.load()(ctx)
    except Exception as exc:  # noqa: BLE001 -- one broken case must not hide the others
        rows = [failed_row(n, t, u, b, ctx.quick, exc)
                for n, t, u, b in zip(case.names, case.titles, case.units, case.budgets)]
    seconds = time.perf_counter() - t0
    device = tensorflow_device() if case.uses_tf else "CPU"
    for r in rows:
        r.details.setdefault("case_seconds", round(seconds, 2))
        r.device = r.device or device
    return rows


def tensorflow_device() -> str:
    """The device TensorFlow computes on: its first GPU by name, else ``CPU``."""
    from .. import _env  # noqa: F401
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
    return f"GPU {name}" + (f" (x{len(gpus)})" if len(gpus) > 1 else "")


def run_child(case: Case, ctx: Context) -> list[Result]:
    """Run ``case`` in ``python -m latentexplorer.bench.child`` and parse its rows."""
    cmd = [sys.executable, "-m", "latentexplorer.bench.child", case.key, "--cache", str(ctx.cache)]
    if ctx.quick:
        cmd.append("--quick")
    if ctx.jpeg_dir is not None:
        cmd += ["--jpeg-dir", str(ctx.jpeg_dir)]
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(CHILD_MARKER):
            return [Result(**d) for d in json.loads(line[len(CHILD_MARKER):])]
    raise RuntimeError(f"child for {case.key} exited with {proc.returncode} without results:\n"
                       f"{proc.stderr[-3000:]}")


# ------------------------------------------------------------------------------------------ output
def _fmt(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def format_table(rows: Iterable[Result]) -> str:
    """Plain-text table: name, ours, baseline, unit, ratio, device, budget, verdict."""
    head = ("name", "ours", "baseline", "unit", "ratio", "device", "budget (full run)", "")
    lines = []
    for r in rows:
        if r.error:
            verdict = "ERROR"
        elif r.passed is None:
            verdict = ""
        elif r.quick:
            verdict = "(ok)" if r.passed else "(below)"
        else:
            verdict = "ok" if r.passed else "BELOW BUDGET"
        ratio = "-" if r.ratio is None else f"{_fmt(r.ratio)}x" if r.ratio_def == "baseline/ours" \
            else _fmt(r.ratio)
        lines.append((r.name, _fmt(r.ours), _fmt(r.baseline), r.unit, ratio, r.device or "-",
                      r.budget, verdict))
    widths = [max(len(str(x[i])) for x in [head, *lines]) for i in range(len(head))]
    out = []
    for k, line in enumerate([head, *lines]):
        cells = [str(c).rjust(w) if i in (1, 2, 4) else str(c).ljust(w)
                 for i, (c, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def machine_info() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "numpy": np.__version__}
    try:
        info["cpus_available"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except Exception:  # noqa: BLE001
        pass
    return info


def document(rows: list[Result], *, quick: bool, command: str, seconds: float) -> dict:
    return {"format": FORMAT, "quick": quick, "command": command,
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "seconds": round(seconds, 1), "machine": machine_info(),
            "results": [r.to_dict() for r in rows]}
