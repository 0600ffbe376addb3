"""Putting a message's chain on SQS within a time limit, for the webhook and the outbox relay."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from tasks.pipeline import pipeline_for

log = logging.getLogger(__name__)


class Publisher:
    """Publishes on a small thread pool so a broker that hangs costs the caller at most `timeout_seconds`.

    A publish that times out may still land later; that is safe, because the message is in the
    outbox until a publish is known to have succeeded, and every step is idempotent.
    """

    def __init__(self, timeout_seconds: float, threads: int = 8) -> None:
        self.timeout_seconds = timeout_seconds
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqs-publish")

    def publish(self, message_sid: str, conversation: str) -> bool:
        """True when SQS took the first task of the chain; False when it failed or took too long."""
        future = self._pool.submit(self._send, message_sid, conversation)
        try:
            future.result(timeout=self.timeout_seconds)
        except FutureTimeout:
            log.warning("publish to SQS took over %.1fs; the outbox keeps the message", self.timeout_seconds)
            return False
        except Exception:  # noqa: BLE001 - any broker failure; the message is safe in the outbox
            log.warning("publish to SQS failed; the outbox keeps the message", exc_info=True)
            return False
        return True

    @staticmethod
    def _send(message_sid: str, conversation: str) -> None:
        pipeline_for(message_sid, conversation).apply_async(retry=False)
