"""`python -m bench compare`: two runs' goals, latency, hops, costs and plots side by side."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main
from tests.bench.sample_runs import results, run


def write(path: Path, runs: dict[str, dict[str, object]], **kwargs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results(runs, **kwargs)))  # type: ignore[arg-type]
    return path


def test_it_writes_the_goals_before_and_after_with_their_verdicts_and_numbers(tmp_path: Path) -> None:
    hops = {"intake": {"queue": {"n": 30, "mean_ms": 300.0, "p50_ms": 250.0}}}
    before = write(tmp_path / "before" / "results.json", {
        "queue-0s": run("1", replies=10, sqs={"SendMessage": 30, "DeleteMessage": 30, "ReceiveMessage": 5}),
        "seq-new": run("5", e2e_p50=90.0, sequential=True, hops=hops),
        "seq-next": run("5", e2e_p50=339, sequential=True)}, bare_p50=59.0)
    after = write(tmp_path / "results.json", {
        "queue-0s": run("1", replies=10, sqs={"SendMessageBatch": 10, "DeleteMessageBatch": 10, "ReceiveMessage": 5}),
        "seq-new": run("5", e2e_p50=70.0, sequential=True),
        "seq-next": run("5", e2e_p50=80, sequential=True)}, bare_p50=59.0)

    assert main(["compare", str(before), str(after)]) == 0

    text = (tmp_path / "before-after.md").read_text()
    [goal_row] = [line for line in text.splitlines() if line.startswith("| 13.1 ")]
    assert "**not met**: 6.5 per reply" in goal_row and "**met**: 2.5 per reply" in goal_row
    [overhead_row] = [line for line in text.splitlines() if line.startswith("| overhead")]
    assert "| 31.0 | 11.0 |" in overhead_row
    assert "| seq-new | intake | before | 300/250 |" in text
    assert "![before](before/results.png)" in text and "![after](results.png)" in text


def test_a_before_run_from_older_code_is_judged_by_today_s_goals(tmp_path: Path) -> None:
    old = results({"queue-0s": run("1")})
    for key in ("bare_hops", "idle"):
        del old[key]  # written before the bench measured them
    before = tmp_path / "old.json"
    before.write_text(json.dumps(old))
    after = write(tmp_path / "new" / "results.json", {"queue-0s": run("1")})

    assert main(["compare", str(before), str(after), "--out", str(tmp_path / "out.md")]) == 0

    text = (tmp_path / "out.md").read_text()
    assert "| 13.3 |" in text and "not measured" in text
