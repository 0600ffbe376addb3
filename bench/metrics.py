"""From what was sent and what the stand-ins stamped to the numbers of one run.

Ack latency: request sent → response read, by the load generator. End to end: request sent →
the Twilio stand-in accepted the reply (201), both on this machine's clock. A reply belongs to the
message whose token its text repeats. Lost: acknowledged with 200, never answered. Duplicated:
answered more than once. Out of order: a reply that reached the user after the reply to a later
message of the same user (later = the per-conversation sequence number the webhook gave it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bench.loadgen import Message

TWILIO_LIMIT_SECONDS = 15.0


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation: p99 of 100 samples is the 99th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def distribution(values: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99/max in milliseconds."""
    ms = [v * 1000 for v in values]
    return {"p50": _r(percentile(ms, 50)), "p95": _r(percentile(ms, 95)), "p99": _r(percentile(ms, 99)),
            "max": _r(max(ms) if ms else None), "n": len(ms)}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def token_of(reply_body: str) -> str | None:
    marker = "bench "
    at = reply_body.find(marker)
    return reply_body[at + len(marker):].split()[0] if at >= 0 else None


def summarise(messages: Sequence[Message], replies: Iterable[Mapping[str, Any]], seqs: Mapping[str, int],
              expect_replies: bool, start: float) -> dict[str, Any]:
    """The per-run numbers; `seqs` maps MessageSid → the sequence number the webhook gave it."""
    by_token = {m.token: m for m in messages}
    acked = [m for m in messages if m.status == 200]
    first_reply: dict[str, float] = {}
    counts: dict[str, int] = defaultdict(int)
    order: dict[str, list[int]] = defaultdict(list)
    unmatched = 0
    for reply in replies:
        token = token_of(str(reply.get("body", "")))
        message = by_token.get(token or "")
        if message is None:
            unmatched += 1
            continue
        counts[token or ""] += 1
        if counts[token or ""] == 1:
            first_reply[message.token] = float(reply["t"])
            order[message.user].append(seqs.get(message.sid, message.n + 1))
    acks = [m.acked - m.sent for m in acked]
    e2e = [first_reply[m.token] - m.sent for m in acked if m.token in first_reply]
    result: dict[str, Any] = {
        "messages": len(messages),
        "acked_200": len(acked),
        "not_200": len(messages) - len(acked),
        "statuses": _status_counts(messages),
        "ack_ms": distribution(acks),
        "acks_over_15s": sum(1 for a in acks if a > TWILIO_LIMIT_SECONDS),
        "send_window_s": round(max((m.sent for m in messages), default=start) - start, 2),
        "schedule_lag_ms": distribution([m.sent - m.scheduled for m in messages if m.scheduled]),
    }
    if expect_replies:
        last = max(first_reply.values(), default=start)
        result.update({
            "e2e_ms": distribution(e2e),
            "replies": len(first_reply),
            "replies_per_s": round(len(first_reply) / (last - start), 2) if last > start else None,
            "first_send_to_last_reply_s": round(last - start, 2),
            "lost": sum(1 for m in acked if m.token not in first_reply),
            "duplicated": sum(c - 1 for c in counts.values() if c > 1),
            "out_of_order": sum(_late(seq_list) for seq_list in order.values()),
            "unmatched_replies": unmatched,
        })
    return result


def _late(seq_list: list[int]) -> int:
    """Replies that arrived after a reply to a later message of the same user."""
    highest, late = 0, 0
    for seq in seq_list:
        if seq < highest:
            late += 1
        highest = max(highest, seq)
    return late


def _status_counts(messages: Sequence[Message]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for m in messages:
        counts[str(m.status)] += 1
    return dict(counts)


def per_second(times: Iterable[float], start: float) -> list[int]:
    """How many events fell in each whole second after `start`."""
    buckets: dict[int, int] = defaultdict(int)
    for t in times:
        buckets[max(0, int(t - start))] += 1
    return [buckets.get(i, 0) for i in range(max(buckets, default=-1) + 1)]


def in_flight(spans: Iterable[Mapping[str, float]], start: float, step: float = 0.25) -> dict[str, Any]:
    """Completions in flight at the OpenAI stand-in: the maximum and a series every `step` seconds."""
    edges = sorted([(s["start"], 1) for s in spans] + [(s["end"], -1) for s in spans])
    peak = current = 0
    series: list[int] = []
    t_next = start
    for t, delta in edges:
        while t >= t_next:
            series.append(current)
            t_next += step
        current += delta
        peak = max(peak, current)
    return {"max": peak, "step_s": step, "series": series}


def sqs_delta(before: Mapping[str, int], after: Mapping[str, int], replies: int) -> dict[str, Any]:
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    delta = {k: v for k, v in sorted(delta.items()) if v}
    total = sum(delta.values())
    return {"by_action": delta, "total": total, "per_reply": round(total / replies, 2) if replies else None}
