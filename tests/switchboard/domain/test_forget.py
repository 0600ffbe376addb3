"""Forgetting a person: `switchboard forget <number>` and the /forget command delete what is stored about them."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import redis

from switchboard.cli import main
from switchboard.domain.conversation import RateLimit, deliver_reply, produce_answer, run_intake
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.privacy import conversations_of, forget, user_ids_of
from switchboard.domain.user_commands import Command
from switchboard.settings import get_settings
from switchboard.store import ConversationStore, StoredMessage
from tests.switchboard.conftest import OUR_NUMBER, REDIS_URL, USER_NUMBER
from tests.switchboard.domain.test_conversation import FakeCompletions, FakeReplies

Make = Callable[..., InboundMessage]
OTHER_USER = "whatsapp:+15559876543"
PER_DAY = RateLimit(messages=20, window_seconds=86_400)


@pytest.fixture
def settings_env(hermetic_env: pytest.MonkeyPatch, key_prefix: str) -> pytest.MonkeyPatch:
    """Settings for a local deployment on this test's Redis keys (the CLI and /forget read them)."""
    for name, value in {"TWILIO_ACCOUNT_SID": "AC" + "c" * 32, "TWILIO_AUTH_TOKEN": "0f" * 16,
                        "OPENAI_API_KEY": "sk-test", "SQS_ENDPOINT_URL": "http://127.0.0.1:4566",
                        "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": key_prefix}.items():
        hermetic_env.setenv(name, value)
    get_settings.cache_clear()
    return hermetic_env


def twilio_message(body: str, sender: str = USER_NUMBER) -> InboundMessage:
    """A message as the webhook makes it: with the keyed conversation id of this deployment."""
    form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "c" * 32, "From": sender,
            "To": OUR_NUMBER, "Body": body, "WaId": sender.removeprefix("whatsapp:+")}
    return InboundMessage.from_twilio_form(form, conversation_key=get_settings().conversation_key())


def answered_and_replied(store: ConversationStore, message: InboundMessage) -> StoredMessage:
    """A message taken all the way: intake (a rate-limit counter), answer, history, a sent part."""
    assert store.accept(message) is not None
    run_intake(store, message.message_sid, PER_DAY)
    produce_answer(store, FakeCompletions(f"answer to {message.body}"), "Be brief.",  # type: ignore[arg-type]
                   message.message_sid, 300)
    deliver_reply(store, FakeReplies(), message.message_sid, 300)  # type: ignore[arg-type]
    stored = store.load(message.message_sid)
    assert stored is not None and stored.replied
    return stored


def keys_about(redis_client: redis.Redis, key_prefix: str, conversation: str, sids: list[str]) -> list[str]:
    keys = [k.decode() for k in redis_client.scan_iter(match=key_prefix + "*")]
    found = [k for k in keys if conversation in k or any(sid in k and "claim:" not in k for sid in sids)]
    for key in keys:
        if redis_client.type(key) == b"zset":
            found += [f"{key} has {sid}" for sid in sids if redis_client.zscore(key, sid) is not None]
        if key.endswith("delivery") or ":delivery:" in key:
            found += [key] if redis_client.hget(key, "conversation") == conversation.encode() else []
    return found


def test_forget_deletes_records_history_deliveries_and_limits_and_counts_them(
    store: ConversationStore, make_inbound: Make, redis_client: redis.Redis, key_prefix: str
) -> None:
    mine = [answered_and_replied(store, make_inbound(f"q{n}")) for n in range(2)]
    theirs = answered_and_replied(store, make_inbound("other", sender=OTHER_USER))
    conversation = mine[0].conversation

    counts = forget(store, {conversation})

    assert counts == {"messages": 2, "conversation turns": 4, "delivery records": 2, "limit counters": 1}
    assert keys_about(redis_client, key_prefix, conversation, [m.inbound.message_sid for m in mine]) == []
    assert store.load(theirs.inbound.message_sid) is not None
    assert len(store.history(theirs.conversation)) == 2


def test_forget_finds_messages_that_have_not_been_through_intake_yet(
    store: ConversationStore, make_inbound: Make
) -> None:
    waiting = make_inbound("still on the queue")
    assert store.accept(waiting) is not None

    assert forget(store, {waiting.conversation_id})["messages"] == 1
    assert store.load(waiting.message_sid) is None
    assert store.unanswered()[0] == 0 and store.outbox_size() == 0


