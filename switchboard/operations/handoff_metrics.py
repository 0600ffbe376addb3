"""The paused-conversations gauge (issue 14), read at scrape time: one ZCOUNT per shard, one round trip per master."""

from __future__ import annotations

from collections.abc import Iterator

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from switchboard.store import ConversationStore


class PausedConversationsCollector(Collector):
    """switchboard_paused_conversations: conversations handed to a person whose pause has not ended."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            paused = self.store.paused_count()
        except redis.RedisError:
            return  # Redis unreachable: absent, not zero (readiness says why)
        yield GaugeMetricFamily("switchboard_paused_conversations",
                                "Conversations paused for a person (hand-off): no model is called for them",
                                value=paused)
