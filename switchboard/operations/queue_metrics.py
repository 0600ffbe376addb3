"""Gauges read at scrape time: SQS queue depths (from the background QueueWatch) and the backlog."""

from __future__ import annotations

import time
from collections.abc import Iterator

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from switchboard.operations.health import QueueWatch, backlog
from switchboard.store import ConversationStore


class QueueDepthCollector(Collector):
    """Queue depths from the watch's last snapshot: a scrape never calls SQS itself."""

    def __init__(self, watch: QueueWatch) -> None:
        self.watch = watch

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.watch.snapshot()
        if snapshot.checked_at is None:
            return  # nothing known yet (first check running, or overdue): absent, not zero
        yield GaugeMetricFamily("switchboard_sqs_reachable", "1 when the last SQS check saw every queue, else 0",
                                value=1.0 if snapshot.depths is not None else 0.0)
        yield GaugeMetricFamily("switchboard_sqs_check_age_seconds", "Seconds since the last SQS check finished",
                                value=max(0.0, time.monotonic() - snapshot.checked_at))
        if snapshot.depths is None:
            return  # an unreachable SQS shows as absent depth series
        family = GaugeMetricFamily("switchboard_sqs_messages", "Approximate messages per queue and state",
                                   labels=["queue", "state"])
        for depth in snapshot.depths:
            family.add_metric([depth.name, "visible"], depth.visible)
            family.add_metric([depth.name, "in_flight"], depth.in_flight)
            family.add_metric([depth.name, "delayed"], depth.delayed)
        yield family
        dead = GaugeMetricFamily("switchboard_dead_letters", "Messages in the dead-letter queues", labels=["queue"])
        for depth in snapshot.depths:
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
