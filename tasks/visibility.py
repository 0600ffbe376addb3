"""Keep the SQS messages this worker holds invisible while it genuinely works on them.

The queues' visibility timeout is short (about a minute), so a dead worker's messages come back
quickly. A live worker extends each message it holds (prefetched, waiting for a retry ETA, or
running) every third of that timeout, so a slow completion is never handed to a second worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from celery.worker import state

from switchboard.metrics import SQS_VISIBILITY_FAILED
from switchboard.settings import Settings
from tasks.sqs_answers import as_answer_error
from tasks.sqs_faults import FaultReporter, process_faults

log = logging.getLogger(__name__)

# Each call is bounded (connect 2 s + read 5 s, never retried): far inside the two thirds of the
# visibility timeout a held message has left when its extension is due.
CALL_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 1})
CALL_THREADS = 4
ACTION = "ChangeMessageVisibilityBatch"


def heartbeat_client(settings: Settings) -> Any:
    """The heartbeat's own SQS client: short timeouts and one attempt, unlike kombu's and the CLI's."""
    secret = settings.aws_secret_access_key
    return boto3.client(
        "sqs", endpoint_url=settings.sqs_endpoint_url, region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None, config=CALL_CONFIG)


class VisibilityHeartbeat:
    def __init__(self, sqs: Any, visibility_timeout: int, max_hold_seconds: float,
                 interval: float | None = None, faults: FaultReporter | None = None) -> None:
        self.sqs = sqs
        self.visibility_timeout = visibility_timeout
        self.interval = interval if interval is not None else visibility_timeout / 3
        self.max_hold_seconds = max_hold_seconds
        self._faults = faults
        self._first_seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqs-visibility-heartbeat", daemon=True)
        # Calls run here, not on the beat's thread, so a stalled call never delays the next beat.
        self._calls = ThreadPoolExecutor(max_workers=CALL_THREADS, thread_name_prefix="sqs-visibility")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._calls.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        due = time.monotonic() + self.interval
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            # A fixed schedule: a slow beat does not push the next one back (nor cause a burst).
            due = max(due + self.interval, time.monotonic())
            self.beat_once(wait=False)

    def beat_once(self, wait: bool = True) -> int:
        """Extend every held message once; returns how many were extended (submitted, if not `wait`)."""
        batches = self._batches()
        futures: list[Future[int]] = [self._calls.submit(self._extend, url, batch) for url, batch in batches]
        if not wait:
            return sum(len(batch) for _, batch in batches)
        return sum(future.result() for future in futures)

    def _batches(self) -> list[tuple[str, list[str]]]:
        by_queue: dict[str, list[str]] = defaultdict(list)
        now = time.monotonic()
        held = set()
        for request in list(state.requests.values()):
            handle, queue_url = _sqs_handle(request)
            if handle is None or queue_url is None or request.acknowledged:
                continue
            held.add(handle)
            first = self._first_seen.setdefault(handle, now)
            if now - first > self.max_hold_seconds:
                # Held far longer than any task should take: let SQS give it to another worker.
                continue
            by_queue[queue_url].append(handle)
        for handle in list(self._first_seen):
            if handle not in held:
                del self._first_seen[handle]
        # The batch call takes at most 10 entries.
        return [(url, handles[i:i + 10]) for url, handles in by_queue.items() for i in range(0, len(handles), 10)]

    def _extend(self, queue_url: str, handles: list[str]) -> int:
        try:
            answer = self.sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": self.visibility_timeout}
                for i, h in enumerate(handles)
            ])
        except (BotoCoreError, ClientError, OSError) as exc:
            # Logged (rate-limited) and counted; the next beat tries again, well before expiry.
            SQS_VISIBILITY_FAILED.labels(code=as_answer_error(exc, ACTION, queue_url).code).inc(len(handles))
            (self._faults or process_faults()).failed(exc, ACTION, queue_url, record=False)
            return 0
        answer = answer or {}
        failed = answer.get("Failed") or []
        unanswered = max(0, len(handles) - len(failed) - len(answer.get("Successful") or []))
        if unanswered:  # an empty or cut-off answer says nothing about these: count them as failed
            SQS_VISIBILITY_FAILED.labels(code="NoAnswer").inc(unanswered)
            log.warning("no answer for %d held message(s) on %s; the next beat tries again", unanswered, queue_url)
        for entry in failed:
            # E.g. ReceiptHandleIsInvalid once a message was deleted or handed to someone else.
            code = str(entry.get("Code") or "Unknown")
            SQS_VISIBILITY_FAILED.labels(code=code).inc()
            log.warning("could not extend a held message on %s: %s (%s)", queue_url, code, entry.get("Message", ""),
                        extra={"sqs_queue": queue_url, "sqs_cause": code})
        return len(handles) - len(failed) - unanswered


def _sqs_handle(request: Any) -> tuple[str | None, str | None]:
    message = getattr(request, "message", None)
    info = getattr(message, "delivery_info", None) or {}
    sqs_message = info.get("sqs_message") or {}
    return sqs_message.get("ReceiptHandle"), info.get("sqs_queue")

