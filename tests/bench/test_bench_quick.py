"""Smoke test of ``latentexplorer bench --quick``: every row present, numbers finite and
positive, the JSON valid. No thresholds: budgets apply to the full run on a quiet machine."""

from __future__ import annotations

import json
import math

import pytest

from latentexplorer.bench.cases import CASES, ROW_NAMES, select
from latentexplorer.bench.runner import Result, format_table, interleaved
from latentexplorer.cli import main
from latentexplorer.errors import InvalidInputError


def _positive(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


def test_bench_quick_all_rows(tmp_path, capsys):
    out = tmp_path / "results.json"
    rc = main(["bench", "--quick", "--out", str(out), "--cache", str(tmp_path / "cache")])
    printed = capsys.readouterr().out
    doc = json.loads(out.read_text())
    errors = {r["name"]: r.get("error") for r in doc["results"] if r.get("error")}
    assert rc == 0, f"bench --quick failed: {errors}\n{printed}"
    assert doc["format"] == "latentexplorer-bench/1" and doc["quick"] is True
    assert doc["machine"]["cpu_count"] >= 1 and doc["date"] and "bench" in doc["command"]
    rows = {r["name"]: r for r in doc["results"]}
    assert list(rows) == ROW_NAMES  # every row, in the table's order
    for name, r in rows.items():
        for key in ("name", "ours", "baseline", "ratio", "unit", "budget", "passed"):
            assert key in r, (name, key)
        assert r["quick"] is True and r["error"] is None, name
        assert _positive(r["ours"]), (name, r["ours"])
        assert r["unit"] and r["budget"], name
        # the device of every row; TensorFlow's rows name TensorFlow's (a GPU where there is one)
        tf_rows = {"train_throughput", "decode_one_p50", "decode_grid64", "train_bf16",
                   "gui_plane_switch", "train_peak_rss"}
        assert r["device"] == "CPU" or (name in tf_rows and r["device"].startswith("GPU ")), name
        # a verdict, except for rows that only report and for bfloat16 where the CPU emulates it
        if r["passed"] is None:
            assert "report" in r["budget"] or (name == "train_bf16"
                                               and not r["details"]["native_bf16"]), name
        else:
            assert isinstance(r["passed"], bool), name
        if name == "gui_slider_step":  # the one measurement without a baseline
            assert r["baseline"] is None and r["ratio"] is None
        else:
            assert _positive(r["baseline"]), (name, r["baseline"])
            assert _positive(r["ratio"]), (name, r["ratio"])
    for name in ROW_NAMES:
        assert name in printed
    assert "QUICK RUN" in printed


def test_only_selects_rows_and_groups():
    assert [c.key for c in select(["tsne"])] == ["tsne"]
    assert [c.key for c in select(["decode_grid64", "rss"])] == ["decode", "rss"]
    assert len(select(None)) == len(CASES)
    with pytest.raises(InvalidInputError, match="unknown benchmark"):
        select(["nope"])


def test_only_runs_just_that_case(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["bench", "--quick", "--only", "ellipse_100k", "--out", str(out),
                 "--cache", str(tmp_path / "cache")]) == 0
    doc = json.loads(out.read_text())
    assert [r["name"] for r in doc["results"]] == ["ellipse_100k"]


def test_interleaved_alternates_and_counts():
    calls = []
    a, b = interleaved(lambda: calls.append("o"), lambda: calls.append("b"), 3, baseline_repeats=2)
    assert len(a) == 3 and len(b) == 2
    assert calls == ["o", "b", "b", "o", "o"]


def test_table_marks_quick_and_full_verdicts():
    rows = [Result("x", "t", 1.0, 2.0, "s", ratio=2.0, budget=">= 3x", passed=False, quick=True),
            Result("y", "t", 1.0, 2.0, "s", ratio=2.0, budget=">= 3x", passed=False),
            Result("z", "t", None, None, "s", error="boom")]
    table = format_table(rows)
    assert "(below)" in table and "BELOW BUDGET" in table and "ERROR" in table
