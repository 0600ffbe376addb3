"""A bot that knows its operator's facts and systems (issue 14), through every real part.

gunicorn, a celery worker, moto's SQS, Redis, the Twilio and OpenAI stand-ins, and the sample operator API
(localdev/sample_api.py) that checks every call's signature and answers only for the identity it carries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import request

from localdev.local_env import ROOT
from localdev.sample_api import create_sample_api, owner_key
from localdev.standins.serving import serve_in_thread
from tests.harness.pipeline import Stack, new_user

pytestmark = pytest.mark.integration

SECRET = "operator-signing-secret-for-tests-0123456789"
SAMPLE = ROOT / "localdev" / "sample"


class OperatorApi:
    """The sample API on a thread, noting the identity each call it answered carried."""

    def __init__(self, registrations: dict[str, dict[str, Any]]) -> None:
        app = create_sample_api(SECRET.encode(), registrations)
        self.calls: list[dict[str, str]] = []

        @app.before_request
        def note() -> None:
            self.calls.append({name: value for name, value in request.headers.items()
                               if name.lower().startswith("x-switchboard-")})

        self.url, self.stop = serve_in_thread(app)


@pytest.fixture
def asker() -> str:
    return new_user()


@pytest.fixture
def operator_api(asker: str) -> Iterator[OperatorApi]:
    api = OperatorApi({owner_key(asker): {"registration": "R-2026-0999", "status": "confirmed"},
                       "15559990000": {"registration": "R-2026-0001", "status": "someone else's"}})
    yield api
    api.stop()


@pytest.fixture
def bot(stack_factory: Callable[..., Stack], operator_api: OperatorApi, monkeypatch: pytest.MonkeyPatch) -> Stack:
    # The tools file names ${SAMPLE_API_URL}: the harness reads the deployment's settings in this process too.
    monkeypatch.setenv("SAMPLE_API_URL", operator_api.url)
    stack = stack_factory(
        KNOWLEDGE_PATH=str(SAMPLE / "knowledge"), KNOWLEDGE_CONTACT="the registration office",
        # The tests' model (gpt-test) is assumed to have an 8k window: the whole sample folder still fits.
        KNOWLEDGE_PROMPT_MAX_TOKENS="3000",
        TOOLS_FILE=str(SAMPLE / "tools.yaml"), SAMPLE_API_URL=operator_api.url, OPERATOR_SIGNING_SECRET=SECRET)
    stack.start_web()
    stack.start_worker(concurrency=4)
    return stack


def test_a_fee_question_is_answered_from_the_operators_knowledge_with_no_tool_call(
        bot: Stack, asker: str, operator_api: OperatorApi) -> None:
    bot.send("How much does registration cost?", asker)

    [answer] = bot.wait_for_replies(asker, 1)
    assert "$60" in answer
    system = bot.openai.client.requests()[-1]["messages"][0]["content"]
    assert "<knowledge>" in system and "the registration office" in system
    assert operator_api.calls == []


def test_a_status_question_is_answered_by_the_operators_api_for_the_person_asking(
        bot: Stack, asker: str, operator_api: OperatorApi) -> None:
    bot.send("Did my registration go through?", asker)

    [answer] = bot.wait_for_replies(asker, 1)
    assert "R-2026-0999" in answer and "confirmed" in answer
    [call] = operator_api.calls
    assert call["X-Switchboard-User-Id"] == owner_key(asker)
    assert call["X-Switchboard-Sender"] == asker and call["X-Switchboard-Signature"]


def test_the_model_naming_another_persons_number_reaches_nobody_elses_registration(
        bot: Stack, asker: str, operator_api: OperatorApi) -> None:
    bot.openai.client.next_tool_calls([{"name": "registration_status", "arguments": {"user_id": "+15559990000"}}])

    bot.send("What is the status of +15559990000?", asker)

    [answer] = bot.wait_for_replies(asker, 1)
    assert "someone else's" not in answer and "R-2026-0001" not in answer
    assert all(call["X-Switchboard-User-Id"] == owner_key(asker) for call in operator_api.calls)
