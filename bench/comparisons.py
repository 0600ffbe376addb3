"""The five comparisons as ratios, the goals (bench/goals.py) and the cost table, from the runs' numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import goals
from bench.costs import cost_table
from bench.hops import per_message_ms

ACK_GOAL_RATIO = 1.3
CEILING_GOAL_SHARE = 0.5
INFLIGHT_GOAL = 200


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def compare(runs: dict[str, dict[str, Any]], ceiling: dict[str, Any] | None,
            bare_hops: dict[str, Any] | None = None, idle: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    one = _queue_vs_direct(runs)
    if one:
        result["1_queue_vs_direct"] = one
    two = _ack_vs_floor(runs)
    if two:
        result["2_ack_vs_floor"] = two
    if ceiling:
        result["3_end_to_end_vs_ceiling"] = _vs_ceiling(runs, ceiling)
    four = _in_flight(runs, ceiling)
    if four:
        result["4_completions_in_flight"] = four
    five = _one_at_a_time(runs, bare_hops)
    if five:
        result["5_one_at_a_time"] = five
    result["costs"] = cost_table(runs, idle)
    result["goals"] = goals.evaluate(runs, result)
    return result


def _one_at_a_time(runs: dict[str, dict[str, Any]], bare: dict[str, Any] | None) -> dict[str, Any]:
    """One message at a time: a new sender's, a sender's next, and the 3 bare SQS hops' end to end (ms)."""
    new, following = runs.get("seq-new"), runs.get("seq-next")
    if new is None and following is None and bare is None:
        return {}

    def e2e(run: dict[str, Any] | None) -> dict[str, Any] | None:
        return {k: run["e2e_ms"][k] for k in ("p50", "p99", "n")} if run and run.get("e2e_ms") else None

    bare_ms = {k: bare["latency_ms"][k] for k in ("p50", "p99", "n")} if bare else None
    new_ms, next_ms = e2e(new), e2e(following)
    overhead = None
    if new_ms and bare_ms and new_ms["p50"] is not None and bare_ms["p50"] is not None:
        overhead = round(new_ms["p50"] - bare_ms["p50"], 1)
    return {
        "bare_3_hops_ms": bare_ms, "new_sender_ms": new_ms, "next_message_ms": next_ms,
        "overhead_ms": overhead,
        "next/new": ratio(next_ms["p50"], new_ms["p50"]) if new_ms and next_ms else None,
        "hops_mean_ms_per_message": {name: per_message_ms(run.get("hops"))
                                     for name, run in (("seq-new", new), ("seq-next", following)) if run},
    }


