"""The bench's tables (terminal text and Markdown) and the machine they were measured on."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from typing import Any

from bench.hops import PHASES

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


def fmt(value: Any) -> str:
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
        losses = "/".join(fmt(r.get(k)) for k in ("lost", "duplicated", "out_of_order")) if "lost" in r else "-"
        bad = f" ({r['not_200']} not 200)" if r["not_200"] else ""
        rows.append([name, r["scenario"]["traffic"] + bad, fmt(r["scenario"]["openai_latency"]),
                     fmt(ack["p50"]), fmt(ack["p95"]), fmt(ack["p99"]), fmt(ack["max"]), fmt(r["acks_over_15s"]),
                     fmt(e2e.get("p50")), fmt(e2e.get("p99")), fmt(r.get("replies_per_s")), losses,
                     fmt(r["sqs"]["per_reply"]), fmt(r["completions_in_flight"]["max"] or None)])
    return header, rows


def process_rows(runs: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["run", "machine CPU %"] + [f"{short} CPU % / peak MB" for _, short in ROLES]
    rows = []
    for name, r in runs.items():
        procs = r["processes"]
        if not procs.get("available"):
            continue
        cells = [name, fmt(procs["machine_cpu_percent"])]
        for role, _ in ROLES:
            numbers = procs["roles"].get(role)
            cells.append(f"{fmt(numbers['cpu_percent'])} / {fmt(numbers['peak_rss_mb'])}" if numbers else "-")
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
            f"1. {row['runs']} ({row['traffic']}, OpenAI {row['openai_latency_s']:g} s): ack p99 queue {fmt(row['ack_p99_ms']['queue'])} ms vs direct "
            f"{fmt(row['ack_p99_ms']['direct'])} ms (x{fmt(row['ack_p99_ms']['direct/queue'])}); acks > 15 s "
            f"{row['acks_over_15s']['queue']} vs {row['acks_over_15s']['direct']}; replies/s "
            f"{fmt(row['replies_per_s']['queue'])} vs {fmt(row['replies_per_s']['direct'])}; "
            f"goal (queue acks < 15 s): {_verdict(row['goal_queue_acks_under_15s'])}")
    for shape, row in comparisons.get("2_ack_vs_floor", {}).items():
        if "goal_met" in row:
            lines.append(
                f"2. {shape} ({row['traffic']}): webhook ack p50/p99 {fmt(row['webhook_ms']['p50'])}/"
                f"{fmt(row['webhook_ms']['p99'])} ms vs SendMessage floor {fmt(row['sendmessage_floor_ms']['p50'])}/"
                f"{fmt(row['sendmessage_floor_ms']['p99'])} ms = x{fmt(row['webhook/floor']['p50'])}/"
                f"x{fmt(row['webhook/floor']['p99'])}; goal <= x1.3: {_verdict(row['goal_met'])}")
        elif "webhook/floor" in row:
            lines.append(f"2. {shape}: webhook ack p50/p99 {fmt(row['webhook_ms']['p50'])}/"
                         f"{fmt(row['webhook_ms']['p99'])} ms = x{fmt(row['webhook/floor']['p50'])}/"
                         f"x{fmt(row['webhook/floor']['p99'])} of the floor")
        elif "counted/plain" in row:
            lines.append(f"2. {shape}: SendMessage floor p50/p99 x{fmt(row['counted/plain']['p50'])}/"
                         f"x{fmt(row['counted/plain']['p99'])} of an unmodified moto_server")
    three = comparisons.get("3_end_to_end_vs_ceiling")
    if three:
        lines.append(
            f"3. best replies/s {fmt(three['best_replies_per_s'])} ({three['best_run']}) vs the 3-hop boto3 ceiling "
            f"{fmt(three['ceiling_messages_per_s'])} msgs/s = {fmt(three['replies/ceiling'])}; goal >= 0.5: "
            f"{_verdict(three['goal_met'])}; SQS requests per reply {fmt(three['sqs_requests_per_reply'])} "
            f"(the loop: 9)")
        backlog = three.get("ceiling_with_backlog")
        if backlog:
            lines.append(f"3. the same loop with {backlog['backlog_per_queue']} messages parked per queue (what a burst "
                         f"leaves there): {fmt(backlog['messages_per_s'])} msgs/s; best replies/s are "
                         f"x{fmt(backlog['best_replies/it'])} of it")
    four = comparisons.get("4_completions_in_flight")
    if four:
        runs = ", ".join(f"c{r['concurrency']} at {r['openai_latency_s']:g} s: {r['max_in_flight']} in flight, "
                         f"{fmt(r['replies_per_s'])}/s" for r in four["runs"])
        lines.append(f"4. {runs}; 200 in flight at 2 s needs {fmt(four['replies_per_s_needed_for_goal'])} "
                     f"replies/s, the SQS ceiling here is {fmt(four['ceiling_messages_per_s'])} "
                     f"(Little's law allows ~{fmt(four['littles_law_bound_at_ceiling'])}); goal >= 200 in flight: "
                     f"{_verdict(four['goal_in_flight_met'])}; replies/s scale: {_verdict(four['replies_per_s_scales'])}")
    five = comparisons.get("5_one_at_a_time")
    if five:
        def p50(key: str) -> str:
            return fmt((five.get(key) or {}).get("p50"))
        lines.append(f"5. one at a time, OpenAI instant: new sender e2e p50 {p50('new_sender_ms')} ms, a sender's next "
                     f"message {p50('next_message_ms')} ms (x{fmt(five['next/new'])}), the 3 bare SQS hops "
                     f"{p50('bare_3_hops_ms')} ms; overhead {fmt(five['overhead_ms'])} ms")
    return lines


def _verdict(met: bool | None) -> str:
    return "met" if met else "NOT met"


def verdict(met: bool | None) -> str:
    """A goal's verdict, also for a goal this run did not measure."""
    return "not measured" if met is None else "**met**" if met else "**not met**"


