"""The three steps of answering one message, as plain functions over the store and the clients.

Each step is safe to run twice and in any interleaving: it checks what was already done (in Redis)
before acting, and records what it did. Order within a conversation is kept by sequence numbers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from switchboard.clients.openai_client import CompletionClient, ModerationClient
from switchboard.clients.twilio_client import ReplySender, SendOutcomeUnknown
from switchboard.domain.privacy import forget_sender
from switchboard.domain.prompt import build_prompt
from switchboard.domain.splitting import split_message
from switchboard.domain.user_commands import Command, canned_answer, classify, forget_text
from switchboard.errors import ConfigurationFault, NotYourTurn, PermanentError, TransientError
from switchboard.metrics import COMPLETIONS_REFUSED, END_TO_END, FORGET_REQUESTS, GAVE_UP, MODERATION_CHECKS
from switchboard.store import ConversationStore, StoredMessage

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


def run_intake(store: ConversationStore, message_sid: str, rate_limit: RateLimit | None = None,
               moderation: ModerationClient | None = None) -> Command:
    """Classify the message (chat, command, over a limit, flagged) and record the result once.

    Every check that guards a paid model call happens here, before the completion step: the
    sender's rate limit, then the spend budgets (charged once per message), then moderation.
    """
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
    if command is Command.FORGET:
        return _forget_on_request(store, message)
    if command is Command.CHAT:
        command = _screen(store, message, moderation)
    stored = store.settle_intake(message, command.value, drop_body=command in _TEXT_NOT_KEPT)
    if stored is None:
        raise UnknownMessage(f"message {message_sid} is not in the store")
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
    _wait_for_turn(message, store.answered_upto(message.conversation), order_wait_max_seconds)
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


def deliver_reply(store: ConversationStore, replies: ReplySender, message_sid: str,
                  order_wait_max_seconds: float) -> list[str]:
    """Send the answer's parts in order, each at most once, after the previous message's reply.

    Overlapping runs never send the same part: the reply is leased (a run that finds the lease held
    retries shortly), and each part is claimed under that lease before it is sent.
    """
    message = load(store, message_sid)
    if message.replied:
        return [message.sent_parts[i] for i in sorted(message.sent_parts)]
    if message.answer is None:
        raise NotYourTurn(f"seq {message.seq} has no answer yet")
    _wait_for_turn(message, store.replied_upto(message.conversation), order_wait_max_seconds)
    with store.lease(message_sid, "reply") as token:
        if token is None:
            log.info("seq %s's reply is being sent by another run; trying again shortly", message.seq)
            raise NotYourTurn(f"seq {message.seq}'s reply is being sent by another run")
        message = load(store, message_sid)  # the run that held the lease before us may have finished
        sent = dict(message.sent_parts)
        if not message.replied:
            _send_parts(store, replies, message, token, sent)
            if store.mark_replied(message) and sent:
                END_TO_END.observe(time.time() - message.inbound.received_at)
    return [sent[i] for i in sorted(sent)]


def _send_parts(store: ConversationStore, replies: ReplySender, message: StoredMessage, token: str,
                sent: dict[int, str]) -> None:
    """Send each part not sent yet, adding its SID to `sent`; stops at a part Twilio refuses for good."""
    inbound = message.inbound
    for index, part in enumerate(split_message(message.answer or "")):
        claim = store.claim_part(message, index, token)
        if claim.outcome == "sent" and claim.sid is not None:
            sent[index] = claim.sid
            continue
        if claim.outcome == "lost":
            raise NotYourTurn(f"seq {message.seq} lost its reply lease to another run")
        if claim.outcome == "gone":
            raise UnknownMessage(f"message {inbound.message_sid} is not in the store")
        if claim.outcome == "reclaimed" and claim.claimed_at is not None:
            found = _find_in_twilio_log(store, replies, message, part, claim.claimed_at)
            if found is not None:
                log.warning("part %s of seq %s was accepted by an earlier run (%s); not sending it again",
                            index, message.seq, found)
                store.record_part_sent(message, index, found)
                sent[index] = found
                continue
        try:
            sid = replies.send(to=inbound.sender, from_=inbound.recipient, body=part)
        except SendOutcomeUnknown:
            raise  # the claim stays: the next run looks for this part in Twilio's log before sending it
        except ConfigurationFault:
            store.unclaim_part(message, index, token)  # our credentials were refused: nothing was sent
            raise
        except (PermanentError, TransientError) as exc:
            store.unclaim_part(message, index, token)  # Twilio answered with a refusal: nothing was sent
            if isinstance(exc, TransientError):
                raise
            log.warning("reply for seq %s not delivered: %s", message.seq, exc)
            return
        store.record_part_sent(message, index, sid)
        sent[index] = sid


def _find_in_twilio_log(store: ConversationStore, replies: ReplySender, message: StoredMessage, body: str,
                        claimed_at: float) -> str | None:
    """An earlier run claimed this part and left no SID: Twilio may have accepted it (a timed-out create)."""
    inbound = message.inbound
    for sid in replies.find_sent(to=inbound.sender, from_=inbound.recipient, body=body, since=claimed_at):
        if not store.delivery(sid):  # not a part we recorded for another message
            return sid
    return None


def finish_reply_undelivered(store: ConversationStore, message_sid: str) -> None:
    """Retries ran out: give up on this reply so the conversation's later replies can go out."""
    message = store.load(message_sid)
    if message is not None and store.mark_replied(message):
        store.mark_reply_given_up(message_sid)  # so a `dlq redrive` knows to try the reply again
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
