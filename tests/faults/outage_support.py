"""Helpers for fault tests: brokers and Redis servers to break, and what to read back from a stack."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import redis

from localdev.polling import wait_for
from localdev.processes import ManagedProcess, free_port
from localdev.redis_server import find_redis_server
from switchboard.clients.sqs_admin import queue_depths, queue_names
from switchboard.settings import Settings
from switchboard.store import ConversationStore, HistoryLimits
from tests.harness.pipeline import Stack

# The webhook's publish is bounded by PUBLISH_TIMEOUT_SECONDS (3 s); this is a bound, not a benchmark.
WEBHOOK_BOUND_SECONDS = 8.0


def timed_send(stack: Stack, body: str, user: str, message_sid: str | None = None) -> tuple[int, float]:
    """Post one signed webhook; returns its status and how long the answer took."""
    started = time.monotonic()
    status, _ = stack.send(body, user, message_sid)
    return status, time.monotonic() - started


def sqs_for(settings: Settings) -> Any:
    secret = settings.aws_secret_access_key
    return boto3.client(
        "sqs", endpoint_url=settings.sqs_endpoint_url, region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
    )


def messages_in_stage_queues(settings: Settings) -> int:
    """Visible, in-flight and delayed messages across the intake, complete and reply queues."""
    depths = queue_depths(sqs_for(settings), queue_names(settings))
    return sum(d.visible + d.in_flight + d.delayed for d in depths if "-dlq" not in d.name)


@contextmanager
def store_for(settings: Settings) -> Iterator[ConversationStore]:
    """The stack's Redis state, read the way the app reads it."""
    client = redis.Redis.from_url(settings.redis_url.get_secret_value(), socket_timeout=5)
    try:
        yield ConversationStore(client, settings.redis_key_prefix, HistoryLimits(1, 100, 60))
    finally:
        client.close()


def wait_until_settled(stack: Stack, timeout: float = 45) -> None:
    """Wait until every accepted message has a finished reply, the outbox is empty and no stage queue
    holds anything: a task publishes its next link (or retry) before its own message is deleted, so
    from then on no further send can happen and counts are final."""
    settings = stack.settings
    sqs, names = sqs_for(settings), queue_names(settings)
    with store_for(settings) as store:
        def settled() -> bool:
            unanswered, _ = store.unanswered()
            busy = [d for d in queue_depths(sqs, names)
                    if "-dlq" not in d.name and (d.visible or d.in_flight or d.delayed)]
            return not unanswered and not store.outbox_size() and not busy

        wait_for(settled, timeout=timeout, interval=0.2, message="the pipeline to settle (no work left)")


def sends_to(stack: Stack, user: str) -> list[dict[str, Any]]:
    """Every `messages.create` call the Twilio stand-in received for `user`, refused or not."""
    return [
        request for request in stack.twilio.client.requests()
        if request["method"] == "POST" and request["path"].endswith("/Messages.json")
        and request["params"].get("To") == user
    ]


class HangingBroker:
    """A TCP server that accepts every connection and never answers: a broker that is up but stuck."""

    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = int(self._server.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="hanging-broker", daemon=True)
        self._thread.start()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            self.accepted.append(connection)  # held open, never read from or written to

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        for connection in self.accepted:
            connection.close()


class RedisServer:
    """Our own redis-server on a free port, which a test may stop and restart (never the shared one)."""

    def __init__(self, log_path: Path, data_dir: Path | None = None) -> None:
        self.port = free_port()
        options = ["--save", "", "--appendonly", "no"]
        if data_dir is not None:
            # Like production: every write is on disk before it is acknowledged, so a restart keeps it.
            data_dir.mkdir(parents=True, exist_ok=True)
            options = ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", str(data_dir)]
        argv = [str(find_redis_server()), "--port", str(self.port), "--bind", "127.0.0.1", *options]
        self.process = ManagedProcess("redis", argv, {}, log_path)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process.start()
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            wait_for(client.ping, timeout=15, message=f"redis-server on port {self.port}",
                     ignore=(redis.RedisError,))
        finally:
            client.close()
        return self

    def stop(self) -> None:
        """SIGTERM: redis finishes its AOF and exits; the port is closed when this returns."""
        if self.process.is_running():
            self.process.stop()

    def kill(self) -> None:
        self.process.kill()


def tally(expected: dict[str, list[str]], received: dict[str, list[str]]) -> dict[str, int]:
    """Sent / answered / duplicated / out of order, over users, comparing replies with the expected ones."""
    counts = {"sent": 0, "answered": 0, "duplicated": 0, "out_of_order": 0}
    for user, wanted in expected.items():
        got = received.get(user, [])
        counts["sent"] += len(wanted)
        counts["answered"] += len(set(got) & set(wanted))
        counts["duplicated"] += len(got) - len(set(got))
        positions = [wanted.index(reply) for reply in dict.fromkeys(got) if reply in wanted]
        counts["out_of_order"] += sum(1 for a, b in zip(positions, positions[1:], strict=False) if b < a)
    return counts
