"""Fixtures for the domain tests: a ConversationStore on the real Redis, under a key prefix of its own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from localdev.redis_server import redis_url_for_tests
from switchboard.domain.inbound import InboundMessage
from switchboard.settings import Settings, get_settings
from switchboard.store import ConversationStore, HistoryLimits
from switchboard.store.connection import connect

REDIS_URL = redis_url_for_tests()  # SWITCHBOARD_TEST_REDIS_URL: scripts/test's own Redis when none answered
OUR_NUMBER = "whatsapp:+15550000000"
USER_NUMBER = "whatsapp:+15551234567"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = connect(REDIS_URL, timeout_seconds=5)  # a Redis Cluster's client when the tests run against one
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client: redis.Redis) -> Iterator[str]:
    prefix = f"sbunit-{uuid.uuid4().hex[:8]}:"
    yield prefix
    keys = list(redis_client.scan_iter(match=prefix + "*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def limits() -> HistoryLimits:
    return HistoryLimits(max_turns=20, max_chars=8000, ttl_seconds=3600)


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str, limits: HistoryLimits) -> ConversationStore:
    return ConversationStore(redis_client, key_prefix, limits)


@pytest.fixture
def make_inbound() -> Callable[..., InboundMessage]:
    """Build an inbound message; each call gets a fresh MessageSid unless one is given."""

    def make(body: str = "hello", *, sid: str | None = None, sender: str = USER_NUMBER,
             recipient: str = OUR_NUMBER, received_at: float | None = None) -> InboundMessage:
        return InboundMessage(
            message_sid=sid or "SM" + uuid.uuid4().hex,
            account_sid="AC" + "0" * 32,
            sender=sender,
            recipient=recipient,
            body=body,
            user_id=sender,
            received_at=time.time() if received_at is None else received_at,
        )

    return make


@pytest.fixture
def hermetic_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No Settings variable from the outer shell; get_settings() forgets what it read before and after."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    # With either set, the twilio SDK rewrites every URL's host, local test servers included.
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
