"""Putting a message's chain on SQS within a time limit, for the webhook and the outbox relay."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from tasks.celery import app
from tasks.links import pipeline_for
from tasks.sqs_answers import AnswerKind, answer_kind

log = logging.getLogger(__name__)

PUBLISH_THREADS = 8


@dataclass(frozen=True)
class PublishOutcome:
    """Whether SQS took the chain's first message and, when not, what kind of answer it gave."""

    published: bool
    kind: AnswerKind | None = None  # None when published; TRANSIENT for a publish that took too long
    error: str = ""


class Publisher:
    """Publishes on a small thread pool so a broker that hangs costs the caller at most `timeout_seconds`.

    A publish that times out may still land later; that is safe, because the message is in the
    outbox until a publish is known to have succeeded, and every step is idempotent.
    """

    def __init__(self, timeout_seconds: float, threads: int = PUBLISH_THREADS) -> None:
        self.timeout_seconds = timeout_seconds
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqs-publish")

    def publish(self, message_sid: str, conversation: str) -> bool:
        """True when SQS took the first task of the chain; False when it failed or took too long."""
        return self.send(message_sid, conversation).published

    def send(self, message_sid: str, conversation: str, start: str = "intake", generation: str = "") -> PublishOutcome:
        """Publish the chain from `start` (see pipeline_for); never raises for a broker failure."""
        future = self._pool.submit(self._send, message_sid, conversation, start, generation)
        try:
            future.result(timeout=self.timeout_seconds)
        except FutureTimeout:
            log.warning("publish to SQS took over %.1fs; the outbox keeps the message", self.timeout_seconds)
            return PublishOutcome(False, AnswerKind.TRANSIENT, "timed out")
        except Exception as exc:  # noqa: BLE001 - any broker failure; the message is safe in the outbox
            kind = answer_kind(exc)
            log.warning("publish to SQS failed (%s); the outbox keeps the message", kind.value, exc_info=True)
            return PublishOutcome(False, kind, f"{type(exc).__name__}: {exc}")
        return PublishOutcome(True)

    @staticmethod
    def _send(message_sid: str, conversation: str, start: str, generation: str) -> None:
        # Not from inside a task, so PipelineTask.apply_async does not owe a failed publish: the caller's
        # outbox entry is what keeps this message, so it must see the error.
        pipeline_for(message_sid, conversation, start, generation).apply_async(retry=False)


def open_connections(count: int = PUBLISH_THREADS, wait_seconds: float = 5.0) -> bool:
    """Connect `count` of Celery's pooled producers to the broker now, before traffic arrives.

    Each pooled connection otherwise opens on the first publish that needs it: a boto3 client and a
    ListQueues call, about 0.1 s alone and seconds when a burst opens them all at once. The work runs
    on a daemon thread that is awaited at most `wait_seconds`, so a broker that hangs delays a start
    by that much and no more. True when every connection was open within the wait.
    """
    done = threading.Event()

    def connect() -> None:
        producers = []
        try:
            for _ in range(count):
                producer = app.producer_pool.acquire(block=True, timeout=30)
                producers.append(producer)
                _ = producer.channel  # connects: the boto3 client, and the queue URLs (ListQueues)
            done.set()
        except Exception:  # noqa: BLE001 - only a head start; a publish opens its own connection as before
            log.warning("could not open broker connections ahead of traffic", exc_info=True)
        finally:
            for producer in producers:
                producer.release()

    threading.Thread(target=connect, name="sqs-connect", daemon=True).start()
    return done.wait(wait_seconds)
