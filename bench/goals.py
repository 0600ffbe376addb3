"""Every goal the bench checks, met or not, with the numbers behind the verdict (issue 13's and the earlier ones).

Each goal is a row: {id, goal, met (True, False, or None when this run did not measure it), numbers}.
All ratios are within one run: the floors and the ceiling are measured against the same moto as
the runs they judge. The reasons (why a goal is or is not met) are the docs' to give; the numbers
here are what they rest on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Runs = Mapping[str, Mapping[str, Any]]
Row = dict[str, Any]

REQUESTS_PER_REPLY_GOAL = 4.0
ACK_VS_FLOOR_GOAL = 1.0
ACK_MAX_MS_GOAL = 1000.0
OVERHEAD_MS_GOAL = 20.0
NEXT_VS_NEW_GOAL = 1.5
CEILING_SHARE_GOAL = 0.8
IN_FLIGHT_GOAL = 200
EARLIER_ACK_RATIO = 1.3
EARLIER_CEILING_SHARE = 0.5


def evaluate(runs: Runs, comparisons: Mapping[str, Any]) -> list[Row]:
    """The goal rows, issue 13's first, from the runs and the comparisons computed from them."""
    checks: list[Callable[[Runs, Mapping[str, Any]], Row]] = [
        _requests_per_reply, _ack_vs_floor, _low_load_overhead, _next_vs_new, _vs_ceiling(CEILING_SHARE_GOAL, "13.5"),
        _in_flight, _no_loss, _queue_acks_under_15s, _earlier_ack("simultaneous senders", "E2a"),
        _earlier_ack("steady rate", "E2b"), _vs_ceiling(EARLIER_CEILING_SHARE, "E3"), _scaling]
    return [check(runs, comparisons) for check in checks]


def _row(goal_id: str, goal: str, met: bool | None, numbers: str) -> Row:
    return {"id": goal_id, "goal": goal, "met": met, "numbers": numbers}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def _requests_per_reply(runs: Runs, _: Mapping[str, Any]) -> Row:
    goal = f"SQS requests per reply <= {REQUESTS_PER_REPLY_GOAL:g} under the 60 x 3 burst (queue-0s)"
    run = runs.get("queue-0s")
    if run is None or run["sqs"]["per_reply"] is None:
        return _row("13.1", goal, None, "queue-0s not run")
    per_reply = run["sqs"]["per_reply"]
    replies = run.get("replies") or 1
    actions = ", ".join(f"{a} {round(n / replies, 2)}" for a, n in run["sqs"]["by_action"].items())
    return _row("13.1", goal, per_reply <= REQUESTS_PER_REPLY_GOAL,
                f"{per_reply} per reply ({run['scenario']['traffic']}; per reply: {actions})")


def _ack_vs_floor(runs: Runs, _: Mapping[str, Any]) -> Row:
    goal = (f"webhook ack p99 <= {ACK_VS_FLOOR_GOAL:g}x the one-SendMessage floor at 60 simultaneous senders with "
            f"the worker draining (queue-0s vs floor-send), and no ack over {ACK_MAX_MS_GOAL / 1000:g} s")
    hook, floor = runs.get("queue-0s"), runs.get("floor-send")
    if hook is None or floor is None:
        return _row("13.2", goal, None, "queue-0s or floor-send not run")
    p99, floor_p99, worst = hook["ack_ms"]["p99"], floor["ack_ms"]["p99"], hook["ack_ms"]["max"]
    share = round(p99 / floor_p99, 2) if p99 is not None and floor_p99 else None
    met = share is not None and share <= ACK_VS_FLOOR_GOAL and worst is not None and worst <= ACK_MAX_MS_GOAL
    return _row("13.2", goal, met, f"p99 {_ms(p99)} vs floor {_ms(floor_p99)} = x{share}; max {_ms(worst)}")


def _low_load_overhead(_: Runs, comparisons: Mapping[str, Any]) -> Row:
    goal = f"low-load end-to-end overhead <= {OVERHEAD_MS_GOAL:g} ms p50 beyond the 3 bare SQS hops (seq-new)"
    five = comparisons.get("5_one_at_a_time") or {}
    overhead = five.get("overhead_ms")
    if overhead is None:
        return _row("13.3", goal, None, "seq-new or the bare hops not run")
    return _row("13.3", goal, overhead <= OVERHEAD_MS_GOAL,
                f"new sender p50 {_ms(five['new_sender_ms']['p50'])} - bare 3 hops p50 "
                f"{_ms(five['bare_3_hops_ms']['p50'])} = {_ms(overhead)}")


def _next_vs_new(_: Runs, comparisons: Mapping[str, Any]) -> Row:
    goal = f"a sender's next message <= {NEXT_VS_NEW_GOAL:g}x a new sender's, p50 (seq-next / seq-new)"
    five = comparisons.get("5_one_at_a_time") or {}
    share = five.get("next/new")
    if share is None:
        return _row("13.4", goal, None, "seq-new or seq-next not run")
    return _row("13.4", goal, share <= NEXT_VS_NEW_GOAL,
                f"next p50 {_ms(five['next_message_ms']['p50'])} / new p50 {_ms(five['new_sender_ms']['p50'])} "
                f"= x{share}")


