"""The bench's tables (terminal text and Markdown) and the machine they were measured on."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from typing import Any

ROLES = (("web (gunicorn)", "web"), ("worker (celery)", "worker"), ("moto (SQS)", "moto"),
         ("twilio stand-in", "twilio"), ("openai stand-in", "openai"), ("bench (load generator)", "bench"))


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value == 0:
        return "0"
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def run_rows(runs: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["run", "traffic", "AI s", "ack p50", "p95", "p99", "max ms", ">15s", "e2e p50", "p99 ms",
              "replies/s", "lost/dup/ooo", "SQS/reply", "max in flight"]
    rows = []
    for name, r in runs.items():
        ack, e2e = r["ack_ms"], r.get("e2e_ms") or {}
        losses = "/".join(_fmt(r.get(k)) for k in ("lost", "duplicated", "out_of_order")) if "lost" in r else "-"
        bad = f" ({r['not_200']} not 200)" if r["not_200"] else ""
        rows.append([name, r["scenario"]["traffic"] + bad, _fmt(r["scenario"]["openai_latency"]),
                     _fmt(ack["p50"]), _fmt(ack["p95"]), _fmt(ack["p99"]), _fmt(ack["max"]), _fmt(r["acks_over_15s"]),
                     _fmt(e2e.get("p50")), _fmt(e2e.get("p99")), _fmt(r.get("replies_per_s")), losses,
                     _fmt(r["sqs"]["per_reply"]), _fmt(r["completions_in_flight"]["max"] or None)])
    return header, rows


def process_rows(runs: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["run", "machine CPU %"] + [f"{short} CPU % / peak MB" for _, short in ROLES]
    rows = []
    for name, r in runs.items():
        procs = r["processes"]
        if not procs.get("available"):
            continue
        cells = [name, _fmt(procs["machine_cpu_percent"])]
        for role, _ in ROLES:
            numbers = procs["roles"].get(role)
            cells.append(f"{_fmt(numbers['cpu_percent'])} / {_fmt(numbers['peak_rss_mb'])}" if numbers else "-")
        rows.append(cells)
    return header, rows


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=False))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) for row in rows]
    return "\n".join(lines)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def comparison_lines(comparisons: dict[str, Any]) -> list[str]:
    """One sentence per comparison with its ratio and goal verdict."""
    lines = []
    for row in comparisons.get("1_queue_vs_direct", []):
        lines.append(
            f"1. {row['runs']} ({row['traffic']}, OpenAI {row['openai_latency_s']:g} s): ack p99 queue {_fmt(row['ack_p99_ms']['queue'])} ms vs direct "
            f"{_fmt(row['ack_p99_ms']['direct'])} ms (x{_fmt(row['ack_p99_ms']['direct/queue'])}); acks > 15 s "
            f"{row['acks_over_15s']['queue']} vs {row['acks_over_15s']['direct']}; replies/s "
            f"{_fmt(row['replies_per_s']['queue'])} vs {_fmt(row['replies_per_s']['direct'])}; "
            f"goal (queue acks < 15 s): {_verdict(row['goal_queue_acks_under_15s'])}")
    for shape, row in comparisons.get("2_ack_vs_floor", {}).items():
        if "goal_met" in row:
            lines.append(
                f"2. {shape} ({row['traffic']}): webhook ack p50/p99 {_fmt(row['webhook_ms']['p50'])}/"
                f"{_fmt(row['webhook_ms']['p99'])} ms vs SendMessage floor {_fmt(row['sendmessage_floor_ms']['p50'])}/"
                f"{_fmt(row['sendmessage_floor_ms']['p99'])} ms = x{_fmt(row['webhook/floor']['p50'])}/"
                f"x{_fmt(row['webhook/floor']['p99'])}; goal <= x1.3: {_verdict(row['goal_met'])}")
        elif "webhook/floor" in row:
            lines.append(f"2. {shape}: webhook ack p50/p99 {_fmt(row['webhook_ms']['p50'])}/"
                         f"{_fmt(row['webhook_ms']['p99'])} ms = x{_fmt(row['webhook/floor']['p50'])}/"
                         f"x{_fmt(row['webhook/floor']['p99'])} of the floor")
        elif "counted/plain" in row:
            lines.append(f"2. {shape}: SendMessage floor p50/p99 x{_fmt(row['counted/plain']['p50'])}/"
                         f"x{_fmt(row['counted/plain']['p99'])} of an unmodified moto_server")
    three = comparisons.get("3_end_to_end_vs_ceiling")
    if three:
        lines.append(
            f"3. best replies/s {_fmt(three['best_replies_per_s'])} ({three['best_run']}) vs the 3-hop boto3 ceiling "
            f"{_fmt(three['ceiling_messages_per_s'])} msgs/s = {_fmt(three['replies/ceiling'])}; goal >= 0.5: "
            f"{_verdict(three['goal_met'])}; SQS requests per reply {_fmt(three['sqs_requests_per_reply'])} "
            f"(the loop: 9)")
        backlog = three.get("ceiling_with_backlog")
        if backlog:
            lines.append(f"3. the same loop with {backlog['backlog_per_queue']} messages parked per queue (what a burst "
                         f"leaves there): {_fmt(backlog['messages_per_s'])} msgs/s; best replies/s are "
                         f"x{_fmt(backlog['best_replies/it'])} of it")
    four = comparisons.get("4_completions_in_flight")
    if four:
        runs = ", ".join(f"c{r['concurrency']} at {r['openai_latency_s']:g} s: {r['max_in_flight']} in flight, "
                         f"{_fmt(r['replies_per_s'])}/s" for r in four["runs"])
        lines.append(f"4. {runs}; 200 in flight at 2 s needs {_fmt(four['replies_per_s_needed_for_goal'])} "
                     f"replies/s, the SQS ceiling here is {_fmt(four['ceiling_messages_per_s'])} "
                     f"(Little's law allows ~{_fmt(four['littles_law_bound_at_ceiling'])}); goal >= 200 in flight: "
                     f"{_verdict(four['goal_in_flight_met'])}; replies/s scale: {_verdict(four['replies_per_s_scales'])}")
    return lines


def _verdict(met: bool | None) -> str:
    return "met" if met else "NOT met"
