"""The optional moderation check at intake, and refusals, through the real openai SDK and the stand-in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from switchboard.clients.openai_client import CompletionClient, ModerationClient
from switchboard.domain.conversation import produce_answer, run_intake
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.user_commands import FLAGGED_TEXT, Command
from switchboard.errors import PermanentError
from switchboard.settings import load_settings
from switchboard.store import ConversationStore
from tests.harness.standins import RunningStandin, openai_sdk
from tests.switchboard.domain.test_conversation import FakeCompletions

Make = Callable[..., InboundMessage]


def flag(standin: RunningStandin, phrase: str, category: str = "violence") -> None:
    requests.post(f"{standin.base_url}/_standin/flag", json={"phrase": phrase, "category": category},
                  timeout=5).raise_for_status()


def moderations(standin: RunningStandin) -> list[dict[str, object]]:
    response = requests.get(f"{standin.base_url}/_standin/moderations", timeout=5)
    response.raise_for_status()
    return list(response.json()["moderations"])


@pytest.fixture
def moderation(openai_standin: RunningStandin) -> ModerationClient:
    return ModerationClient(openai_sdk(openai_standin), "omni-moderation-latest")


def accept(store: ConversationStore, message: InboundMessage) -> str:
    assert store.accept(message) is not None
    return message.message_sid


def test_flagged_input_gets_the_fixed_answer_and_no_completion(
    store: ConversationStore, make_inbound: Make, moderation: ModerationClient, openai_standin: RunningStandin
) -> None:
    flag(openai_standin, "hurt someone")
    sid = accept(store, make_inbound("How do I hurt someone?"))

    assert run_intake(store, sid, moderation=moderation) is Command.FLAGGED
    completions = FakeCompletions()
    assert produce_answer(store, completions, "Be brief.", sid, 300) == FLAGGED_TEXT  # type: ignore[arg-type]
    assert completions.calls == []
    assert store.load(sid).inbound.body == ""  # type: ignore[union-attr]
    [asked] = moderations(openai_standin)
    assert asked == {"model": "omni-moderation-latest", "input": "How do I hurt someone?"}


def test_unflagged_input_goes_on_to_the_model(
    store: ConversationStore, make_inbound: Make, moderation: ModerationClient, openai_standin: RunningStandin
) -> None:
    flag(openai_standin, "hurt someone")
    sid = accept(store, make_inbound("How do I bake bread?"))

    assert run_intake(store, sid, moderation=moderation) is Command.CHAT
    assert len(moderations(openai_standin)) == 1


def test_commands_are_not_sent_to_moderation(
    store: ConversationStore, make_inbound: Make, moderation: ModerationClient, openai_standin: RunningStandin
) -> None:
    run_intake(store, accept(store, make_inbound("/help")), moderation=moderation)

    assert moderations(openai_standin) == []


def test_while_moderation_is_down_messages_are_answered_unchecked(
    store: ConversationStore, make_inbound: Make, moderation: ModerationClient, openai_standin: RunningStandin
) -> None:
    openai_standin.client.fail(503, endpoint="moderate")
    sid = accept(store, make_inbound("hello"))

    assert run_intake(store, sid, moderation=moderation) is Command.CHAT


def test_a_moderation_client_is_built_only_when_the_setting_is_on(hermetic_env: pytest.MonkeyPatch) -> None:
    base = {"twilio_account_sid": "AC" + "c" * 32, "twilio_auth_token": "0f" * 16, "openai_api_key": "sk-test",
            "sqs_endpoint_url": "http://127.0.0.1:4566"}

    assert ModerationClient.from_settings(load_settings(**base)) is None
    client = ModerationClient.from_settings(load_settings(**base, openai_moderation=True))
    assert client is not None and client.model == "omni-moderation-latest"


def test_a_refusal_from_the_model_is_permanent_after_one_call(openai_standin: RunningStandin) -> None:
    requests.post(f"{openai_standin.base_url}/_standin/refuse", json={"times": 5}, timeout=5).raise_for_status()
    client = CompletionClient(openai_sdk(openai_standin), "gpt-test", 50)

    with pytest.raises(PermanentError, match="refused"):
        client.complete([{"role": "user", "content": "something it refuses"}])
    assert len(openai_standin.client.requests()) == 1


def test_an_empty_completion_is_permanent_after_one_call(openai_standin: RunningStandin) -> None:
    openai_standin.client.set_reply("   ", times=5)
    client = CompletionClient(openai_sdk(openai_standin), "gpt-test", 50)

    with pytest.raises(PermanentError, match="empty"):
        client.complete([{"role": "user", "content": "hi"}])
    assert len(openai_standin.client.requests()) == 1
