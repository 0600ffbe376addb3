"""A lost message record: rebuilt from Twilio's copy, or counted as dropped; no write recreates an expired record."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from prometheus_client import REGISTRY

from switchboard.clients.twilio_client import ReplySender
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.lost_records import MessageDropped, rebuild
from switchboard.settings import load_settings
from switchboard.store import ConversationStore
from tests.harness.standins import RunningStandin, start_twilio

BOT = "whatsapp:+14155238886"
USER = "whatsapp:+15557654321"


@pytest.fixture(scope="module")
def twilio() -> Iterator[RunningStandin]:
    standin = start_twilio(account_sid="AC" + uuid.uuid4().hex, auth_token=uuid.uuid4().hex)
    yield standin
    standin.stop()


@pytest.fixture
def hermetic_env(hermetic_env: pytest.MonkeyPatch, twilio: RunningStandin) -> pytest.MonkeyPatch:
    """The process's settings (whose conversation key a rebuilt record is filed under) for this stand-in."""
    for name, value in {"TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": twilio.auth_token,
                        "TWILIO_API_BASE_URL": twilio.base_url, "OPENAI_API_KEY": "sk-test",
                        "CONVERSATION_ID_SECRET": "k" * 32, "SQS_ENDPOINT_URL": "http://127.0.0.1:1"}.items():
        hermetic_env.setenv(name, value)
    return hermetic_env


def sender_for(twilio: RunningStandin, auth_token: str | None = None) -> ReplySender:
    settings = load_settings(twilio_timeout_seconds=2, **({"twilio_auth_token": auth_token} if auth_token else {}))
    return ReplySender.from_settings(settings)


def dropped(reason: str) -> float:
    return REGISTRY.get_sample_value("switchboard_dropped_total", {"reason": reason}) or 0.0


def test_a_lost_record_is_rebuilt_from_twilios_copy_with_a_ttl(
    hermetic_env: pytest.MonkeyPatch, store: ConversationStore, twilio: RunningStandin
) -> None:
    sid = "SM" + uuid.uuid4().hex
    twilio.client.add_inbound(USER, BOT, "are you there?", sid=sid)

    rebuild(store, sender_for(twilio), sid, "intake")

    message = store.load(sid)
    assert message is not None
    assert (message.inbound.sender, message.inbound.recipient, message.inbound.body) == (USER, BOT, "are you there?")
    assert message.inbound.user_id == USER.removeprefix("whatsapp:+")  # the webhook's WaId: same conversation
    assert message.seq >= 1 and message.answer is None
    assert 0 < store.redis.ttl(store._msg(sid)) <= store.limits.message_ttl_seconds  # MESSAGE_TTL_SECONDS, not the history TTL
    assert store.unanswered()[0] == 1


def test_a_message_twilio_does_not_have_is_dropped_and_counted(
    hermetic_env: pytest.MonkeyPatch, store: ConversationStore, twilio: RunningStandin
) -> None:
    before = dropped("not_in_twilio")

    with pytest.raises(MessageDropped):
        rebuild(store, sender_for(twilio), "SM" + uuid.uuid4().hex, "complete")

    assert dropped("not_in_twilio") == before + 1


def test_an_outbound_message_is_not_taken_for_an_inbound_one(
    hermetic_env: pytest.MonkeyPatch, store: ConversationStore, twilio: RunningStandin
) -> None:
    sent = sender_for(twilio).send(to=USER, from_=BOT, body="our own reply")

    with pytest.raises(MessageDropped, match="not_inbound"):
        rebuild(store, sender_for(twilio), sent, "intake")
    assert store.load(sent) is None


def test_when_twilio_cannot_be_asked_the_rebuild_is_transient_not_a_drop(
    hermetic_env: pytest.MonkeyPatch, store: ConversationStore, twilio: RunningStandin
) -> None:
    from switchboard.errors import TransientError

    twilio.client.fail(503, endpoint="fetch")
    with pytest.raises(TransientError):
        rebuild(store, sender_for(twilio), "SM" + uuid.uuid4().hex, "intake")
    # A rotated token is our fault, not the message's: also worth asking again later.
    with pytest.raises(TransientError):
        rebuild(store, sender_for(twilio, auth_token=uuid.uuid4().hex), "SM" + uuid.uuid4().hex, "intake")


# --- no write recreates an expired record --------------------------------------------------------


@pytest.fixture
def expired(store: ConversationStore, make_inbound: Callable[..., InboundMessage]) -> Iterator[tuple[str, object]]:
    """A message accepted and loaded, whose record then expired (deleted, as its TTL would)."""
    message = make_inbound("hi")
    store.accept(message)
    loaded = store.load(message.message_sid)
    store.redis.delete(store._msg(message.message_sid))
    yield message.message_sid, loaded


def test_no_write_to_an_expired_record_recreates_it(
    store: ConversationStore, expired: tuple[str, object]
) -> None:
    sid, loaded = expired

    assert store.record_intake(sid, "chat") is False
    assert store.record_answer(loaded, "an answer", turns=[{"role": "user", "content": "hi"}]) is False  # type: ignore[arg-type]
    assert store.record_part_sent(loaded, 0, "SM-out") is False  # type: ignore[arg-type]
    assert store.claim_direct_apology(sid) is False
    assert store.mark_replied(loaded) is False  # type: ignore[arg-type]

    assert not store.redis.exists(store._msg(sid))
    assert not store.redis.exists(store._delivery("SM-out"))
    assert store.history(loaded.conversation) == []  # type: ignore[attr-defined]
