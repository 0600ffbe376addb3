"""What a worker does with a failed SQS answer besides retrying: back off, count, log, report faults.

Configuration faults (missing queue, denied, bad credentials) are what an operator must see: a
rate-limited ERROR naming the queue and the cause, the `switchboard_sqs_fault` gauge, a short-lived
Redis record that `switchboard status` shows, and this process's /healthz. They clear themselves on
the next good answer from that queue.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

from switchboard.metrics import SQS_ERRORS, SQS_FAULT
from switchboard.services import get_services
from tasks.sqs_answers import AnswerKind, answer_kind, as_answer_error

log = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 30.0  # one line per (queue, cause) per this period, never a flood
FAULT_TTL_SECONDS = 60  # the Redis record outlives a dead worker by at most this
FAULT_RENEW_SECONDS = 15.0


class FaultStore(Protocol):
    def record_sqs_fault(self, queue: str, cause: str, ttl_seconds: int) -> None: ...
    def clear_sqs_fault(self, queue: str) -> None: ...


class Backoff:
    """Per-queue delay before the next poll: full jitter, doubling from `first` up to `cap`."""

    def __init__(self, first: float = 0.2, cap: float = 10.0, configuration: float = 5.0,
                 rand: Callable[[], float] = random.random) -> None:
        self.first, self.cap, self.configuration = first, cap, configuration
        self._rand = rand
        self._failures: dict[str, int] = {}

    def failed(self, queue: str, kind: AnswerKind) -> float:
        failures = self._failures[queue] = self._failures.get(queue, 0) + 1
        if kind is AnswerKind.CONFIGURATION:
            # Nothing changes in a second; ask again every few seconds so recovery is still quick.
            return self.configuration * (0.8 + 0.4 * self._rand())
        ceiling = min(self.cap, self.first * 2.0 ** (failures - 1))
        return ceiling / 2 + ceiling / 2 * self._rand()  # half fixed, half jitter: never a zero wait

    def succeeded(self, queue: str) -> None:
        self._failures.pop(queue, None)


LOOKUP_ACTIONS = frozenset({"GetQueueUrl", "ListQueues"})


class FaultReporter:
    """Counts every failed answer; for configuration ones, tells operators until the queue answers again."""

    def __init__(self, store: FaultStore | Callable[[], FaultStore] | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._faults: dict[tuple[str, str], str] = {}  # (queue, action) -> cause, as this process sees it
        self._logged: dict[tuple[str, str], float] = {}
        self._renewed: dict[tuple[str, str], float] = {}

    def failed(self, error: BaseException, action: str, queue: str | None, record: bool = True) -> AnswerKind:
        """Count, log (rate-limited) and, for a configuration answer, record a fault; returns the kind."""
        kind = answer_kind(error)
        SQS_ERRORS.labels(action=action, kind=kind.value).inc()
        converted = as_answer_error(error, action, queue)
        cause = converted.code
        where = queue or "-"
        if kind is AnswerKind.CONFIGURATION and record and queue:
            self._fault(queue, action, cause)
        if self._due((where, cause)):
            level = logging.WARNING if kind is AnswerKind.TRANSIENT else logging.ERROR
            log.log(level, "SQS %s on queue %s failed: %s (%s) %s", action, where, cause, kind.value, converted.detail,
                    extra={"sqs_action": action, "sqs_queue": where, "sqs_cause": cause})
        return kind

    def succeeded(self, queue: str, action: str) -> None:
        """A good answer clears that action's fault, and any look-up fault: the queue was found."""
        with self._lock:
            gone = {key: cause for key, cause in self._faults.items()
                    if key[0] == queue and (key[1] == action or key[1] in LOOKUP_ACTIONS)}
            for key in gone:
                del self._faults[key]
                self._renewed.pop(key, None)
            left = any(key[0] == queue for key in self._faults)
        for (_, was), cause in gone.items():
            SQS_FAULT.labels(queue=queue, cause=cause).set(0)
            log.info("SQS queue %s answers %s again (was %s)", queue, was, cause)
        if gone and not left:
            self._write(lambda store: store.clear_sqs_fault(queue))

    def faults(self) -> dict[str, str]:
        """Queue -> cause(s) of every configuration fault this process sees now."""
        with self._lock:
            faults = sorted(self._faults.items())
        merged: dict[str, str] = {}
        for (queue, action), cause in faults:
            text = f"{cause} on {action}"
            merged[queue] = f"{merged[queue]}; {text}" if queue in merged else text
        return merged

    def _fault(self, queue: str, action: str, cause: str) -> None:
        now, key = self._clock(), (queue, action)
        with self._lock:
            previous = self._faults.get(key)
            self._faults[key] = cause
            renew = previous != cause or now - self._renewed.get(key, -1e9) >= FAULT_RENEW_SECONDS
            if renew:
                self._renewed[key] = now
        if previous is not None and previous != cause:
            SQS_FAULT.labels(queue=queue, cause=previous).set(0)
        SQS_FAULT.labels(queue=queue, cause=cause).set(1)
        if renew:
            text = self.faults().get(queue, f"{cause} on {action}")
            self._write(lambda store: store.record_sqs_fault(queue, text, FAULT_TTL_SECONDS))

    def _due(self, key: tuple[str, str]) -> bool:
        now = self._clock()
        with self._lock:
            if now - self._logged.get(key, -1e9) < LOG_EVERY_SECONDS:
                return False
            self._logged[key] = now
            return True

    def _write(self, write: Callable[[FaultStore], None]) -> None:
        store = self._store() if callable(self._store) else self._store
        if store is None:
            return
        try:
            write(store)
        except redis.RedisError as exc:
            # The log line and the metric already tell the story; Redis being down is its own alarm.
            log.warning("could not record the SQS fault in Redis: %s", exc)


def _process_store() -> FaultStore:
    return get_services().store


_reporter: FaultReporter | None = None


def process_faults() -> FaultReporter:
    """This process's reporter (the transport, the heartbeat and /healthz share it)."""
    global _reporter
    if _reporter is None:
        _reporter = FaultReporter(_process_store)
    return _reporter
