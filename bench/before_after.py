"""Two bench runs side by side (before and after a change): goals, one-at-a-time latency, hops, cost, runs, plots.

    python -m bench compare docs/bench/before/results.json docs/bench/results.json

Both results are judged by the same (today's) comparison code, so a goal added since the before run
is judged on its numbers too. Writes Markdown (the README links it) and prints it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.hops import PHASES
from bench.report import HOP_RUNS, fmt, markdown_table, verdict

Results = dict[str, Any]


def markdown(before: Results, after: Results, before_path: Path, after_path: Path, out_dir: Path | None = None) -> str:
    out_dir = out_dir or after_path.parent
    parts = ["# The bench before and after\n", _runs_line("Before", before, before_path, out_dir),
             _runs_line("After", after, after_path, out_dir), "",
             "Both judged by the same code (`bench/goals.py`); ratios are within each run.\n",
             "## Goals\n", _goals(before, after), "",
             "## One message at a time (OpenAI instant; ms)\n", _one_at_a_time(before, after), "",
             "## Where the time goes (the worker's hop timings, ms, mean/p50 per delivery)\n", _hops(before, after), "",
             "## SQS cost\n", _costs(before, after), "",
             "## Every run (ack p50/p99 ms, e2e p50 ms, replies/s, SQS requests per reply)\n", _runs(before, after), "",
             "## Plots\n", _plots(before_path, after_path, out_dir), ""]
    return "\n".join(parts)


def _runs_line(label: str, results: Results, path: Path, out_dir: Path) -> str:
    m = results["machine"]
    return (f"* {label}: [`{_rel(path, out_dir)}`]({_rel(path, out_dir)}), `{results['command']}`, profile "
            f"{results['profile']}, finished {results['finished_at']}; load average "
            f"{m['load_average_at_start'][0]} at the start, {m.get('load_average_at_end', ['?'])[0]} at the end")


def _goals(before: Results, after: Results) -> str:
    old = {g["id"]: g for g in before["comparisons"]["goals"]}
    rows = []
    for goal in after["comparisons"]["goals"]:
        earlier = old.get(goal["id"])
        rows.append([goal["id"], goal["goal"],
                     f"{verdict(earlier['met'])}: {earlier['numbers']}" if earlier else "-",
                     f"{verdict(goal['met'])}: {goal['numbers']}"])
    return markdown_table(["#", "goal", "before", "after"], rows)


def _one_at_a_time(before: Results, after: Results) -> str:
    def cell(results: Results, key: str) -> str:
        five = results["comparisons"].get("5_one_at_a_time") or {}
        value = five.get(key)
        if isinstance(value, dict):
            return f"{fmt(value.get('p50'))} / {fmt(value.get('p99'))}"
        return fmt(value)

    rows = [[label, cell(before, key), cell(after, key)] for label, key in (
        ("new sender, e2e p50 / p99", "new_sender_ms"), ("a sender's next message, e2e p50 / p99", "next_message_ms"),
        ("the 3 bare SQS hops, p50 / p99", "bare_3_hops_ms"), ("overhead (new p50 - bare p50)", "overhead_ms"),
        ("next / new (p50)", "next/new"))]
    return markdown_table(["", "before", "after"], rows)


def _hops(before: Results, after: Results) -> str:
    rows = []
    for name in HOP_RUNS:
        for stage in ("intake", "complete", "reply"):
            for label, results in (("before", before), ("after", after)):
                phases = (((results["runs"].get(name) or {}).get("hops")) or {}).get(stage)
                if not phases:
                    continue
                rows.append([name, stage, label, *[
                    f"{fmt(p['mean_ms'])}/{fmt(p['p50_ms'])}" if (p := phases.get(phase)) else "-"
                    for phase in PHASES]])
    if not rows:
        return "(no hop timings in either run)"
    return markdown_table(["run", "stage", "", *PHASES], rows)


def _costs(before: Results, after: Results) -> str:
    def replies(results: Results) -> dict[str, dict[str, Any]]:
        return {r["run"]: r for r in results["comparisons"]["costs"]["per_reply"]}

    def idle(results: Results) -> dict[str, dict[str, Any]]:
        return {w["settings"]: w for w in results["comparisons"]["costs"]["idle_worker"]}

    rows = []
    b, a = replies(before), replies(after)
    for run in dict.fromkeys([*b, *a]):
        row = a.get(run) or b[run]
        rows.append([f"per reply: {row['traffic']}", *(
            f"{fmt(r['requests_per_reply'])} requests, ${r['usd_per_million_replies']:.2f} per million replies"
            if r else "-" for r in (b.get(run), a.get(run)))])
    b, a = idle(before), idle(after)
    for settings in dict.fromkeys([*b, *a]):
        rows.append([f"idle worker, {settings} settings", *(
            f"{fmt(w['requests_per_hour'])} requests/hour, ${w['usd_per_worker_month']:.3f} per worker-month"
            if w else "-" for w in (b.get(settings), a.get(settings)))])
    price = after["comparisons"]["costs"]["usd_per_million_requests"]
    return markdown_table(["", "before", "after"], rows) + f"\n\nAt ${price:.2f} per million FIFO requests."


def _runs(before: Results, after: Results) -> str:
    def numbers(run: dict[str, Any] | None) -> list[str]:
        if run is None:
            return ["-"] * 4
        return [f"{fmt(run['ack_ms']['p50'])}/{fmt(run['ack_ms']['p99'])}",
                fmt((run.get("e2e_ms") or {}).get("p50")), fmt(run.get("replies_per_s")), fmt(run["sqs"]["per_reply"])]

    names = dict.fromkeys([*before["runs"], *after["runs"]])
    rows = [[name, *_interleave(numbers(before["runs"].get(name)), numbers(after["runs"].get(name)))] for name in names]
    header = ["run"] + [f"{what} {when}" for what in ("ack", "e2e p50", "replies/s", "SQS/reply")
                        for when in ("before", "after")]
    return markdown_table(header, rows)


def _interleave(a: list[str], b: list[str]) -> list[str]:
    return [x for pair in zip(a, b, strict=True) for x in pair]


def _plots(before_path: Path, after_path: Path, out_dir: Path) -> str:
    before_png, after_png = (_rel(p.parent / "results.png", out_dir) for p in (before_path, after_path))
    return markdown_table(["before", "after"], [[f"![before]({before_png})", f"![after]({after_png})"]])


def _rel(path: Path, start: Path) -> str:
    return os.path.relpath(path, start)
