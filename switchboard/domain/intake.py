"""Intake: classify a message (chat, command, over a limit, flagged) and record the result once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from switchboard.clients.openai_client import ModerationClient
from switchboard.domain.handoff import is_paused
from switchboard.domain.media import DEFAULT_READABLE
from switchboard.domain.opt_out import apply_opt_out
from switchboard.domain.privacy import forget_sender
from switchboard.domain.turns import UnknownMessage, load
from switchboard.domain.user_commands import Command, classify, forget_text
from switchboard.errors import TransientError
from switchboard.metrics import COMPLETIONS_REFUSED, FORGET_REQUESTS, MODERATION_CHECKS
from switchboard.store import ConversationStore, StoredMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimit:
    messages: int
    window_seconds: int


def run_intake(store: ConversationStore, message_sid: str, rate_limit: RateLimit | None = None,
               moderation: ModerationClient | None = None, *,
               readable: frozenset[str] = DEFAULT_READABLE) -> Command:
    """Classify the message (chat, command, opt-out, over a limit, flagged) and record the result once.

    Every check that guards a paid model call happens here, before the completion step: the
    opt-out state (STOP/START first, so they work for a rate-limited user and an opted-out user
    costs nothing), the sender's rate limit (which counts every message), then the spend budgets
    (charged once per message), then moderation. `readable`: the media content types the bot
    takes (MEDIA_CONTENT_TYPES); a message with only other media gets the polite "I can take …".
    """
    message = load(store, message_sid)
    if message.intake_result is not None:
        return Command(message.intake_result)
    command = classify(message.inbound, readable)
    count = store.count_message_in_window(message.conversation, rate_limit.window_seconds) if rate_limit else 0
    command, settled = apply_opt_out(store, message, command)
    if settled:
        return _settle(store, message, command, drop_body=True)  # a STOP's words are never needed
    if rate_limit is not None:
        if count == rate_limit.messages + 1:
            command = Command.RATE_LIMITED
        elif count > rate_limit.messages + 1:
            command = Command.IGNORED
    if command is Command.FORGET:
        return _forget_on_request(store, message)
    if command is Command.CHAT and not is_paused(store, message.conversation):
        # A paused conversation's messages are kept for a person (issue 14): no budget, no moderation call.
        command = _screen(store, message, moderation)
    return _settle(store, message, command, drop_body=command in _TEXT_NOT_KEPT)


def _settle(store: ConversationStore, message: StoredMessage, command: Command, drop_body: bool) -> Command:
    """Record the result once; the one on record (an earlier or overlapping run's) is the answer."""
    stored = store.settle_intake(message, command.value, drop_body=drop_body)
    if stored is None:
        raise UnknownMessage(f"message {message.inbound.message_sid} is not in the store")
    if store.text_retention_seconds is not None:
        # Each intake sweeps a few texts past MESSAGE_BODY_RETENTION_SECONDS, so busy deployments need no timer.
        store.remove_old_texts(store.text_retention_seconds)
    return Command(stored)


# --- spend, moderation and /forget at intake (issue 9) ------------------------------------------------

# Messages that get no completion because of a limit or a flag keep no text: it is never needed.
_TEXT_NOT_KEPT = frozenset({Command.RATE_LIMITED, Command.IGNORED, Command.OVER_BUDGET, Command.SENDER_CAP,
                            Command.FLAGGED, Command.FORGET})
_REFUSALS = {"sender-cap": Command.SENDER_CAP, "over-budget": Command.OVER_BUDGET, "quiet": Command.IGNORED}


def _screen(store: ConversationStore, message: StoredMessage, moderation: ModerationClient | None) -> Command:
    """A chat message may cost a completion only within the budgets and, when moderation is on, unflagged."""
    decision = store.charge_completion(message)
    if decision == "missing":
        raise UnknownMessage(f"message {message.inbound.message_sid} is not in the store")
    if decision != "granted":
        COMPLETIONS_REFUSED.labels(reason=decision).inc()
        log.warning("intake: no completion for seq %s (%s)", message.seq, decision)
        return _REFUSALS[decision]
    if moderation is None:
        return Command.CHAT
    try:
        flagged = moderation.is_flagged(message.inbound.body)
    except TransientError as exc:
        # Moderation is a screen in front of OpenAI's own safeguards, not the only one: while it is
        # down, answering beats holding every user's message (counted, so an operator sees it).
        MODERATION_CHECKS.labels(outcome="unavailable").inc()
        log.warning("intake: moderation unavailable (%s); answering unchecked", exc)
        return Command.CHAT
    MODERATION_CHECKS.labels(outcome="flagged" if flagged else "passed").inc()
    return Command.FLAGGED if flagged else Command.CHAT


def _forget_on_request(store: ConversationStore, message: StoredMessage) -> Command:
    """/forget: delete first, then record the request (so a redelivery after a crash deletes again)."""
    counts = forget_sender(store, message)
    stored = store.settle_intake(message, Command.FORGET.value, drop_body=True)
    if stored is None:
        raise UnknownMessage(f"message {message.inbound.message_sid} is not in the store")
    if stored == Command.FORGET.value:
        FORGET_REQUESTS.labels(source="user").inc()
        store.record_answer(message, forget_text(counts), turns=[])
    return Command(stored)
