"""Helpers of the reliability suite (CLI subprocesses, stderr checks)."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

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


# a child that runs the CLI and SIGKILLs itself just before its k-th rename (os.replace, os.rename
# and the atomic folder exchange of latentexplorer.fileio); with LE_TRACE set it appends every rename
# to that file (to count them)
_KILL_AT_RENAME = r"""
import os, signal, sys
kill_at = int(os.environ.get("LE_KILL_AT", "0"))
trace = os.environ.get("LE_TRACE")
count = 0
def hook(real):
    def renamed(src, dst, *args, **kwargs):
        global count
        count += 1
        if trace:
            with open(trace, "a") as fh:
                fh.write(f"{count}\t{src}\t{dst}\n")
        if count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)
    return renamed
os.replace, os.rename = hook(os.replace), hook(os.rename)
import latentexplorer.fileio as fileio
fileio.exchange = hook(fileio.exchange)
from latentexplorer.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_cli_killed_at(k: int, *args: str, trace: Path | None = None, timeout: float = 180
                      ) -> subprocess.CompletedProcess:
    """Run ``latentexplorer ARGS`` and SIGKILL it just before its ``k``-th rename (0: never)."""
    env = subprocess_env()
    env["LE_KILL_AT"] = str(k)
    if trace is not None:
        env["LE_TRACE"] = str(trace)
    return subprocess.run([sys.executable, "-c", _KILL_AT_RENAME, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


class Child:
    """A CLI subprocess whose stderr (progress bars) is collected by a thread."""

    def __init__(self, *args, cwd=None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "latentexplorer.cli", *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env(),
                                     cwd=cwd or REPO)
        self.err = b""
        self.out = b""
        self._t = threading.Thread(target=self._pump, daemon=True)
        self._t.start()
        self._t2 = threading.Thread(target=self._pump_out, daemon=True)
        self._t2.start()

    def _pump(self) -> None:
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):
            self.err += chunk

    def _pump_out(self) -> None:
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            self.out += chunk

    @property
    def last_progress(self) -> str:
        text = self.err.decode(errors="replace")
        return text.replace("\n", "\r").split("\r")[-1]

    def wait_for(self, cond, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"child ended (rc {self.proc.returncode}) before {what}:\n"
                                     f"{self.out.decode(errors='replace')}\n{self.err.decode(errors='replace')}")
            time.sleep(0.005)
        self.kill()
        raise AssertionError(f"timeout waiting for {what}:\n{self.err.decode(errors='replace')[-2000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self._t.join(5)
        self._t2.join(5)


def photo_folder(root: Path, n: int) -> Path:
    src = root / "photos"
    src.mkdir()
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(buf, "JPEG", quality=90)
    (src / "000000.jpg").write_bytes(buf.getvalue())
    for i in range(1, n):
        os.link(src / "000000.jpg", src / f"{i:06d}.jpg")  # cheap: n names, one file
    return src
