"""The three pipeline tasks run in-process with fakes: what each failure of their domain function becomes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery.exceptions import Ignore, Reject, Retry

import tasks.pipeline  # noqa: F401  (registers the three tasks)
from localdev.redis_server import redis_url_for_tests
from switchboard.clients.twilio_client import ReplySender
from switchboard.clients.twilio_pacing import SlotUnavailable
from switchboard.clients.twilio_refusals import RateLimited
from switchboard.domain.conversation import APOLOGY
from switchboard.domain.inbound import InboundMessage
from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.services import Services, build_store
from switchboard.settings import Settings, get_settings
from switchboard.store import ConversationStore
from tasks.celery import app
from tasks.pipeline_task import PipelineTask, is_last_failed_delivery, services_for_tasks
from tests.harness.standins import RunningStandin, start_twilio
from tests.switchboard.domain.test_conversation import FakeCompletions, FakeReplies

BOT, USER = "whatsapp:+14155238886", "whatsapp:+15557654321"


def task(stage: str) -> PipelineTask:
    """The app's task object, looked up once settings are in place (binding it reads celeryconfig)."""
    found: PipelineTask = app.tasks[f"switchboard.{stage}"]
    return found


@pytest.fixture(scope="module")
def twilio() -> Iterator[RunningStandin]:
    standin = start_twilio(account_sid="AC" + uuid.uuid4().hex, auth_token=uuid.uuid4().hex)
    yield standin
    standin.stop()


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, twilio: RunningStandin) -> Iterator[Settings]:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in {"TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": twilio.auth_token,
                        "TWILIO_API_BASE_URL": twilio.base_url, "OPENAI_API_KEY": "sk-test",
                        "CONVERSATION_ID_SECRET": "k" * 32, "SQS_ENDPOINT_URL": "http://127.0.0.1:1",
                        "REDIS_URL": redis_url_for_tests(), "SQS_VISIBILITY_TIMEOUT": "30",
                        "REDIS_KEY_PREFIX": f"sbtasks-{uuid.uuid4().hex[:8]}:"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield get_settings()
    client = redis.Redis.from_url(redis_url_for_tests())
    keys = list(client.scan_iter(match=get_settings().redis_key_prefix + "*"))
    if keys:
        client.delete(*keys)
    get_settings.cache_clear()


@pytest.fixture
def store(settings: Settings) -> ConversationStore:
    return build_store(settings)


def services(settings: Settings, store: ConversationStore, completions: Any = None, replies: Any = None) -> Services:
    return Services(settings=settings, store=store, completions=completions or FakeCompletions(),
                    replies=replies or FakeReplies())


def accepted(store: ConversationStore, body: str = "hello") -> tuple[str, str]:
    message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, account_sid="AC" + "0" * 32, sender=USER,
                             recipient=BOT, body=body, user_id=USER, received_at=time.time())
    assert store.accept(message) is not None
    stored = store.load(message.message_sid)
    assert stored is not None
    return message.message_sid, stored.conversation


def run(step: str, with_services: Services, message_sid: str, conversation: str,
        attempt: int = 0) -> Retry | None:
    """Run the task body as the worker would (a request of its own); the retry it asks for, if any, unpublished."""
    kwargs = {"message_sid": message_sid, "conversation": conversation, "attempt": attempt}
    pipeline_task = task(step)
    pipeline_task.push_request(id=uuid.uuid4().hex, args=(), kwargs=kwargs, called_directly=False, is_eager=True,
                      delivery_info={})
    try:
        with services_for_tasks(with_services):
            pipeline_task.run(**kwargs)
    except Retry as retry:
        return retry
    finally:
        pipeline_task.pop_request()
    return None


def test_a_transient_error_retries_with_backoff_in_the_messages_fifo_group(
        settings: Settings, store: ConversationStore) -> None:
    sid, conversation = accepted(store)

    retry = run("complete", services(settings, store, FakeCompletions(TransientError("503"))), sid, conversation)

    assert retry is not None and retry.sig is not None
    assert 1.0 <= float(retry.when) <= 2.0  # the first backoff: 2 s with jitter
    assert retry.sig.kwargs["attempt"] == 1
    assert retry.sig.options["queue"] == "complete.fifo"
    assert retry.sig.options["MessageGroupId"] == conversation
    assert retry.sig.options["MessageDeduplicationId"].startswith(f"{sid}-complete-retry-")


def test_the_last_attempt_gives_up_with_the_apology(settings: Settings, store: ConversationStore) -> None:
    sid, conversation = accepted(store)
    fakes = services(settings, store, FakeCompletions(TransientError("503")))

    assert run("complete", fakes, sid, conversation, attempt=task("complete").max_attempts - 1) is None

    message = store.load(sid)
    assert message is not None and message.answer == APOLOGY


