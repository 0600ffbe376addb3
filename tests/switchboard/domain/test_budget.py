"""Spend limits at intake: the global completion budget, the per-sender daily cap, and one charge per message."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

from switchboard.domain.conversation import RateLimit, produce_answer, run_intake
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.user_commands import OVER_BUDGET_TEXT, SENDER_CAP_TEXT, Command
from switchboard.store import ConversationStore, HistoryLimits, SpendLimits, StoredMessage
from tests.switchboard.domain.test_conversation import FakeCompletions

Make = Callable[..., InboundMessage]
StoreWith = Callable[..., ConversationStore]


@pytest.fixture
def store_with(redis_client: redis.Redis, key_prefix: str, limits: HistoryLimits) -> StoreWith:
    def make(**spend: int) -> ConversationStore:
        return ConversationStore(redis_client, key_prefix, limits, spend=SpendLimits(**spend))

    return make


def accepted(store: ConversationStore, message: InboundMessage) -> StoredMessage:
    assert store.accept(message) is not None
    stored = store.load(message.message_sid)
    assert stored is not None
    return stored


def sender(n: int) -> str:
    return f"whatsapp:+1555000{n:04d}"


def test_over_the_per_minute_budget_a_chat_message_gets_the_notice_and_no_model_call(
    store_with: StoreWith, make_inbound: Make
) -> None:
    store = store_with(per_minute=2)
    sids = [accepted(store, make_inbound(f"question {n}", sender=sender(n))).inbound.message_sid for n in range(3)]

    assert [run_intake(store, sid) for sid in sids] == [Command.CHAT, Command.CHAT, Command.OVER_BUDGET]
    completions = FakeCompletions()
    assert produce_answer(store, completions, "Be brief.", sids[2], 300) == OVER_BUDGET_TEXT  # type: ignore[arg-type]
    assert completions.calls == []


def test_an_over_limit_message_is_stored_without_its_text(store_with: StoreWith, make_inbound: Make) -> None:
    store = store_with(per_minute=1)
    run_intake(store, accepted(store, make_inbound("first")).inbound.message_sid)
    refused = accepted(store, make_inbound("my secret question", sender=sender(1))).inbound.message_sid

    run_intake(store, refused)

    record = store.load(refused)
    assert record is not None and record.inbound.body == "" and record.intake_result == "over-budget"


def test_the_per_day_budget_counts_every_sender_together(store_with: StoreWith, make_inbound: Make) -> None:
    store = store_with(per_day=3)
    sids = [accepted(store, make_inbound("q", sender=sender(n))).inbound.message_sid for n in range(4)]

    assert [run_intake(store, sid) for sid in sids][-1] is Command.OVER_BUDGET


def test_a_sender_over_the_daily_cap_is_told_once_then_not_answered(store_with: StoreWith, make_inbound: Make) -> None:
    store = store_with(sender_per_day=2)
    sids = [accepted(store, make_inbound(f"q{n}")).inbound.message_sid for n in range(4)]
    other = accepted(store, make_inbound("q", sender=sender(9))).inbound.message_sid

    assert [run_intake(store, sid) for sid in sids] == [Command.CHAT, Command.CHAT, Command.SENDER_CAP,
                                                        Command.IGNORED]
    assert run_intake(store, other) is Command.CHAT
    for sid in sids[:2]:
        produce_answer(store, FakeCompletions("a"), "Be brief.", sid, 300)  # type: ignore[arg-type]
    assert produce_answer(store, FakeCompletions(), "Be brief.", sids[2], 300) == SENDER_CAP_TEXT  # type: ignore[arg-type]
    assert produce_answer(store, FakeCompletions(), "Be brief.", sids[3], 300) == ""  # type: ignore[arg-type]


def test_a_sender_over_the_cap_does_not_use_up_the_global_budget(store_with: StoreWith, make_inbound: Make) -> None:
    store = store_with(per_minute=3, sender_per_day=1)
    flood = [accepted(store, make_inbound(f"q{n}")).inbound.message_sid for n in range(5)]
    for sid in flood:
        run_intake(store, sid)

    others = [accepted(store, make_inbound("q", sender=sender(n))).inbound.message_sid for n in range(2)]
    assert [run_intake(store, sid) for sid in others] == [Command.CHAT, Command.CHAT]


def test_the_cap_starts_again_on_the_next_utc_day(store_with: StoreWith, make_inbound: Make) -> None:
    store = store_with(sender_per_day=1)
    today = time.time()
    first, second, tomorrow = (accepted(store, make_inbound(f"q{n}")) for n in range(3))

    assert store.charge_completion(first, now=today) == "granted"
    assert store.charge_completion(second, now=today) == "sender-cap"
    assert store.charge_completion(tomorrow, now=today + 86_400) == "granted"


def test_the_minute_budget_refills_evenly(store_with: StoreWith, make_inbound: Make) -> None:
    store = store_with(per_minute=2)
    start = time.time()
    messages = [accepted(store, make_inbound("q", sender=sender(n))) for n in range(4)]

    decisions = [store.charge_completion(messages[0], now=start), store.charge_completion(messages[1], now=start),
                 store.charge_completion(messages[2], now=start + 1),  # 1/30 of a token back: not enough
                 store.charge_completion(messages[3], now=start + 31)]  # a whole token back after 30 s
    assert decisions == ["granted", "granted", "over-budget", "granted"]


def test_over_the_budget_each_sender_is_told_once_a_minute(store_with: StoreWith, make_inbound: Make) -> None:
    store = store_with(per_minute=1)
    run_intake(store, accepted(store, make_inbound("q", sender=sender(0))).inbound.message_sid)
    later = [accepted(store, make_inbound(f"q{n}")).inbound.message_sid for n in range(2)]

    assert [run_intake(store, sid) for sid in later] == [Command.OVER_BUDGET, Command.IGNORED]


def test_a_redelivered_intake_is_charged_once(store_with: StoreWith, make_inbound: Make) -> None:
    store = store_with(per_minute=1)
    first = accepted(store, make_inbound("q"))
    # A run charged the budget and died before recording its result; SQS delivers the intake again.
    assert store.charge_completion(first) == "granted"

    assert run_intake(store, first.inbound.message_sid) is Command.CHAT
    second = accepted(store, make_inbound("q", sender=sender(1)))
    assert run_intake(store, second.inbound.message_sid) is Command.OVER_BUDGET


def test_commands_and_rate_limited_messages_cost_no_budget(store_with: StoreWith, make_inbound: Make) -> None:
    store = store_with(per_minute=1)
    per_day = RateLimit(messages=1, window_seconds=86_400)
    for body in ("/help", "/reset"):
        run_intake(store, accepted(store, make_inbound(body)).inbound.message_sid, per_day)

    chat = accepted(store, make_inbound("a real question", sender=sender(1))).inbound.message_sid
    assert run_intake(store, chat, per_day) is Command.CHAT


def test_a_rate_limited_message_is_stored_without_its_text(store: ConversationStore, make_inbound: Make) -> None:
    per_day = RateLimit(messages=1, window_seconds=86_400)
    sids = [accepted(store, make_inbound(f"private {n}")).inbound.message_sid for n in range(2)]

    assert [run_intake(store, sid, per_day) for sid in sids] == [Command.CHAT, Command.RATE_LIMITED]
    assert [store.load(sid).inbound.body for sid in sids] == ["private 0", ""]  # type: ignore[union-attr]


def test_without_limits_every_chat_message_may_cost_a_completion(store: ConversationStore, make_inbound: Make) -> None:
    sids = [accepted(store, make_inbound(f"q{n}")).inbound.message_sid for n in range(5)]

    assert {run_intake(store, sid) for sid in sids} == {Command.CHAT}


def test_the_settings_reach_the_store_the_pipeline_uses(hermetic_env: pytest.MonkeyPatch) -> None:
    from switchboard.services import build_store
    from switchboard.settings import load_settings

    settings = load_settings(twilio_account_sid="AC" + "c" * 32, twilio_auth_token="0f" * 16, openai_api_key="sk",
                             sqs_endpoint_url="http://127.0.0.1:4566", completion_budget_per_minute=7,
                             completion_budget_per_day=70, sender_daily_cap=5, message_body_retention_seconds=3600)

    store = build_store(settings)
    assert store.spend == SpendLimits(per_minute=7, per_day=70, sender_per_day=5)
    assert store.text_retention_seconds == 3600


def test_every_key_the_limits_and_the_index_write_expires(
    redis_client: redis.Redis, key_prefix: str, limits: HistoryLimits, make_inbound: Make
) -> None:
    store = ConversationStore(redis_client, key_prefix, limits, text_retention_seconds=600,
                              spend=SpendLimits(per_minute=1, per_day=5, sender_per_day=1))
    for n in range(3):
        run_intake(store, accepted(store, make_inbound(f"q{n}")).inbound.message_sid)

    mine = ("budget:", "spend:", ":messages", "our-numbers", "texts")
    ttls = {key.decode(): redis_client.ttl(key) for key in redis_client.scan_iter(match=key_prefix + "*")
            if any(part in key.decode() for part in mine)}
    assert len(ttls) >= 7 and all(ttl > 0 for ttl in ttls.values()), ttls