def _vs_ceiling(share_goal: float, goal_id: str) -> Callable[[Runs, Mapping[str, Any]], Row]:
    def check(_: Runs, comparisons: Mapping[str, Any]) -> Row:
        goal = f"best replies/s >= {share_goal:g} of the plain boto3 3-hop ceiling"
        three = comparisons.get("3_end_to_end_vs_ceiling")
        if not three or three.get("replies/ceiling") is None:
            return _row(goal_id, goal, None, "the ceiling not measured")
        share = three["replies/ceiling"]
        return _row(goal_id, goal, share >= share_goal,
                    f"{three['best_replies_per_s']} replies/s ({three['best_run']}) / ceiling "
                    f"{three['ceiling_messages_per_s']} msgs/s = {share}")
    return check


def _in_flight(runs: Runs, _: Mapping[str, Any]) -> Row:
    goal = f"{IN_FLIGHT_GOAL} OpenAI completions in flight at 2 s latency on one worker host (inflight-c200)"
    at_two = {n: r for n, r in runs.items() if r["scenario"]["comparison"] == "4" and r["scenario"]["openai_latency"] == 2}
    if not at_two:
        return _row("13.6", goal, None, "no run at 2 s")
    name = "inflight-c200" if "inflight-c200" in at_two else max(
        at_two, key=lambda n: at_two[n]["scenario"]["worker_concurrency"] or 0)
    run = at_two[name]
    worker = run["processes"].get("roles", {}).get("worker (celery)", {})
    memory = f", worker peak {worker['peak_rss_mb']} MB" if worker.get("peak_rss_mb") else ""
    peak = run["completions_in_flight"]["max"]
    return _row("13.6", goal, peak >= IN_FLIGHT_GOAL,
                f"{peak} in flight at most ({name}, {run['scenario']['users']} users), "
                f"{run.get('replies_per_s')} replies/s{memory}")


def _no_loss(runs: Runs, _: Mapping[str, Any]) -> Row:
    """Judged on the queue-mode runs: the pipeline's promise. Direct mode (comparison 1's baseline without
    the queue) answers each request on its own thread with no per-user order, so two lines typed at once
    may be answered in either order; its counts are shown beside the verdict, not in it."""
    goal = "no loss, no duplicate, no reorder in any queue-mode scenario"
    answered = [r for r in runs.values() if "lost" in r and _app(r) != "direct"]
    if not answered:
        return _row("13.7", goal, None, "no scenario with replies")
    keys = ("lost", "duplicated", "out_of_order")
    totals = {k: sum(r.get(k) or 0 for r in answered) for k in keys}
    refused = sum(r.get("not_200") or 0 for r in answered)
    where = [name for name, r in runs.items()
             if _app(r) != "direct" and (r.get("not_200") or any(r.get(k) for k in keys))]
    direct = {name: sum(r.get(k) or 0 for k in keys) for name, r in runs.items() if _app(r) == "direct" and "lost" in r}
    direct_note = ""
    if any(direct.values()):
        direct_note = "; direct mode (not judged): " + ", ".join(f"{n} {c}" for n, c in direct.items() if c)
    met = not any(totals.values()) and not refused
    return _row("13.7", goal, met, f"lost {totals['lost']}, duplicated {totals['duplicated']}, out of order "
                                   f"{totals['out_of_order']}, not acknowledged {refused}, in {len(answered)} runs"
                                   + (f" (in {', '.join(where)})" if where else "") + direct_note)


def _app(run: Mapping[str, Any]) -> str:
    return str((run.get("scenario") or {}).get("app", "queue"))


def _queue_acks_under_15s(_: Runs, comparisons: Mapping[str, Any]) -> Row:
    goal = "queue-mode acks never near Twilio's 15 s, whatever OpenAI does"
    rows = comparisons.get("1_queue_vs_direct") or []
    if not rows:
        return _row("E1", goal, None, "comparison 1 not run")
    worst = max(r["ack_max_ms"]["queue"] or 0 for r in rows)
    return _row("E1", goal, all(r["goal_queue_acks_under_15s"] for r in rows),
                f"queue ack max {_ms(worst)} over {len(rows)} latencies")


def _earlier_ack(shape: str, goal_id: str) -> Callable[[Runs, Mapping[str, Any]], Row]:
    def check(_: Runs, comparisons: Mapping[str, Any]) -> Row:
        goal = f"webhook ack p50 and p99 <= {EARLIER_ACK_RATIO:g}x the SendMessage floor, {shape}"
        row = (comparisons.get("2_ack_vs_floor") or {}).get(shape)
        if not row:
            return _row(goal_id, goal, None, "not run")
        share = row["webhook/floor"]
        return _row(goal_id, goal, row["goal_met"], f"x{share['p50']} / x{share['p99']} ({row['traffic']})")
    return check


def _scaling(_: Runs, comparisons: Mapping[str, Any]) -> Row:
    goal = "replies/s grows with the worker's concurrency until the SQS ceiling (2 s latency)"
    four = comparisons.get("4_completions_in_flight")
    if not four:
        return _row("E4b", goal, None, "comparison 4 not run")
    rates = ", ".join(f"c{r['concurrency']} {r['replies_per_s']}/s" for r in four["runs"] if r["openai_latency_s"] == 2)
    return _row("E4b", goal, four["replies_per_s_scales"], rates)
