"""The summary task in-process with fakes: its queue and FIFO options, when it is published, what failures become."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from celery.exceptions import Retry
from kombu.exceptions import OperationalError

from localdev.redis_server import redis_url_for_tests
from switchboard.domain.inbound import InboundMessage
from switchboard.errors import PermanentError, TransientError
from switchboard.services import Services, build_store
from switchboard.settings import Settings, get_settings
from switchboard.store import ConversationStore
from tests.switchboard.domain.test_conversation import FakeCompletions, FakeReplies

REQUIRED = {"TWILIO_ACCOUNT_SID": "AC" + "b" * 32, "TWILIO_AUTH_TOKEN": "a1b2c3d4" * 4, "OPENAI_API_KEY": "sk-test",
            "CONVERSATION_ID_SECRET": "k" * 32, "SQS_ENDPOINT_URL": "http://127.0.0.1:1",
            "REDIS_URL": redis_url_for_tests(), "HISTORY_MAX_TURNS": "2"}


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for name in Settings.model_fields:  # the outer shell's environment must not leak in
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in {**REQUIRED, "REDIS_KEY_PREFIX": f"sbsummary-{uuid.uuid4().hex[:8]}:"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield get_settings()
    client = redis.Redis.from_url(REQUIRED["REDIS_URL"])
    keys = list(client.scan_iter(match=get_settings().redis_key_prefix + "*"))
    if keys:
        client.delete(*keys)
    get_settings.cache_clear()


@pytest.fixture
def store(settings: Settings) -> ConversationStore:
    return build_store(settings)


def services(settings: Settings, store: ConversationStore, *outcomes: str | Exception) -> Services:
    return Services(settings=settings, store=store, completions=FakeCompletions(*outcomes),  # type: ignore[arg-type]
                    replies=FakeReplies())  # type: ignore[arg-type]


def overflowing(store: ConversationStore) -> str:
    """A conversation whose first exchange no longer fits HISTORY_MAX_TURNS=2: it waits to be folded."""
    for question in ("first", "second"):
        message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, account_sid="AC" + "0" * 32,
                                 sender="whatsapp:+15557654321", recipient="whatsapp:+14155238886", body=question,
                                 user_id="whatsapp:+15557654321", received_at=time.time())
        assert store.accept(message) is not None
        stored = store.load(message.message_sid)
        assert stored is not None
        store.record_answer(stored, f"re: {question}", [{"role": "user", "content": question},
                                                        {"role": "assistant", "content": f"re: {question}"}])
    assert store.fold_due(stored.conversation) is not None
    return stored.conversation


def summary_task():  # type: ignore[no-untyped-def]
    """The app's task object, looked up once the settings are in place (binding it reads celeryconfig)."""
    from tasks.celery import app
    from tasks.summaries import SUMMARIZE

    return app.tasks[SUMMARIZE]


def test_it_runs_on_the_complete_queue_in_a_fifo_group_of_its_own_per_fold(settings: Settings) -> None:
    from tasks.summaries import summary_options

    options = summary_options("c0ffee", "fold-abc123", settings)

    assert options == {"queue": "complete.fifo", "MessageGroupId": "c0ffee:summary",
                       "MessageDeduplicationId": "c0ffee:summary-fold-abc123"}
    assert summary_options("c0ffee", "x", settings.model_copy(update={"sqs_fifo": False})) == {"queue": "complete"}


def test_answers_that_find_the_same_fold_due_publish_it_under_one_deduplication_id(settings: Settings, store: ConversationStore) -> None:
    from tasks.summaries import fold_if_due

    published: list[tuple[str, str]] = []
    conversation = overflowing(store)

    for _ in range(2):  # two answers before the fold ran: the same deduplication id, so SQS keeps one
        fold_if_due(services(settings, store), conversation, lambda c, step, _: published.append((c, step)))

    generation = store.fold_due(conversation)
    assert published == [(conversation, f"fold-{generation}")] * 2


def test_nothing_is_published_when_nothing_waits_or_summaries_are_off(
    settings: Settings, store: ConversationStore
) -> None:
    from tasks.summaries import fold_if_due

    published: list[str] = []
    fold_if_due(services(settings, store), "no-such-conversation", lambda c, step, _: published.append(step))
    off = settings.model_copy(update={"history_summary": False})
    fold_if_due(services(off, store), overflowing(store), lambda c, step, _: published.append(step))

    assert published == []


def test_a_publish_sqs_refuses_postpones_the_fold_without_failing_the_answer(
    settings: Settings, store: ConversationStore
) -> None:
    from tasks.summaries import fold_if_due

    def refused(conversation: str, step: str, _: Settings) -> None:
        raise OperationalError("SQS is unreachable")

    conversation = overflowing(store)
    fold_if_due(services(settings, store), conversation, refused)

    assert store.fold_due(conversation) is not None  # still waiting: the next answer publishes it


def test_a_transient_failure_is_retried_and_the_last_attempt_drops_the_turns(
    settings: Settings, store: ConversationStore
) -> None:
    from tasks.summaries import MAX_ATTEMPTS

    conversation = overflowing(store)

    with pytest.raises(Retry):
        summary_task().fold(services(settings, store, TransientError("503")), conversation, 0)
    assert store.fold_due(conversation) is not None
    summary_task().fold(services(settings, store, TransientError("503")), conversation, MAX_ATTEMPTS - 1)
    assert store.fold_due(conversation) is None
    assert store.summary(conversation) == ""


def test_a_permanent_failure_keeps_the_old_summary_and_drops_the_turns(
    settings: Settings, store: ConversationStore
) -> None:
    conversation = overflowing(store)

    summary_task().fold(services(settings, store, PermanentError("refused")), conversation, 0)

    assert store.fold_due(conversation) is None


def test_a_fold_leased_by_another_run_is_looked_at_again_and_then_left_to_it(
    settings: Settings, store: ConversationStore
) -> None:
    from tasks.summaries import MAX_ATTEMPTS

    conversation = overflowing(store)
    with store.lease(conversation, "summary"):
        with pytest.raises(Retry):
            summary_task().fold(services(settings, store), conversation, 0)
        summary_task().fold(services(settings, store), conversation, MAX_ATTEMPTS - 1)

    assert store.fold_due(conversation) is not None  # not dropped: the run holding the lease folds it


def test_a_fold_stores_the_models_summary(settings: Settings, store: ConversationStore) -> None:
    conversation = overflowing(store)

    summary_task().fold(services(settings, store, "They said first."), conversation, 0)

    assert store.summary(conversation) == "They said first."
    assert store.fold_due(conversation) is None
