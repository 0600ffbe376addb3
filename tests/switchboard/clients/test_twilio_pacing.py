"""Paced Twilio requests against the stand-in and the real Redis: slots held while a request runs, holds after 20429/63018."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import redis
from prometheus_client import REGISTRY
from twilio.rest import Client

from localdev.polling import wait_for
from switchboard.clients.twilio_client import ReplySender
from switchboard.clients.twilio_http import AnswerKeepingHttpClient, parse_retry_after
from switchboard.clients.twilio_pacing import SENDER_HOLD_SECONDS, SlotUnavailable, TwilioPacing
from switchboard.clients.twilio_refusals import ACCOUNT_CONCURRENCY, SENDER_RATE, RateLimited
from switchboard.clients.twilio_typing import TypingIndicator
from switchboard.errors import TransientError
from switchboard.settings import load_settings
from switchboard.store import ConversationStore, HistoryLimits
from switchboard.store.connection import connect
from tests.harness.standins import RunningStandin
from tests.switchboard.conftest import REDIS_URL

USER, BOT, OTHER_BOT = "whatsapp:+15557654321", "whatsapp:+14155238886", "whatsapp:+14155230000"
INBOUND_SID = "SM" + "cd" * 16


def sdk(standin: RunningStandin) -> Client:
    client = Client(standin.account_sid, standin.auth_token,
                    http_client=AnswerKeepingHttpClient(timeout=5, max_retries=0))
    client.api.base_url = standin.base_url
    client.messaging.base_url = standin.base_url
    return client


def paced(standin: RunningStandin, store: ConversationStore, limit: int = 2, wait: float = 0.1) -> ReplySender:
    """A worker process's sender: its own HTTP client, slots in `store` (each call: another process)."""
    pacing = TwilioPacing(store, limit, lease_seconds=30, wait_seconds=wait)
    return ReplySender(sdk(standin), None, pacing=pacing)


def another_process(store: ConversationStore) -> ConversationStore:
    return ConversationStore(connect(REDIS_URL, timeout_seconds=5), store.prefix, HistoryLimits(1, 100, 60))


def creates(standin: RunningStandin) -> int:
    return len([r for r in standin.client.requests() if r["method"] == "POST" and r["path"].endswith("Messages.json")])


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_send_holds_a_slot_while_it_runs_and_a_send_elsewhere_gives_up_waiting_for_it(
    twilio_standin: RunningStandin, store: ConversationStore
) -> None:
    twilio_standin.client.set_latency(30)
    unavailable = sample("switchboard_twilio_slots_total", outcome="unavailable")
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(paced(twilio_standin, store, limit=1).send, USER, BOT, "slow")
        wait_for(lambda: store.twilio_slots_held() == 1 and creates(twilio_standin) == 1, timeout=10,
                 message="the first send in flight")

        with pytest.raises(SlotUnavailable):
            paced(twilio_standin, another_process(store), limit=1).send(USER, BOT, "waits")

        assert creates(twilio_standin) == 1  # the second never reached Twilio
        assert sample("switchboard_twilio_slots_total", outcome="unavailable") == unavailable + 1
        twilio_standin.client.reset()  # the slow create ends (503) and frees its slot
        assert isinstance(slow.exception(timeout=10), TransientError)
    assert store.twilio_slots_held() == 0


def test_a_send_waiting_for_a_slot_goes_once_one_is_freed(
    twilio_standin: RunningStandin, store: ConversationStore
) -> None:
    assert store.take_twilio_slot("another-worker", limit=1, lease_seconds=30)
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(paced(twilio_standin, another_process(store), limit=1, wait=30).send, USER, BOT, "hi")
        store.free_twilio_slot("another-worker")

        assert waiting.result(timeout=10).startswith("SM")
    assert [m["body"] for m in twilio_standin.client.messages()] == ["hi"]


def test_a_20429_holds_off_every_process_for_its_retry_after(
    twilio_standin: RunningStandin, store: ConversationStore
) -> None:
    twilio_standin.client.rate_limit(20429, retry_after=3)
    counted = sample("switchboard_twilio_rate_limited_total", code="20429")

    with pytest.raises(RateLimited) as refused:
        paced(twilio_standin, store).send(USER, BOT, "hello")

    assert refused.value.code == ACCOUNT_CONCURRENCY and 3 <= (refused.value.retry_after or 0) <= 4.5
    assert sample("switchboard_twilio_rate_limited_total", code="20429") == counted + 1
    assert 2 < store.twilio_held_for(["account"]) <= 3
    with pytest.raises(SlotUnavailable, match="hold off") as held:
        paced(twilio_standin, another_process(store)).send(USER, OTHER_BOT, "elsewhere")
    assert (held.value.retry_after or 0) > 2
    assert creates(twilio_standin) == 1 and twilio_standin.client.messages() == []
    assert store.twilio_slots_held() == 0