def test_a_permanent_error_gives_up_at_once_with_the_apology(settings: Settings, store: ConversationStore) -> None:
    sid, conversation = accepted(store)

    assert run("complete", services(settings, store, FakeCompletions(PermanentError("400"))), sid, conversation) is None

    message = store.load(sid)
    assert message is not None and message.answer == APOLOGY


def test_a_reply_whose_answer_is_not_ready_waits_its_turn_without_spending_an_attempt(
        settings: Settings, store: ConversationStore) -> None:
    sid, conversation = accepted(store)

    retry = run("reply", services(settings, store), sid, conversation, attempt=2)

    assert retry is not None and retry.sig is not None
    assert float(retry.when) == 1.0
    assert retry.sig.kwargs["attempt"] == 2


def test_a_configuration_fault_retries_slowly_without_spending_attempts(
        settings: Settings, store: ConversationStore) -> None:
    sid, conversation = accepted(store)
    assert run("complete", services(settings, store, FakeCompletions("hi there")), sid, conversation) is None
    refused = FakeReplies({1: ConfigurationFault("Twilio refused our credentials (HTTP 401)")})

    retry = run("reply", services(settings, store, replies=refused), sid, conversation, attempt=3)

    assert retry is not None and retry.sig is not None
    assert float(retry.when) == 10.0  # the backoff cap: a third of the 30 s visibility timeout
    assert retry.sig.kwargs["attempt"] == 3
    message = store.load(sid)
    assert message is not None and not message.replied


@pytest.mark.parametrize("limit", [
    RateLimited("Twilio rate limit: HTTP 429 code 63018", 63018, retry_after=4.0),
    SlotUnavailable("all 50 Twilio request slots stayed taken for 2s"),
], ids=["twilio-63018", "no-request-slot"])
def test_a_rate_limit_on_the_last_attempt_waits_it_out_without_spending_the_attempt(
        settings: Settings, store: ConversationStore, limit: Exception) -> None:
    sid, conversation = accepted(store)
    assert run("complete", services(settings, store, FakeCompletions("hi there")), sid, conversation) is None
    last = task("reply").max_attempts - 1

    retry = run("reply", services(settings, store, replies=FakeReplies({1: limit})), sid, conversation, attempt=last)

    assert retry is not None and retry.sig is not None
    assert float(retry.when) == (4.0 if isinstance(limit, RateLimited) else 1.0)  # Retry-After, else a second
    assert retry.sig.kwargs["attempt"] == last  # not given up: a limit is no failure of the message
    message = store.load(sid)
    assert message is not None and not message.replied


def test_the_reply_gives_up_after_its_last_attempt_and_releases_the_turn(
        settings: Settings, store: ConversationStore) -> None:
    sid, conversation = accepted(store)
    assert run("complete", services(settings, store, FakeCompletions("hi there")), sid, conversation) is None
    failing = FakeReplies({1: TransientError("Twilio 503")})

    assert run("reply", services(settings, store, replies=failing), sid, conversation,
               attempt=task("reply").max_attempts - 1) is None

    message = store.load(sid)
    assert message is not None and message.replied and not message.sent_parts


def test_a_lost_record_is_rebuilt_from_twilio_and_the_step_runs_again(
        settings: Settings, store: ConversationStore, twilio: RunningStandin) -> None:
    sid = "SM" + uuid.uuid4().hex
    twilio.client.add_inbound(USER, BOT, "are you there?", sid=sid)  # Twilio's copy; the store has none

    retry = run("intake", services(settings, store, replies=ReplySender.from_settings(settings)), sid, "lost")

    message = store.load(sid)
    assert message is not None and message.inbound.body == "are you there?"
    assert retry is not None and float(retry.when) == 0.0


def test_the_last_delivery_of_a_failed_step_answers_with_the_apology_and_publishes_the_reply(
        settings: Settings, store: ConversationStore) -> None:
    sid, conversation = accepted(store)

    with services_for_tasks(services(settings, store)):
        task("intake").give_up(sid, conversation, chain_goes_on=False)  # SQS at 127.0.0.1:1 refuses: owed

    message = store.load(sid)
    assert message is not None and message.answer == APOLOGY
    assert store.owed_link(sid) is not None and store.owed_link(sid)[0] == "reply"  # type: ignore[index]


def test_a_retry_on_the_last_delivery_is_not_taken_for_a_failure() -> None:
    # Celery reports a task's retry through Request.on_failure: giving up there would send the
    # apology for a message that is about to be answered (seen under a lossy ReceiveMessage).
    assert not is_last_failed_delivery(Retry("turn wait"), receives=7, max_receives=5)
    assert not is_last_failed_delivery(Reject("requeue"), receives=5, max_receives=5)
    assert not is_last_failed_delivery(Ignore(), receives=5, max_receives=5)
    assert is_last_failed_delivery(RuntimeError("bug"), receives=5, max_receives=5)
    assert not is_last_failed_delivery(RuntimeError("bug"), receives=4, max_receives=5)
