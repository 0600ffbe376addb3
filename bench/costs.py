"""SQS requests turned into dollars at AWS's published FIFO price: per million replies, per idle worker-month.

Price: US East (N. Virginia), FIFO queues, $0.50 per million requests (every SendMessage,
ReceiveMessage, DeleteMessage, ChangeMessageVisibility and their batch forms; every other action
too), the first million requests of each month free (not subtracted here: a cost per unit is
what scales). Each 64 KB chunk of a request's payload is billed as one request; a batch's payload is
the sum of its entries. Sources and the date they were read: docs/bench/README.md, "Cost".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

FIFO_USD_PER_MILLION_REQUESTS = 0.50
CHUNK_BYTES = 64 * 1024
BATCH_ENTRIES = 10  # SQS's most entries per batch request
HOURS_PER_MONTH = 730  # AWS's own month for pricing (8760 h / 12)

# (label, run): the runs whose requests per reply the table shows.
REPLY_RUNS = (("60 senders x 3, burst (queue-0s)", "queue-0s"),
              ("one message at a time, new senders (seq-new)", "seq-new"),
              ("one sender's messages in a row (seq-next)", "seq-next"))


def chunks_per_request(largest_body_bytes: int | None) -> int:
    """Billed requests per request: a full batch of the largest message seen, in 64 KB chunks (at least 1)."""
    if not largest_body_bytes:
        return 1
    return max(1, math.ceil(largest_body_bytes * BATCH_ENTRIES / CHUNK_BYTES))


def usd(requests: float | None, chunks: int = 1) -> float | None:
    return None if requests is None else requests * chunks * FIFO_USD_PER_MILLION_REQUESTS / 1e6


def cost_table(runs: Mapping[str, Mapping[str, Any]], idle: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    largest = max((r.get("largest_body_bytes") or 0 for r in runs.values()), default=0) or None
    chunks = chunks_per_request(largest)
    replies = []
    for label, name in REPLY_RUNS:
        run = runs.get(name)
        per_reply = (run or {}).get("sqs", {}).get("per_reply")
        if per_reply is None:
            continue
        per_million = usd(per_reply * 1e6, chunks)
        replies.append({"traffic": label, "run": name, "requests_per_reply": per_reply,
                        "by_action_per_reply": _per_reply(run or {}),
                        "usd_per_million_replies": None if per_million is None else round(per_million, 2)})
    workers = []
    for measured in idle or []:
        per_month = usd(measured["requests_per_hour"] * HOURS_PER_MONTH, chunks)
        workers.append({"settings": measured["settings"], "env": measured["env"],
                        "requests_per_hour": measured["requests_per_hour"], "by_action": measured["by_action"],
                        "seconds": measured["seconds"],
                        "usd_per_worker_month": None if per_month is None else round(per_month, 3)})
    return {"usd_per_million_requests": FIFO_USD_PER_MILLION_REQUESTS, "largest_body_bytes": largest,
            "chunks_per_request": chunks, "per_reply": replies, "idle_worker": workers}


def _per_reply(run: Mapping[str, Any]) -> dict[str, float]:
    sqs, replies = run.get("sqs") or {}, run.get("replies") or 0
    return {action: round(n / replies, 2) for action, n in (sqs.get("by_action") or {}).items()} if replies else {}
