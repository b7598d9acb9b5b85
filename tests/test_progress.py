"""The terminal progress bar: its ETA is measured per phase (each epoch restarts the count)."""

import io
import re

from latentexplorer import progress as progress_mod
from latentexplorer.progress import TerminalProgress


class _Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def _last_eta(stream: io.StringIO) -> str:
    return re.findall(r"(eta +\S+|\d+\.\ds)", stream.getvalue())[-1]


def test_eta_restarts_with_each_epoch(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(progress_mod.time, "monotonic", clock)
    out = io.StringIO()
    bar = TerminalProgress("train", stream=out)
    for epoch in range(3):
        for step in range(1, 11):         # 10 steps of 2 s per epoch
            clock.t += 2.0
            bar.update(step, 10, f"epoch {epoch + 1}")
            if step == 1 and epoch > 0:
                assert _last_eta(out) == "eta     ?"   # no rate of this epoch yet
            if step == 3:
                # 7 steps left at 2 s each, whatever happened in earlier epochs
                assert _last_eta(out) == "eta    14s", out.getvalue()[-120:]
        # the epoch's time when it ends: from the bar's creation for the first, from the
        # epoch's first report for the others
        assert _last_eta(out) == ("20.0s" if epoch == 0 else "18.0s")
        for v in range(1, 4):              # validation: 3 steps of 10 s, a phase of its own
            clock.t += 10.0
            bar.update(v, 3, "validation")
        clock.t += 30.0                    # a checkpoint is written: no reports


def test_a_new_total_is_a_new_phase(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(progress_mod.time, "monotonic", clock)
    out = io.StringIO()
    bar = TerminalProgress("x", stream=out)
    clock.t += 1.0
    bar.update(1, 4)
    clock.t += 1.0
    bar.update(2, 4)
    assert _last_eta(out) == "eta     2s"
    clock.t += 5.0
    bar.update(1, 3)   # another task, mid-way: no rate yet
    assert _last_eta(out) == "eta     ?"
    clock.t += 3.0
    bar.update(2, 3)
    assert _last_eta(out) == "eta     3s"
