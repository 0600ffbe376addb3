"""Fixtures for the webhook: an app on the real Redis under its own key prefix, with a hand-over recorder."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from localdev.redis_server import redis_url_for_tests
from switchboard.settings import Settings, get_settings, load_settings

# Direct mode's tests (test_direct.py) build the worker's services from a hermetic environment, as the store tests do.
from tests.switchboard.conftest import hermetic_env, make_inbound  # noqa: F401
from tests.webapp.twilio_requests import ACCOUNT_SID, AUTH_TOKEN, HandOver
from webapp import create_app

REDIS_URL = redis_url_for_tests()


@pytest.fixture
def key_prefix() -> Iterator[str]:
    prefix = f"sbunit-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def make_settings(monkeypatch: pytest.MonkeyPatch, key_prefix: str) -> Iterator[Callable[..., Settings]]:
    for name in Settings.model_fields:  # the outer shell's environment must not leak in
        monkeypatch.delenv(name.upper(), raising=False)
    get_settings.cache_clear()

    def make(**overrides: object) -> Settings:
        return load_settings(**{
            "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN, "openai_api_key": "sk-test",
            "redis_url": REDIS_URL, "redis_key_prefix": key_prefix,
            # Never dialled (HAND_OVER replaces publishing); a closed port if anything tried.
            "sqs_endpoint_url": "http://127.0.0.1:1", "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing", **overrides,
        })

    yield make
    get_settings.cache_clear()


@pytest.fixture
def hand_over() -> HandOver:
    return HandOver()


@pytest.fixture
def make_app(make_settings: Callable[..., Settings], hand_over: HandOver) -> Callable[..., Flask]:
    def make(**overrides: object) -> Flask:
        settings = make_settings(**overrides)
        return create_app(test_config={"SETTINGS": settings, "HAND_OVER": hand_over, "TESTING": True})

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