def goal_rows(goals: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    return ["#", "goal", "verdict", "numbers"], [[g["id"], g["goal"], verdict(g["met"]), g["numbers"]] for g in goals]


HOP_RUNS = ("seq-new", "seq-next", "queue-0s")


def hop_rows(runs: dict[str, dict[str, Any]], names: Sequence[str] = HOP_RUNS) -> tuple[list[str], list[list[str]]]:
    """Per run and stage: each phase's mean / p50 in ms (p50 from the histogram's buckets)."""
    header = ["run", "stage", "deliveries"] + [f"{phase} mean/p50" for phase in PHASES]
    rows = []
    for name in names:
        for stage, phases in ((runs.get(name) or {}).get("hops") or {}).items():
            cells = [f"{fmt(p['mean_ms'])}/{fmt(p['p50_ms'])}" if (p := phases.get(phase)) else "-"
                     for phase in PHASES]
            deliveries = max((p["n"] for p in phases.values()), default=0)
            rows.append([name, stage, str(deliveries), *cells])
    return header, rows


def cost_rows(costs: dict[str, Any]) -> tuple[tuple[list[str], list[list[str]]], tuple[list[str], list[list[str]]]]:
    """(per reply, per idle worker): requests and dollars at the FIFO price."""
    replies = (["traffic", "SQS requests per reply", "by action", "USD per million replies"],
               [[r["traffic"], fmt(r["requests_per_reply"]),
                 ", ".join(f"{a} {n}" for a, n in r["by_action_per_reply"].items()),
                 f"{r['usd_per_million_replies']:.2f}" if r["usd_per_million_replies"] is not None else "-"]
                for r in costs.get("per_reply", [])])
    idle = (["idle worker", "requests per hour", "counted (window)", "USD per worker-month"],
            [[f"{w['settings']} ({', '.join(f'{k}={v}' for k, v in w['env'].items()) or 'defaults'})",
              fmt(w["requests_per_hour"]), f"{', '.join(f'{a} {n}' for a, n in w['by_action'].items())} in "
              f"{w['seconds']} s", f"{w['usd_per_worker_month']:.3f}" if w["usd_per_worker_month"] is not None else "-"]
             for w in costs.get("idle_worker", [])])
    return replies, idle