def test_a_63018_holds_off_that_sender_only(twilio_standin: RunningStandin, store: ConversationStore) -> None:
    twilio_standin.client.rate_limit(63018)  # no Retry-After: the sender's default hold
    replies = paced(twilio_standin, store)

    with pytest.raises(RateLimited) as refused:
        replies.send(USER, BOT, "first")

    assert refused.value.code == SENDER_RATE
    assert SENDER_HOLD_SECONDS <= (refused.value.retry_after or 0) <= SENDER_HOLD_SECONDS * 1.5
    with pytest.raises(SlotUnavailable):
        paced(twilio_standin, another_process(store)).send(USER, BOT, "same sender")
    replies.send(USER, OTHER_BOT, "another sender")
    assert [m["body"] for m in twilio_standin.client.messages()] == ["another sender"]


def test_a_429_reading_twilios_log_holds_off_the_account_too(
    twilio_standin: RunningStandin, store: ConversationStore
) -> None:
    twilio_standin.client.fail(429, endpoint="list", twilio_code=20429, retry_after=2)

    with pytest.raises(RateLimited):
        paced(twilio_standin, store).find_sent(USER, BOT, "hello", since=0)

    assert store.twilio_held_for(["account"]) > 1


def test_a_status_read_with_no_slot_free_is_skipped_for_now(
    twilio_standin: RunningStandin, store: ConversationStore
) -> None:
    replies = paced(twilio_standin, store, limit=1)
    sid = replies.send(USER, BOT, "hello")
    assert store.take_twilio_slot("another-worker", limit=1, lease_seconds=30)

    assert replies.message_status(sid) is None
    assert not [r for r in twilio_standin.client.requests() if r["method"] == "GET"]
    store.free_twilio_slot("another-worker")
    assert replies.message_status(sid) is not None


def test_the_typing_indicator_takes_a_slot_only_if_one_is_free_now(
    twilio_standin: RunningStandin, store: ConversationStore
) -> None:
    indicator = TypingIndicator(sdk(twilio_standin), pacing=TwilioPacing(store, 1, lease_seconds=30))
    assert store.take_twilio_slot("a-send", limit=1, lease_seconds=30)

    busy = indicator.show(INBOUND_SID)
    assert busy is not None and busy.result(timeout=5) == "busy"
    store.free_twilio_slot("a-send")
    shown = indicator.show(INBOUND_SID)
    assert shown is not None and shown.result(timeout=5) == "shown"

    assert len([r for r in twilio_standin.client.requests() if r["path"].endswith("Typing.json")]) == 1


def test_with_no_limit_of_ours_no_slot_is_taken_and_twilios_holds_still_apply(
    twilio_standin: RunningStandin, store: ConversationStore
) -> None:
    replies = paced(twilio_standin, store, limit=0)

    replies.send(USER, BOT, "unlimited")
    store.hold_twilio("account", 30, "20429")

    assert store.twilio_slots_held() == 0
    with pytest.raises(SlotUnavailable):
        replies.send(USER, BOT, "held")
    assert [m["body"] for m in twilio_standin.client.messages()] == ["unlimited"]


def test_redis_unreachable_gives_the_send_back_unsent(twilio_standin: RunningStandin, key_prefix: str) -> None:
    gone = ConversationStore(redis.Redis(port=1, socket_connect_timeout=0.2), key_prefix, HistoryLimits(1, 100, 60))

    with pytest.raises(TransientError, match="unreadable") as caught:
        paced(twilio_standin, gone).send(USER, BOT, "hello")
    assert not isinstance(caught.value, SlotUnavailable)  # a Redis outage uses up attempts; a full limit does not
    assert creates(twilio_standin) == 0


def test_from_settings_shares_the_configured_limit_through_the_store(
    hermetic_env: pytest.MonkeyPatch, twilio_standin: RunningStandin, store: ConversationStore
) -> None:
    base = {"twilio_account_sid": twilio_standin.account_sid, "twilio_auth_token": twilio_standin.auth_token,
            "allow_test_auth_token": True, "twilio_api_base_url": twilio_standin.base_url,
            "openai_api_key": "sk-test", "sqs_endpoint_url": "http://127.0.0.1:1"}
    settings = load_settings(**base, twilio_max_concurrent_requests=7, twilio_timeout_seconds=4)

    replies = ReplySender.from_settings(settings, slots=store)

    assert replies.pacing is not None and replies.pacing.limit == 7 and replies.pacing.lease_seconds == 13
    assert replies.typing is not None and replies.typing.pacing is replies.pacing
    assert ReplySender.from_settings(settings).pacing is None  # no store given: unpaced
    assert load_settings(**base).twilio_max_concurrent_requests == 50


@pytest.mark.parametrize(("header", "seconds"), [
    ("2", 2.0), ("0.5", 0.5), ("-3", 0.0), ("100000", 60.0), ("soon", None), ("nan", None), ("", None), (None, None),
])
def test_retry_after_is_read_in_seconds_and_bounded(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_is_read_as_an_http_date() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    assert parse_retry_after(format_datetime(now + timedelta(seconds=7), usegmt=True), now=now.timestamp()) == 7
