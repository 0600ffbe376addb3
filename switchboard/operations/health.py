"""What operators ask first: can we reach Redis and SQS, do the queues exist, how far behind are we."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from botocore.exceptions import BotoCoreError, ClientError

from switchboard.clients.sqs_admin import STAGES, QueueDepth, QueueNames, queue_depths
from switchboard.store import ConversationStore

if TYPE_CHECKING:  # boto3-stubs' SQS client type; without the stubs installed mypy takes it as Any
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger(__name__)


def readiness(store: ConversationStore, sqs: SQSClient, names: QueueNames) -> dict[str, str]:
    """'ok' or the reason, per dependency; ready when every value is 'ok'."""
    checks = {}
    try:
        store.ping()
        checks["redis"] = "ok"
    except redis.RedisError as exc:
        checks["redis"] = f"unreachable: {exc}"
    try:
        for stage in STAGES:
            sqs.get_queue_url(QueueName=names.in_sqs(names.stage(stage)))
        checks["sqs"] = "ok"
    except sqs.exceptions.QueueDoesNotExist:
        checks["sqs"] = "queues missing: run `switchboard queues init`"
    except (BotoCoreError, ClientError) as exc:
        checks["sqs"] = f"unreachable: {exc}"
    return checks


# --- what the web tier reports: SQS from a background refresh, never from a request thread -------------
# Generic reasons only: /readyz is reachable by anyone who can reach the load balancer, so the
# exception text (endpoint URL, account, queue names) goes to the log instead.
SQS_OK = "ok"
SQS_UNKNOWN = "unknown: not checked yet"
SQS_UNREACHABLE = "unreachable"
SQS_QUEUES_MISSING = "queues missing: run `switchboard queues init`"
SQS_STALE = "unknown: the last check is overdue"
REDIS_UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class QueueSnapshot:
    """The last SQS check: 'ok' or a generic reason, the depths when it succeeded, when it finished."""

    state: str
    depths: tuple[QueueDepth, ...] | None = None
    checked_at: float | None = None  # time.monotonic()


class QueueWatch:
    """SQS reachability and queue depths, refreshed by one daemon thread per process.

    A request reads the last snapshot and never waits on SQS: against an endpoint that accepts and
    never answers, a synchronous check held a web thread for seconds, and a few scrapes a second
    would starve the webhook's threads. Failures are snapshots too, so they are cached alike.
    """

    def __init__(self, sqs: SQSClient, names: QueueNames, interval_seconds: float = 15.0) -> None:
        self._sqs = sqs
        self._names = names
        self.interval_seconds = interval_seconds
        self._snapshot = QueueSnapshot(SQS_UNKNOWN)
        self._lock = threading.Lock()
        self._owner_pid: int | None = None  # threads do not survive a fork: each process starts its own
        self._stopped = threading.Event()

    def snapshot(self) -> QueueSnapshot:
        """The latest check, starting the refresh thread on first use in this process."""
        self._ensure_running()
        current = self._snapshot
        overdue = 4 * self.interval_seconds + 30  # a check stuck beyond every client timeout
        if current.checked_at is not None and time.monotonic() - current.checked_at > overdue:
            return QueueSnapshot(SQS_STALE)
        return current

    def stop(self) -> None:
        self._stopped.set()

    def _ensure_running(self) -> None:
        if self._owner_pid == os.getpid():
            return
        with self._lock:
            if self._owner_pid == os.getpid():
                return
            self._owner_pid = os.getpid()
            self._snapshot = QueueSnapshot(SQS_UNKNOWN)  # what a parent process saw is not ours
            threading.Thread(target=self._refresh_forever, name="sqs-queue-watch", daemon=True).start()

    def _refresh_forever(self) -> None:
        while not self._stopped.is_set():
            self._snapshot = self.check()
            self._stopped.wait(self.interval_seconds)

    def check(self) -> QueueSnapshot:
        """One synchronous look at every queue (the refresh thread's job; also usable from a CLI)."""
        try:
            depths = queue_depths(self._sqs, self._names)
        except self._sqs.exceptions.QueueDoesNotExist:
            log.warning("SQS check: queues missing; run `switchboard queues init`")
            return QueueSnapshot(SQS_QUEUES_MISSING, checked_at=time.monotonic())
        except (BotoCoreError, ClientError) as exc:
            log.warning("SQS check failed: %s", exc)
            return QueueSnapshot(SQS_UNREACHABLE, checked_at=time.monotonic())
        return QueueSnapshot(SQS_OK, tuple(depths), time.monotonic())


def web_readiness(store: ConversationStore, watch: QueueWatch) -> tuple[bool, dict[str, str]]:
    """Whether a load balancer should send webhooks here, with what each dependency looks like.

    Ready exactly when Redis answers: with SQS down the webhook still accepts into the outbox (the
    relay publishes later), but without Redis it can accept nothing and answers 503. SQS's state is
    reported for people; it never takes the web tier out of service.
    """
    try:
        store.ping()
        redis_state = "ok"
    except redis.RedisError as exc:
        log.warning("Redis check failed: %s", exc)
        redis_state = REDIS_UNREACHABLE
    return redis_state == "ok", {"redis": redis_state, "sqs": watch.snapshot().state}


@dataclass(frozen=True)
class Backlog:
    outbox: int
    unanswered: int
    oldest_unanswered_age_seconds: float | None


def backlog(store: ConversationStore, now: float | None = None) -> Backlog:
    count, oldest = store.unanswered()
    now = time.time() if now is None else now
    return Backlog(store.outbox_size(), count, None if oldest is None else max(0.0, now - oldest))
