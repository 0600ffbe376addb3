"""Answering: the completion step, and the apology when it cannot be done."""

from __future__ import annotations

import logging

from switchboard.clients.openai_client import CompletionClient
from switchboard.clients.twilio_client import ReplySender
from switchboard.domain.prompt import build_prompt
from switchboard.domain.turns import load, wait_for_turn
from switchboard.domain.user_commands import Command, canned_answer, classify
from switchboard.errors import NotYourTurn
from switchboard.metrics import GAVE_UP
from switchboard.store import ConversationStore, StoredMessage

log = logging.getLogger(__name__)

APOLOGY = "Sorry, I can't answer right now. Please try again in a few minutes."


def produce_answer(
    store: ConversationStore, completions: CompletionClient, system_prompt: str, message_sid: str,
    order_wait_max_seconds: float,
) -> str:
    """Answer the message (OpenAI, or a command's fixed text) after every earlier one is answered.

    Two overlapping runs (a redelivery, a republished chain) make one OpenAI call: the turn is
    leased, and a run that finds the lease held retries shortly and then reuses the stored answer.
    """
    message = load(store, message_sid)
    if message.answer is not None:
        return message.answer
    wait_for_turn(message, store.answered_upto(message.conversation), order_wait_max_seconds)
    with store.lease(message_sid, "answer") as token:
        if token is None:
            log.info("seq %s is being answered by another run; trying again shortly", message.seq)
            raise NotYourTurn(f"seq {message.seq} is being answered by another run")
        message = load(store, message_sid)  # the run that held the lease before us may have answered
        if message.answer is not None:
            return message.answer
        return _answer(store, completions, system_prompt, message)


def _answer(store: ConversationStore, completions: CompletionClient, system_prompt: str,
            message: StoredMessage) -> str:
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
    return load(store, message.inbound.message_sid).answer or answer


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
