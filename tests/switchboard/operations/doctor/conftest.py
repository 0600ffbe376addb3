"""Fixtures for the doctor's checks: settings made from keyword arguments, nothing read from the shell."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from switchboard.settings import Settings, load_settings


@pytest.fixture
def make_settings(hermetic_env: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """Settings off AWS (an SQS endpoint is set) unless `on_aws=True`; keyword arguments are fields."""

    def make(on_aws: bool = False, **fields: object) -> Settings:
        base: dict[str, object] = {
            "twilio_account_sid": "AC" + "1" * 32, "twilio_auth_token": "5f" * 16, "openai_api_key": "sk-test",
            "conversation_id_secret": "s" * 32,
            "sqs_endpoint_url": None if on_aws else "http://127.0.0.1:4566",
        }
        return load_settings(**{**base, **fields})

    return make