def _queue_vs_direct(runs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name, queue in runs.items():
        if queue["scenario"]["comparison"] != "1" or queue["scenario"]["app"] != "queue":
            continue
        direct = runs.get(name.replace("queue-", "direct-"))
        if direct is None:
            continue
        rows.append({
            "runs": f"{name} / {name.replace('queue-', 'direct-')}",
            "traffic": queue["scenario"]["traffic"],
            "openai_latency_s": queue["scenario"]["openai_latency"],
            "ack_p99_ms": {"queue": queue["ack_ms"]["p99"], "direct": direct["ack_ms"]["p99"],
                           "direct/queue": ratio(direct["ack_ms"]["p99"], queue["ack_ms"]["p99"])},
            "ack_max_ms": {"queue": queue["ack_ms"]["max"], "direct": direct["ack_ms"]["max"]},
            "acks_over_15s": {"queue": queue["acks_over_15s"], "direct": direct["acks_over_15s"]},
            "e2e_p50_ms": {"queue": queue["e2e_ms"]["p50"], "direct": direct["e2e_ms"]["p50"],
                           "direct/queue": ratio(direct["e2e_ms"]["p50"], queue["e2e_ms"]["p50"])},
            "replies_per_s": {"queue": queue["replies_per_s"], "direct": direct["replies_per_s"],
                              "queue/direct": ratio(queue["replies_per_s"], direct["replies_per_s"])},
            "goal_queue_acks_under_15s": queue["acks_over_15s"] == 0 and (queue["ack_ms"]["max"] or 0) < 15000,
        })
    return rows


def _ack_vs_floor(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    shapes = {"simultaneous senders": ("queue-0s", "floor-send", "floor-null"),
              "steady rate": ("webhook-steady", "floor-send-steady", "floor-null-steady")}
    result: dict[str, Any] = {}
    for shape, (hook, send, null) in shapes.items():
        if hook not in runs or send not in runs:
            continue
        h, s = runs[hook]["ack_ms"], runs[send]["ack_ms"]
        p50, p99 = ratio(h["p50"], s["p50"]), ratio(h["p99"], s["p99"])
        result[shape] = {
            "traffic": runs[hook]["scenario"]["traffic"],
            "webhook_ms": {"p50": h["p50"], "p99": h["p99"]},
            "sendmessage_floor_ms": {"p50": s["p50"], "p99": s["p99"]},
            "null_floor_ms": {k: runs[null]["ack_ms"][k] for k in ("p50", "p99")} if null in runs else None,
            "webhook/floor": {"p50": p50, "p99": p99},
            "goal_met": p50 is not None and p99 is not None and p50 <= ACK_GOAL_RATIO and p99 <= ACK_GOAL_RATIO,
        }
    if "webhook-drained" in runs and "floor-send" in runs:
        h, s = runs["webhook-drained"]["ack_ms"], runs["floor-send"]["ack_ms"]
        result["webhook, no worker, intake drained like the floor"] = {
            "webhook_ms": {"p50": h["p50"], "p99": h["p99"]},
            "webhook/floor": {"p50": ratio(h["p50"], s["p50"]), "p99": ratio(h["p99"], s["p99"])}}
    if "webhook-drained-steady" in runs and "floor-send-steady" in runs:
        h, s = runs["webhook-drained-steady"]["ack_ms"], runs["floor-send-steady"]["ack_ms"]
        result["webhook at the steady rate, no worker, intake drained like the floor"] = {
            "webhook_ms": {"p50": h["p50"], "p99": h["p99"]},
            "webhook/floor": {"p50": ratio(h["p50"], s["p50"]), "p99": ratio(h["p99"], s["p99"])}}
    if "webhook-cold" in runs:
        result["cold start"] = {"webhook_ms": {k: runs["webhook-cold"]["ack_ms"][k] for k in ("p50", "p99", "max")}}
    if "floor-send-plain-moto" in runs and "floor-send" in runs:
        c, p = runs["floor-send"]["ack_ms"], runs["floor-send-plain-moto"]["ack_ms"]
        result["cost of counting SQS requests"] = {
            "counted_ms": {"p50": c["p50"], "p99": c["p99"]}, "plain_moto_ms": {"p50": p["p50"], "p99": p["p99"]},
            "counted/plain": {"p50": ratio(c["p50"], p["p50"]), "p99": ratio(c["p99"], p["p99"])}}
    return result


def _vs_ceiling(runs: dict[str, dict[str, Any]], ceiling: dict[str, Any]) -> dict[str, Any]:
    short = [r for r in ceiling["loops"] if not r.get("backlog_per_queue")]
    best = max((r["messages_per_s"] for r in short), default=0.0)
    backlogged = [r for r in ceiling["loops"] if r.get("backlog_per_queue")]
    # One-at-a-time runs are latency runs: their replies/s is 1 / latency, not a throughput.
    queue_runs = {name: r for name, r in runs.items() if r["scenario"]["app"] == "queue" and r.get("replies_per_s")
                  and r["scenario"]["openai_latency"] == 0 and not r["scenario"].get("sequential")}
    top_name = max(queue_runs, key=lambda n: queue_runs[n]["replies_per_s"], default=None)
    top = queue_runs[top_name]["replies_per_s"] if top_name else None
    share = ratio(top, best)
    reference = runs.get("queue-0s") or (queue_runs[top_name] if top_name else None)
    return {
        "ceiling_messages_per_s": best,
        "ceiling_with_backlog": ({"backlog_per_queue": backlogged[0]["backlog_per_queue"],
                                  "messages_per_s": backlogged[0]["messages_per_s"],
                                  "best_replies/it": ratio(top, backlogged[0]["messages_per_s"])}
                                 if backlogged else None),
        "ceiling_requests_per_message": 9,
        "best_replies_per_s": top, "best_run": top_name,
        "replies/ceiling": share,
        "goal_met": share is not None and share >= CEILING_GOAL_SHARE,
        "sqs_requests_per_reply": reference["sqs"]["per_reply"] if reference else None,
        "sqs_by_action": reference["sqs"]["by_action"] if reference else None,
        "per_run_replies_per_s": {n: r["replies_per_s"] for n, r in queue_runs.items()},
    }


def _in_flight(runs: dict[str, dict[str, Any]], ceiling: dict[str, Any] | None) -> dict[str, Any]:
    rows = []
    for name, run in runs.items():
        if run["scenario"]["comparison"] != "4":
            continue
        worker = run["processes"].get("roles", {}).get("worker (celery)", {})
        rows.append({"concurrency": run["scenario"]["worker_concurrency"], "run": name,
                     "openai_latency_s": run["scenario"]["openai_latency"],
                     "max_in_flight": run["completions_in_flight"]["max"],
                     "replies_per_s": run.get("replies_per_s"), "lost": run.get("lost"),
                     "worker_cpu_percent": worker.get("cpu_percent"), "worker_peak_rss_mb": worker.get("peak_rss_mb")})
    if not rows:
        return {}
    rows.sort(key=lambda r: (r["openai_latency_s"], r["concurrency"]))
    best_ceiling = max((r["messages_per_s"] for r in (ceiling or {}).get("loops", [])
                        if not r.get("backlog_per_queue")), default=None)
    rates = [r["replies_per_s"] or 0 for r in rows if r["openai_latency_s"] == 2]
    return {
        "openai_latency_s": 2,
        "runs": rows,
        # Little's law: in flight = completions/s x latency; 200 in flight at 2 s takes 100 completions/s.
        "replies_per_s_needed_for_goal": INFLIGHT_GOAL / 2,
        "ceiling_messages_per_s": best_ceiling,
        "littles_law_bound_at_ceiling": round(best_ceiling * 2, 1) if best_ceiling else None,
        "goal_in_flight_met": max(r["max_in_flight"] for r in rows if r["openai_latency_s"] == 2) >= INFLIGHT_GOAL,
        "max_in_flight_any_latency": max(r["max_in_flight"] for r in rows),
        "replies_per_s_scales": all(b >= a * 0.95 for a, b in zip(rates, rates[1:], strict=False)),
    }
