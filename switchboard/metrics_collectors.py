"""Gauges read at scrape time: SQS queue depths (cached, so scrapes don't hammer SQS) and the backlog."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import redis
from botocore.exceptions import BotoCoreError, ClientError
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from switchboard.health import QueueDepth, backlog, queue_depths
from switchboard.queues import QueueNames
from switchboard.store import ConversationStore


class QueueDepthCollector(Collector):
    def __init__(self, sqs: Any, names: QueueNames, cache_seconds: float = 15.0) -> None:
        self.sqs = sqs
        self.names = names
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, list[QueueDepth]] | None = None

    def _depths(self) -> list[QueueDepth] | None:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > self.cache_seconds:
                try:
                    self._cached = (time.monotonic(), queue_depths(self.sqs, self.names))
                except (BotoCoreError, ClientError):
                    return None  # an unreachable SQS shows as absent series, and in /readyz
            return self._cached[1]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depths = self._depths()
        if depths is None:
            return
        family = GaugeMetricFamily("switchboard_sqs_messages", "Approximate messages per queue and state",
                                   labels=["queue", "state"])
        for depth in depths:
            family.add_metric([depth.name, "visible"], depth.visible)
            family.add_metric([depth.name, "in_flight"], depth.in_flight)
            family.add_metric([depth.name, "delayed"], depth.delayed)
        yield family
        dead = GaugeMetricFamily("switchboard_dead_letters", "Messages in the dead-letter queues", labels=["queue"])
        for depth in depths:
            if "-dlq" in depth.name:
                dead.add_metric([depth.name], depth.visible + depth.in_flight)
        yield dead


class BacklogCollector(Collector):
    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            current = backlog(self.store)
        except redis.RedisError:
            return
        yield GaugeMetricFamily("switchboard_outbox_messages", "Accepted messages waiting for SQS in the outbox",
                                value=current.outbox)
        yield GaugeMetricFamily("switchboard_unanswered_messages", "Accepted messages without a finished reply",
                                value=current.unanswered)
        yield GaugeMetricFamily("switchboard_oldest_unanswered_age_seconds",
                                "Age of the oldest accepted message without a finished reply",
                                value=current.oldest_unanswered_age_seconds or 0.0)
