"""`switchboard migrate-keys`: a dry run that counts, then the move; the catch-up it needs is printed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from localdev.redis_keys import delete_keys_with_prefix
from switchboard.cli import main
from switchboard.domain.inbound import InboundMessage
from switchboard.services import build_store
from switchboard.settings import get_settings
from tests.switchboard.test_store_legacy_layout import old_keys, write_old_layout


def inbound(body: str) -> InboundMessage:
    return InboundMessage(message_sid="SM" + uuid.uuid4().hex, account_sid="AC" + "0" * 32,
                          sender="whatsapp:+15551234567", recipient="whatsapp:+15550000000", body=body,
                          user_id="whatsapp:+15551234567", received_at=1_764_000_000.0)


@pytest.fixture
def own_prefix(pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A key prefix of this test's own: the command moves everything under the prefix, and the session's
    prefix also holds other tests' deployments (`sbtest-…:<stack>:`), running in the same process."""
    prefix = f"{pipeline_env['REDIS_KEY_PREFIX']}migrate-{uuid.uuid4().hex[:6]}:"
    monkeypatch.setenv("REDIS_KEY_PREFIX", prefix)
    get_settings.cache_clear()
    yield prefix
    delete_keys_with_prefix(pipeline_env["REDIS_URL"], prefix)
    get_settings.cache_clear()


def test_it_counts_first_then_moves_and_names_the_catchup_to_run(
        own_prefix: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = build_store(get_settings())
    assert store.prefix == own_prefix
    prefix = store.prefix
    write_old_layout(store.redis, prefix, inbound("hello"), inbound("never queued"), "SM-expired")

    assert main(["migrate-keys"]) == 0
    dry_run = capsys.readouterr().out
    assert "dry run: nothing moved" in dry_run and "switchboard catchup --since 2025-11-24T15:59" in dry_run
    assert "optout" in dry_run and old_keys(store.redis, prefix) != ["relay-lock"]

    assert main(["migrate-keys", "--yes"]) == 0
    assert "dry run" not in capsys.readouterr().out
    assert old_keys(store.redis, prefix) == ["relay-lock"]
    assert main(["migrate-keys"]) == 0
    assert capsys.readouterr().out == "no keys of the old layout: nothing to move\n"
