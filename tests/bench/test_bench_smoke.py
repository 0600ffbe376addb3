"""The bench runs end to end: the tiny profile (one scenario) and the smoke profile (one of each comparison)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from localdev.processes import REPO_ROOT

pytestmark = pytest.mark.integration


def run_bench(profile: str, out: Path, timeout: float) -> dict[str, Any]:
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--profile", profile, "--no-plot", "--out", str(out)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output, _ = bench.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        bench.terminate()  # SIGTERM: the bench stops every process it started before it exits
        output, _ = bench.communicate(timeout=25)
    assert bench.returncode == 0, output[-4000:]
    return dict(json.loads((out / "results.json").read_text()))


def test_it_completes_a_tiny_run_with_nothing_lost_and_writes_its_json(tmp_path: Path) -> None:
    results = run_bench("tiny", tmp_path, timeout=150)
    [run] = results["runs"].values()
    assert run["messages"] == 10
    assert run["acked_200"] == 10
    assert run["lost"] == 0


def test_the_smoke_profile_measures_every_comparison_the_hops_and_the_idle_cost(tmp_path: Path) -> None:
    results = run_bench("smoke", tmp_path, timeout=170)

    runs, comparisons = results["runs"], results["comparisons"]
    assert {"webhook-drained", "webhook-drained-steady", "seq-new", "seq-next"} <= set(runs)  # ran to the end
    assert {"1_queue_vs_direct", "2_ack_vs_floor", "3_end_to_end_vs_ceiling", "4_completions_in_flight",
            "5_one_at_a_time"} <= set(comparisons)
    unmeasured = [g["id"] for g in comparisons["goals"] if g["id"].startswith("13.") and g["met"] is None]
    assert unmeasured == []
    answered = [r for r in runs.values() if "lost" in r]
    assert all(r["lost"] == r["duplicated"] == r["out_of_order"] == 0 for r in answered)
    # Every delivery of the one-at-a-time run is in the worker's histogram, and every one was acknowledged.
    hops = runs["seq-new"]["hops"]
    for stage in ("intake", "complete", "reply"):
        assert {phase: hops[stage][phase]["n"] for phase in ("queue", "dispatch", "run", "ack")} == dict.fromkeys(
            ("queue", "dispatch", "run", "ack"), 3)
    assert hops["intake"]["publish"]["n"] == hops["complete"]["publish"]["n"] == 3
    [idle] = comparisons["costs"]["idle_worker"]
    assert idle["by_action"].get("ReceiveMessage", 0) > 0
    assert results["bare_hops"]["latency_ms"]["n"] == 3