def test_a_user_forget_deletes_what_came_before_and_is_answered_at_once(
    settings_env: pytest.MonkeyPatch, store: ConversationStore
) -> None:
    earlier = answered_and_replied(store, twilio_message("my address is 1 Main St"))
    pending = twilio_message("a question still waiting for its answer")
    request = twilio_message("/forget")
    for message in (pending, request):
        assert store.accept(message) is not None

    assert run_intake(store, request.message_sid, PER_DAY) is Command.FORGET

    assert store.load(earlier.inbound.message_sid) is None and store.load(pending.message_sid) is None
    assert store.history(request.conversation_id) == []
    answer = produce_answer(store, FakeCompletions(), "Be brief.", request.message_sid, 300)  # type: ignore[arg-type]
    assert answer.startswith("Done: I've deleted what I stored about you") and "2 messages" in answer
    assert "2 conversation turns" in answer and "1 delivery records" in answer
    replies = FakeReplies()
    deliver_reply(store, replies, request.message_sid, 300)  # type: ignore[arg-type]  # no wait for `pending`
    assert replies.bodies == [answer]
    assert store.load(request.message_sid).inbound.body == ""  # type: ignore[union-attr]


def test_a_second_run_of_a_forget_intake_deletes_nothing_more(
    settings_env: pytest.MonkeyPatch, store: ConversationStore
) -> None:
    answered_and_replied(store, twilio_message("hello"))
    request = twilio_message("/forget")
    assert store.accept(request) is not None
    run_intake(store, request.message_sid)
    first_answer = store.load(request.message_sid).answer  # type: ignore[union-attr]

    assert run_intake(store, request.message_sid) is Command.FORGET
    assert store.load(request.message_sid).answer == first_answer  # type: ignore[union-attr]


def test_messages_after_a_forget_start_a_fresh_conversation(
    settings_env: pytest.MonkeyPatch, store: ConversationStore
) -> None:
    answered_and_replied(store, twilio_message("remember 42"))
    request = twilio_message("/forget")
    assert store.accept(request) is not None
    run_intake(store, request.message_sid)
    produce_answer(store, FakeCompletions(), "Be brief.", request.message_sid, 300)  # type: ignore[arg-type]
    deliver_reply(store, FakeReplies(), request.message_sid, 300)  # type: ignore[arg-type]

    after = twilio_message("what number did I say?")
    assert store.accept(after) is not None
    run_intake(store, after.message_sid)
    completions = FakeCompletions("I don't know.")
    produce_answer(store, completions, "Be brief.", after.message_sid, 300)  # type: ignore[arg-type]
    assert [m["content"] for m in completions.calls[0]] == ["Be brief.", "what number did I say?"]


def test_the_cli_forgets_a_number_given_in_any_form_and_says_what_it_deleted(
    settings_env: pytest.MonkeyPatch, store: ConversationStore, make_inbound: Make,
    capsys: pytest.CaptureFixture[str]
) -> None:
    keyed = answered_and_replied(store, twilio_message("keyed id"))
    legacy = answered_and_replied(store, make_inbound("a record from before ids were keyed"))
    other = answered_and_replied(store, twilio_message("not me", sender=OTHER_USER))

    assert main(["forget", "+15551234567"]) == 0

    assert store.load(keyed.inbound.message_sid) is None and store.load(legacy.inbound.message_sid) is None
    assert store.load(other.inbound.message_sid) is not None
    out = capsys.readouterr().out
    assert "+1555***67" in out and "2 messages, 4 conversation turns, 2 delivery records, 2 limit counters" in out
    assert "1234567" not in out  # the number itself is not printed


def test_the_cli_needs_one_of_our_numbers_before_any_message_arrived(
    settings_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["forget", "+15551234567"]) == 1
    assert "--to" in capsys.readouterr().err
    assert main(["forget", "+15551234567", "--to", OUR_NUMBER]) == 0


def test_a_number_maps_to_every_form_of_user_id() -> None:
    assert user_ids_of("whatsapp:+15551234567") == {"whatsapp:+15551234567", "+15551234567", "15551234567"}
    assert user_ids_of("some.username") == {"some.username"}
    assert len(conversations_of({"+15551234567"}, {OUR_NUMBER}, b"k" * 32)) == 2  # keyed and unkeyed
