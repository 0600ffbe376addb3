"""STOP and START at intake, on the real store: recorded once, confirmed once, and nothing for an opted-out user."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
import redis
from prometheus_client import REGISTRY

from switchboard.domain.conversation import RateLimit, UnknownMessage, run_intake
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.opt_out import apply_opt_out
from switchboard.domain.user_commands import HELP_TEXT, OPT_IN_TEXT, OPT_OUT_TEXT, Command
from switchboard.store import ConversationStore, HistoryLimits, SpendLimits
from tests.switchboard.domain.test_conversation import FakeCompletions, FakeReplies, accept, answer, deliver

Make = Callable[..., InboundMessage]
SMS_USER, SMS_NUMBER = "+15551234567", "+15550000000"


def whatsapp(make_inbound: Make, body: str) -> InboundMessage:
    return make_inbound(body)  # the fixture's sender and recipient are WhatsApp addresses


def sms(make_inbound: Make, body: str, opt_out_type: str = "") -> InboundMessage:
    return dataclasses.replace(make_inbound(body, sender=SMS_USER, recipient=SMS_NUMBER), opt_out_type=opt_out_type)


@dataclasses.dataclass(frozen=True)
class Outcome:
    command: Command
    answer: str
    sent: list[str]
    model_calls: int


def through(store: ConversationStore, message: InboundMessage, rate_limit: RateLimit | None = None) -> Outcome:
    """Intake, the answer and the reply, as the chain runs them (each message after the one before)."""
    command = run_intake(store, accept(store, message), rate_limit)
    completions, replies = FakeCompletions("a model answer"), FakeReplies()
    text = answer(store, message.message_sid, completions)
    deliver(store, message.message_sid, replies)
    return Outcome(command, text, replies.bodies, len(completions.calls))


def intake(store: ConversationStore, message: InboundMessage, rate_limit: RateLimit | None = None) -> Command:
    return through(store, message, rate_limit).command


def opt_changes(channel: str, change: str) -> float:
    return REGISTRY.get_sample_value("switchboard_opt_outs_total", {"channel": channel, "change": change}) or 0.0


def test_a_whatsapp_stop_records_the_opt_out_and_is_confirmed(store: ConversationStore, make_inbound: Make) -> None:
    stop = whatsapp(make_inbound, "STOP")

    outcome = through(store, stop)

    assert outcome == Outcome(Command.OPT_OUT, OPT_OUT_TEXT, [OPT_OUT_TEXT], model_calls=0)
    assert store.is_opted_out(stop.conversation_id)


def test_a_stop_run_twice_is_recorded_and_counted_once(store: ConversationStore, make_inbound: Make) -> None:
    stop = whatsapp(make_inbound, "stop")
    before = opt_changes("whatsapp", "out")

    assert intake(store, stop) is Command.OPT_OUT
    assert run_intake(store, stop.message_sid) is Command.OPT_OUT

    assert opt_changes("whatsapp", "out") == before + 1


def test_a_stop_redelivered_after_its_flag_was_set_still_gets_its_one_confirmation(
        store: ConversationStore, make_inbound: Make) -> None:
    stop = whatsapp(make_inbound, "STOP")
    record = store.load(accept(store, stop))
    assert record is not None
    # The first run set the flag and died before recording intake's result.
    assert apply_opt_out(store, record, Command.OPT_OUT) == (Command.OPT_OUT, True)
    assert store.is_opted_out(stop.conversation_id)

    assert run_intake(store, stop.message_sid) is Command.OPT_OUT  # decided from the record, not the flag


def test_a_second_stop_while_opted_out_gets_nothing(store: ConversationStore, make_inbound: Make) -> None:
    intake(store, whatsapp(make_inbound, "STOP"))
    again = whatsapp(make_inbound, "UNSUBSCRIBE")

    assert through(store, again) == Outcome(Command.OPTED_OUT, "", [], model_calls=0)


def test_while_opted_out_a_message_costs_no_completion_and_sends_nothing(
        redis_client: redis.Redis, key_prefix: str, limits: HistoryLimits, make_inbound: Make) -> None:
    # One completion a day for this sender: an opted-out message that took it would leave none for later.
    store = ConversationStore(redis_client, key_prefix, limits, spend=SpendLimits(sender_per_day=1))
    intake(store, whatsapp(make_inbound, "STOP"))
    ignored = [whatsapp(make_inbound, text) for text in ("hello?", "/help", "/reset")]

    for message in ignored:
        assert through(store, message) == Outcome(Command.OPTED_OUT, "", [], model_calls=0)
        record = store.load(message.message_sid)
        assert record is not None and record.inbound.body == ""  # recorded, without the words

    assert intake(store, whatsapp(make_inbound, "START")) is Command.OPT_IN
    assert intake(store, whatsapp(make_inbound, "a real question")) is Command.CHAT


def test_start_after_stop_clears_the_opt_out_and_welcomes_back(store: ConversationStore, make_inbound: Make) -> None:
    intake(store, whatsapp(make_inbound, "STOP"))
    start = whatsapp(make_inbound, "Start")
    before = opt_changes("whatsapp", "in")

    assert through(store, start) == Outcome(Command.OPT_IN, OPT_IN_TEXT, [OPT_IN_TEXT], model_calls=0)
    assert run_intake(store, start.message_sid) is Command.OPT_IN

    assert not store.is_opted_out(start.conversation_id)
    assert opt_changes("whatsapp", "in") == before + 1
    hello = through(store, whatsapp(make_inbound, "hello again"))
    assert hello == Outcome(Command.CHAT, "a model answer", ["a model answer"], model_calls=1)


def test_start_without_a_stop_is_a_greeting_answered_with_help(store: ConversationStore, make_inbound: Make) -> None:
    start = whatsapp(make_inbound, "START")

    assert through(store, start) == Outcome(Command.HELP, HELP_TEXT, [HELP_TEXT], model_calls=0)


def test_stop_works_for_a_rate_limited_user(store: ConversationStore, make_inbound: Make) -> None:
    one_a_day = RateLimit(messages=1, window_seconds=86_400)
    chats = [intake(store, whatsapp(make_inbound, f"q{n}"), one_a_day) for n in range(3)]
    assert chats == [Command.CHAT, Command.RATE_LIMITED, Command.IGNORED]

    assert intake(store, whatsapp(make_inbound, "STOP"), one_a_day) is Command.OPT_OUT


def test_the_rate_limit_still_counts_messages_sent_while_opted_out(store: ConversationStore, make_inbound: Make) -> None:
    three_a_day = RateLimit(messages=3, window_seconds=86_400)
    intake(store, whatsapp(make_inbound, "STOP"), three_a_day)
    intake(store, whatsapp(make_inbound, "hello?"), three_a_day)
    intake(store, whatsapp(make_inbound, "START"), three_a_day)

    assert intake(store, whatsapp(make_inbound, "fourth message"), three_a_day) is Command.RATE_LIMITED


def test_an_sms_stop_from_twilios_opt_out_handling_is_recorded_and_never_answered(
        store: ConversationStore, make_inbound: Make) -> None:
    stop = sms(make_inbound, "STOP", opt_out_type="STOP")
    before = opt_changes("sms", "out")

    assert through(store, stop) == Outcome(Command.TWILIO_ANSWERED, "", [], model_calls=0)

    assert store.is_opted_out(stop.conversation_id)
    assert opt_changes("sms", "out") == before + 1


def test_an_sms_stop_keyword_without_opt_out_type_is_recorded_too(store: ConversationStore, make_inbound: Make) -> None:
    stop = sms(make_inbound, "quit")

    assert intake(store, stop) is Command.TWILIO_ANSWERED
    assert store.is_opted_out(stop.conversation_id)


def test_while_opted_out_on_sms_nothing_is_answered_and_start_clears_silently(
        store: ConversationStore, make_inbound: Make) -> None:
    intake(store, sms(make_inbound, "STOP", opt_out_type="STOP"))
    question = sms(make_inbound, "are you there?")
    assert through(store, question) == Outcome(Command.OPTED_OUT, "", [], model_calls=0)

    start = sms(make_inbound, "START", opt_out_type="START")
    assert through(store, start) == Outcome(Command.TWILIO_ANSWERED, "", [], model_calls=0)
    assert not store.is_opted_out(start.conversation_id)
    assert intake(store, sms(make_inbound, "hello")) is Command.CHAT


def test_an_sms_help_is_twilios_to_answer_and_changes_nothing(store: ConversationStore, make_inbound: Make) -> None:
    help_ = sms(make_inbound, "HELP", opt_out_type="HELP")

    assert through(store, help_) == Outcome(Command.TWILIO_ANSWERED, "", [], model_calls=0)
    assert not store.is_opted_out(help_.conversation_id)


def test_opting_out_is_per_conversation(store: ConversationStore, make_inbound: Make) -> None:
    intake(store, whatsapp(make_inbound, "STOP"))

    assert intake(store, make_inbound("hello", sender="whatsapp:+15559876543")) is Command.CHAT


@pytest.mark.parametrize("body", ["STOP", "hello"])
def test_a_message_whose_record_is_gone_is_unknown_and_changes_nothing(
        store: ConversationStore, make_inbound: Make, body: str) -> None:
    record = store.load(accept(store, whatsapp(make_inbound, body)))
    assert record is not None
    gone = dataclasses.replace(record, inbound=dataclasses.replace(record.inbound, message_sid="SM" + "0" * 32))

    with pytest.raises(UnknownMessage):
        apply_opt_out(store, gone, Command.OPT_OUT)
    assert not store.is_opted_out(record.conversation)
