"""What an idle worker costs: the Procfile's worker with no traffic for N seconds, its SQS requests counted.

An idle worker still long-polls each of its queues: one ReceiveMessage per queue per wait
(`SQS_WAIT_TIME_SECONDS`) plus the polling interval, whatever else it does. The bench starts the
worker (or keeps the one running with the same settings), lets its start-up calls pass, then counts
every request moto receives for `seconds` and scales the count to an hour. Nothing else talks to
moto meanwhile (the web answers nothing, the load generator is quiet). With a 20 s wait a window of
N seconds sees N / 20 polls per queue, give or take one: long windows make it exact.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from bench.metrics import sqs_delta
from bench.stack import BenchStack

log = logging.getLogger("bench")

SETTLE_SECONDS = 2.0  # the worker's start-up calls (the safety check, the first look-ups) stay out of the window


def measure(stack: BenchStack, label: str, seconds: float, env: Mapping[str, str],
            concurrency: int = 16) -> dict[str, Any]:
    if stack.worker(concurrency, env):  # a worker that was already running has nothing left to settle
        time.sleep(SETTLE_SECONDS)
    log.info("idle worker (%s: %s), %ss with no traffic", label, dict(env) or "defaults", seconds)
    before, began = stack.sqs_counts(), time.monotonic()
    time.sleep(seconds)  # the measurement window: requests are counted by moto, nothing is awaited
    after, elapsed = stack.sqs_counts(), time.monotonic() - began
    counted = sqs_delta(before, after, 0)
    per_hour = round(counted["total"] / elapsed * 3600, 1)
    log.info("  %s requests (%s): %s per idle worker-hour", counted["total"], counted["by_action"], per_hour)
    return {"settings": label, "env": dict(env), "seconds": round(elapsed, 2), "by_action": counted["by_action"],
            "requests": counted["total"], "requests_per_hour": per_hour}
