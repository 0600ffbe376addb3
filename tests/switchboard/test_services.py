"""build_store: the store's history limits come from settings."""

from __future__ import annotations

import pytest

from switchboard.services import build_store
from switchboard.settings import load_settings

REQUIRED = {"twilio_account_sid": "AC" + "a" * 32, "twilio_auth_token": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "openai_api_key": "sk-test", "conversation_id_secret": "s" * 32}


def test_the_history_budget_and_folding_come_from_settings(hermetic_env: pytest.MonkeyPatch) -> None:
    limits = build_store(load_settings(**REQUIRED, history_max_tokens=1200)).limits

    assert (limits.max_tokens, limits.max_chars, limits.summarize) == (1200, 0, True)
    assert build_store(load_settings(**REQUIRED, history_max_chars=5000)).limits.max_chars == 5000
    assert build_store(load_settings(**REQUIRED, history_summary=False)).limits.summarize is False


def test_direct_mode_has_no_worker_to_fold_so_the_overflow_is_dropped(hermetic_env: pytest.MonkeyPatch) -> None:
    assert build_store(load_settings(**REQUIRED, processing_mode="direct")).limits.summarize is False
