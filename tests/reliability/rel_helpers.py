"""Helpers of the reliability suite (CLI subprocesses, stderr checks)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def subprocess_env() -> dict:
    """Environment for ``python -m latentexplorer.cli`` children: quiet TF, the repo importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "tests" / "models"),
                                         env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["KERAS_BACKEND"] = "tensorflow"
    env["PYTHONUNBUFFERED"] = "1"
    # 2 busy cores: keep the children's thread pools small
    env.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    env.setdefault("TF_NUM_INTEROP_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_cli(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "latentexplorer.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=subprocess_env(),
                          **kw)


_PROGRESS = re.compile(r"^\s*[\w-]+ \[[#-]+\] ")


def assert_one_line_error(stderr: str, *needles: str) -> str:
    """stderr holds exactly one error line (besides progress-bar redraws and "warning:" lines), no
    traceback, and the line contains every needle."""
    lines = [ln for ln in stderr.replace("\r", "\n").splitlines()
             if ln.strip() and not _PROGRESS.match(ln) and not ln.startswith("warning:")]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"
    return lines[0]
