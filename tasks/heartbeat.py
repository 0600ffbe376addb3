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
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from celery.worker import state

log = logging.getLogger(__name__)


class VisibilityHeartbeat:
    def __init__(self, sqs: Any, visibility_timeout: int, max_hold_seconds: float) -> None:
        self.sqs = sqs
        self.visibility_timeout = visibility_timeout
        self.interval = visibility_timeout / 3
        self.max_hold_seconds = max_hold_seconds
        self._first_seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqs-visibility-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat_once()
            except (BotoCoreError, ClientError, OSError):
                log.warning("visibility heartbeat failed; will try again", exc_info=True)

    def beat_once(self) -> int:
        """Extend every held message once; returns how many were extended."""
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
        extended = 0
        for queue_url, handles in by_queue.items():
            for start in range(0, len(handles), 10):  # the batch call takes at most 10 entries
                batch = handles[start:start + 10]
                self.sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": self.visibility_timeout}
                    for i, h in enumerate(batch)
                ])
                extended += len(batch)
        return extended


def _sqs_handle(request: Any) -> tuple[str | None, str | None]:
    message = getattr(request, "message", None)
    info = getattr(message, "delivery_info", None) or {}
    sqs_message = info.get("sqs_message") or {}
    return sqs_message.get("ReceiptHandle"), info.get("sqs_queue")


def receive_count(request: Any) -> int:
    """How many times SQS has handed out this message (1 on first delivery)."""
    message = getattr(request, "message", None)
    info = getattr(message, "delivery_info", None) or {}
    attributes = (info.get("sqs_message") or {}).get("Attributes") or {}
    return int(attributes.get("ApproximateReceiveCount", 1))
