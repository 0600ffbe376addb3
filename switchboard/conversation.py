"""The three steps of answering one message, as plain functions over the store and the clients.

Each step is safe to run twice and in any interleaving: it checks what was already done (in Redis)
before acting, and records what it did. Order within a conversation is kept by sequence numbers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from switchboard.commands import Command, canned_answer, classify
from switchboard.errors import NotYourTurn, PermanentError
from switchboard.metrics import END_TO_END, GAVE_UP
from switchboard.openai_client import CompletionClient
from switchboard.prompt import build_prompt
from switchboard.splitting import split_message
from switchboard.store import ConversationStore, StoredMessage
from switchboard.twilio_client import ReplySender

log = logging.getLogger(__name__)

APOLOGY = "Sorry, I can't answer right now. Please try again in a few minutes."


class UnknownMessage(PermanentError):
    """The message is not in Redis (expired, or never accepted): nothing can be done with it."""


def load(store: ConversationStore, message_sid: str) -> StoredMessage:
    message = store.load(message_sid)
    if message is None:
        raise UnknownMessage(f"message {message_sid} is not in the store")
    return message


@dataclass(frozen=True)
class RateLimit:
    messages: int
    window_seconds: int


def run_intake(store: ConversationStore, message_sid: str, rate_limit: RateLimit | None = None) -> Command:
    """Classify the message (chat, command, or over the sender's rate limit) and record the result once."""
    message = load(store, message_sid)
    if message.intake_result is not None:
        return Command(message.intake_result)
    command = classify(message.inbound.body, message.inbound.num_media)
    if rate_limit is not None:
        count = store.count_message_in_window(message.conversation, rate_limit.window_seconds)
        if count == rate_limit.messages + 1:
            command = Command.RATE_LIMITED
        elif count > rate_limit.messages + 1:
            command = Command.IGNORED
    store.record_intake(message_sid, command.value)
    return command


def produce_answer(
    store: ConversationStore, completions: CompletionClient, system_prompt: str, message_sid: str,
    order_wait_max_seconds: float,
) -> str:
    """Answer the message (OpenAI, or a command's fixed text) after every earlier one is answered."""
    message = load(store, message_sid)
    if message.answer is not None:
        return message.answer
    _wait_for_turn(message, store.answered_upto(message.conversation), order_wait_max_seconds)
    command = Command(message.intake_result or classify(message.inbound.body, message.inbound.num_media).value)
    fixed = canned_answer(command)
    if command is Command.RESET:
        store.clear_history(message.conversation)
    if fixed is not None:
        store.record_answer(message, fixed, turns=[])
        return fixed
    prompt = build_prompt(
        system_prompt, store.history(message.conversation), message.inbound.body, store.limits.max_chars
    )
    answer = completions.complete(prompt)
    turns = [{"role": "user", "content": message.inbound.body}, {"role": "assistant", "content": answer}]
    if not store.record_answer(message, answer, turns):
        log.info("answer for seq %s was stored by another run; keeping that one", message.seq)
    return load(store, message_sid).answer or answer


def answer_with_apology(store: ConversationStore, message_sid: str) -> None:
    """When every attempt failed, the user still hears from us, and later messages are not held up."""
    message = store.load(message_sid)
    if message is not None and message.answer is None and store.record_answer(message, APOLOGY, turns=[]):
        GAVE_UP.labels(stage="complete").inc()


def apologise_directly(store: ConversationStore, replies: ReplySender, message_sid: str) -> bool:
    """Last resort when the message's own record cannot be read: send the apology to its sender, once."""
    contact = store.contact(message_sid)
    if contact is None or not store.claim_direct_apology(message_sid):
        return False
    sender, recipient = contact
    replies.send(to=sender, from_=recipient, body=APOLOGY)
    GAVE_UP.labels(stage="complete").inc()
    return True


def deliver_reply(store: ConversationStore, replies: ReplySender, message_sid: str,
                  order_wait_max_seconds: float) -> list[str]:
    """Send the answer's parts in order, each at most once, after the previous message's reply."""
    message = load(store, message_sid)
    if message.replied:
        return [message.sent_parts[i] for i in sorted(message.sent_parts)]
    if message.answer is None:
        raise NotYourTurn(f"seq {message.seq} has no answer yet")
    _wait_for_turn(message, store.replied_upto(message.conversation), order_wait_max_seconds)
    sent = dict(message.sent_parts)
    inbound = message.inbound
    for index, part in enumerate(split_message(message.answer)):
        if index in sent:
            continue
        try:
            sent[index] = replies.send(to=inbound.sender, from_=inbound.recipient, body=part)
        except PermanentError as exc:
            log.warning("reply for seq %s not delivered: %s", message.seq, exc)
            break
        store.record_part_sent(message, index, sent[index])
    if store.mark_replied(message) and sent:
        END_TO_END.observe(time.time() - inbound.received_at)
    return [sent[i] for i in sorted(sent)]


def finish_reply_undelivered(store: ConversationStore, message_sid: str) -> None:
    """Retries ran out: give up on this reply so the conversation's later replies can go out."""
    message = store.load(message_sid)
    if message is not None and store.mark_replied(message):
        GAVE_UP.labels(stage="reply").inc()


def _wait_for_turn(message: StoredMessage, done_upto: int, order_wait_max_seconds: float) -> None:
    if done_upto >= message.seq - 1:
        return
    waited = time.time() - message.inbound.received_at
    if waited > order_wait_max_seconds:
        # An earlier message is stuck; answering out of order beats not answering at all.
        log.warning("seq %s gave up waiting for seq %s after %.0fs", message.seq, done_upto + 1, waited)
        return
    raise NotYourTurn(f"seq {message.seq} waits for seq {done_upto + 1}")
