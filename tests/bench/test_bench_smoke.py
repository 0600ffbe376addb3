"""The bench runs end to end in its tiny mode: one scenario, 5 users x 2 messages, every process stopped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from localdev.processes import REPO_ROOT

pytestmark = pytest.mark.integration


def test_it_completes_a_tiny_run_with_nothing_lost_and_writes_its_json(tmp_path: Path) -> None:
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--profile", "tiny", "--no-plot", "--out", str(tmp_path)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output, _ = bench.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        bench.terminate()  # SIGTERM: the bench stops every process it started before it exits
        output, _ = bench.communicate(timeout=25)
    assert bench.returncode == 0, output[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    [run] = results["runs"].values()
    assert run["messages"] == 10
    assert run["acked_200"] == 10
    assert run["lost"] == 0
