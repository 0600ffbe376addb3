"""`switchboard inbox`, `say` and `resume`: what the operator sees, a reply through the Twilio stand-in, clear refusals."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from localdev.redis_keys import delete_keys_with_prefix
from switchboard.cli import main
from switchboard.domain.answering import AnswerOptions, produce_answer
from switchboard.domain.conversation import run_intake
from switchboard.domain.handoff import HandoffPolicy
from switchboard.domain.inbound import InboundMessage
from switchboard.services import build_store
from switchboard.settings import get_settings
from switchboard.store import ConversationStore
from tests.harness.standins import RunningStandin
from tests.switchboard.domain.test_conversation import FakeCompletions

USER, BOT = "whatsapp:+15551234567", "whatsapp:+15550000000"


@pytest.fixture
def store(pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[ConversationStore]:
    """The store the commands build, under a key prefix of this test's own (the inbox lists every shard)."""
    prefix = f"{pipeline_env['REDIS_KEY_PREFIX']}handoff-{uuid.uuid4().hex[:6]}:"
    monkeypatch.setenv("REDIS_KEY_PREFIX", prefix)
    get_settings.cache_clear()
    yield build_store(get_settings())
    delete_keys_with_prefix(pipeline_env["REDIS_URL"], prefix)
    get_settings.cache_clear()


def said(store: ConversationStore, body: str, user: str = USER) -> str:
    inbound = InboundMessage(message_sid="SM" + uuid.uuid4().hex, account_sid="AC" + "0" * 32, sender=user,
                             recipient=BOT, body=body, user_id=user, received_at=time.time())
    assert store.accept(inbound) is not None
    run_intake(store, inbound.message_sid)
    produce_answer(store, FakeCompletions("bot answer"), "Be brief.", inbound.message_sid,  # type: ignore[arg-type]
                   options=AnswerOptions(handoff=HandoffPolicy(3600)))
    return inbound.conversation_id


def paused(store: ConversationStore) -> str:
    conversation = said(store, "human")
    said(store, "my order 1234 never came")
    return conversation


def test_inbox_shows_the_pause_with_masked_numbers_and_the_kept_text_only_when_asked(
        store: ConversationStore, capsys: pytest.CaptureFixture[str]) -> None:
    conversation = paused(store)

    assert main(["inbox"]) == 0
    out = capsys.readouterr().out
    assert conversation in out and "whatsapp:+1555***67" in out and USER not in out
    assert "by command: the user asked for a person" in out and "1 message(s) kept for you" in out
    assert "never came" not in out and "[24 characters; --text shows them]" in out

    assert main(["inbox", "--text"]) == 0
    assert "my order 1234 never came" in capsys.readouterr().out


def test_inbox_says_when_nothing_is_paused(store: ConversationStore, capsys: pytest.CaptureFixture[str]) -> None:
    said(store, "hello")

    assert main(["inbox"]) == 0
    assert capsys.readouterr().out == "no conversation is paused for a person\n"


def test_say_sends_through_twilio_as_the_bots_number_then_resume_hands_back(
        store: ConversationStore, twilio_standin: RunningStandin, capsys: pytest.CaptureFixture[str]) -> None:
    conversation = paused(store)

    assert main(["say", conversation, "Hi, Ana here. It ships today."]) == 0
    assert f"sent to {conversation} in 1 part(s)" in capsys.readouterr().out
    [sent] = [m for m in twilio_standin.client.messages() if m["to"] == USER]
    assert (sent["body"], sent["from"]) == ("Hi, Ana here. It ships today.", BOT)

    assert main(["resume", conversation]) == 0
    assert "is back with the bot" in capsys.readouterr().out
    assert main(["resume", conversation]) == 1
    assert "is not paused" in capsys.readouterr().err


def test_say_refuses_outside_the_24_hour_window_an_unpaused_and_an_unknown_conversation(
        store: ConversationStore, twilio_standin: RunningStandin, capsys: pytest.CaptureFixture[str]) -> None:
    conversation = paused(store)
    store.set_last_inbound_at(conversation, time.time() - 25 * 3600)
    assert main(["say", conversation, "hello?"]) == 1
    assert "outside WhatsApp's 24-hour window" in capsys.readouterr().err

    answered = said(store, "hello", user="whatsapp:+15559876543")
    assert main(["say", answered, "hi"]) == 1
    assert "is not paused" in capsys.readouterr().err
    assert main(["say", "f" * 24, "hi"]) == 1
    assert "no conversation ffffffffffffffffffffffff is stored" in capsys.readouterr().err
    assert twilio_standin.client.messages() == []
