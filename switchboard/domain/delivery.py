"""Delivery: send an answer's parts in order, each at most once, after the previous message's reply.

What goes out is decided here: nothing to a user who opted out; on WhatsApp, the configured template
once the 24-hour window has closed (or nothing, when none is configured), and a long answer's parts
one after another as Twilio reports each sent (switchboard/domain/part_order.py).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

from switchboard.clients.twilio_client import ReplySender, SendOutcomeUnknown
from switchboard.clients.twilio_refusals import OUTSIDE_WINDOW, UNSUBSCRIBED
from switchboard.domain.part_order import WindowClosed, wait_until_sent
from switchboard.domain.reply_window import template_variables, window_closed
from switchboard.domain.splitting import split_message
from switchboard.domain.turns import UnknownMessage, load, wait_for_turn
from switchboard.domain.user_commands import Command
from switchboard.errors import ConfigurationFault, NotYourTurn, PermanentError, TransientError
from switchboard.metrics import END_TO_END, GAVE_UP, REPLIES_UNDELIVERED, TEMPLATE_REPLIES
from switchboard.store import ConversationStore, StoredMessage

log = logging.getLogger(__name__)


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
    wait_for_turn(message, store.replied_upto(message.conversation), order_wait_max_seconds)
    with store.lease(message_sid, "reply") as token:
        if token is None:
            log.info("seq %s's reply is being sent by another run; trying again shortly", message.seq)
            raise NotYourTurn(f"seq {message.seq}'s reply is being sent by another run")
        message = load(store, message_sid)  # the run that held the lease before us may have finished
        sent = dict(message.sent_parts)
        if not message.replied:
            _deliver(store, replies, message, token, sent)
            if store.mark_replied(message) and sent:
                END_TO_END.observe(time.time() - message.inbound.received_at)
    return [sent[i] for i in sorted(sent)]


def _deliver(store: ConversationStore, replies: ReplySender, message: StoredMessage, token: str,
             sent: dict[int, str]) -> None:
    """Send what is due, adding each SID to `sent`: nothing (opted out), the template, or the answer's parts."""
    parts = split_message(message.answer or "")
    if not parts:
        return  # a command answered with silence, or a message its burst's last one answers
    sid = message.inbound.message_sid
    # The confirmation of STOP itself still goes out: intake records the opt-out before it is sent.
    if message.intake_result != Command.OPT_OUT.value and store.is_opted_out(message.conversation):
        log.info("seq %s not sent: the user opted out", message.seq)
        _undelivered(store, message, "opted-out")
        return
    whatsapp = message.inbound.channel == "whatsapp"
    closed_by_clock = whatsapp and window_closed(store.last_inbound_at(message.conversation), time.time())
    template_at = store.outside_window(sid)
    if template_at is None and closed_by_clock:
        template_at = store.mark_outside_window(sid, _next_index(sent), _next_index(sent))
    if template_at is not None:
        _send_template(store, replies, message, token, sent, parts, template_at, closed_by_clock)
        return
    try:
        _send_parts(store, replies, message, token, sent, parts, in_order=whatsapp)
    except WindowClosed as closed:  # reported after Twilio accepted it: that part never arrived
        template_at = store.mark_outside_window(sid, _next_index(sent), closed.index)
    except PermanentError as exc:
        if exc.code == OUTSIDE_WINDOW and whatsapp:
            template_at = store.mark_outside_window(sid, _next_index(sent), _next_index(sent))
        elif exc.code == UNSUBSCRIBED:
            _unsubscribed(store, message)
        else:
            log.warning("reply for seq %s not delivered: %s", message.seq, exc)
    if template_at is not None:
        _send_template(store, replies, message, token, sent, parts, template_at, closed_by_clock)


def _send_parts(store: ConversationStore, replies: ReplySender, message: StoredMessage, token: str,
                sent: dict[int, str], parts: list[str], in_order: bool) -> None:
    """Send each part not sent yet; with `in_order`, each after Twilio reports the one before it sent."""
    inbound = message.inbound
    for index, part in enumerate(parts):
        if index in sent:
            continue
        if in_order and index - 1 in sent:
            wait_until_sent(store, replies, message, index - 1, sent[index - 1])
        sent[index] = _send_once(store, replies, message, token, index, part,
                                 functools.partial(replies.send, inbound.sender, inbound.recipient, part))


def _send_template(store: ConversationStore, replies: ReplySender, message: StoredMessage, token: str,
                   sent: dict[int, str], parts: list[str], template_at: tuple[int, int], closed_by_clock: bool) -> None:
    """The 24-hour window has closed: send the template with the answer not yet delivered, once, or nothing.

    `template_at` is (the index it is claimed as, the first part it carries), fixed on the message's
    record when the window was found closed, so every later run claims the same one.
    """
    template = replies.template
    if template is None:
        log.warning("seq %s not sent: WhatsApp's 24-hour window has closed and no WHATSAPP_TEMPLATE_CONTENT_SID "
                    "is set", message.seq)
        _undelivered(store, message, "outside-window")
        return
    index, first_part = template_at
    inbound = message.inbound
    variables = template_variables(template.variables, " ".join(parts[first_part:]), inbound.profile_name)
    try:
        sent[index] = _send_once(
            store, replies, message, token, index, None,
            lambda: replies.send_template(inbound.sender, inbound.recipient, template.content_sid, variables))
    except PermanentError as exc:
        if exc.code == UNSUBSCRIBED:
            _unsubscribed(store, message)
            return
        log.error("the WhatsApp template was refused for seq %s: %s", message.seq, exc)
        _undelivered(store, message, f"template-refused:{exc.code}")
        return
    log.info("seq %s went out as the WhatsApp template (the 24-hour window has closed)", message.seq)
    TEMPLATE_REPLIES.labels(cause="window" if closed_by_clock else "63016").inc()


def _send_once(store: ConversationStore, replies: ReplySender, message: StoredMessage, token: str, index: int,
               body: str | None, send: Callable[[], str]) -> str:
    """Claim item `index` (a part, or the template in its place) under the lease and `send` it, at most once.

    Returns its SID. A PermanentError (Twilio refused it: nothing was sent) is raised with the claim released.
    """
    claim = store.claim_part(message, index, token)
    if claim.outcome == "sent" and claim.sid is not None:
        return claim.sid
    if claim.outcome == "lost":
        raise NotYourTurn(f"seq {message.seq} lost its reply lease to another run")
    if claim.outcome == "gone":
        raise UnknownMessage(f"message {message.inbound.message_sid} is not in the store")
    if claim.outcome == "reclaimed" and claim.claimed_at is not None:
        found = _find_in_twilio_log(store, replies, message, body, claim.claimed_at)
        if found is not None:
            log.warning("part %s of seq %s was accepted by an earlier run (%s); not sending it again",
                        index, message.seq, found)
            store.record_part_sent(message, index, found)
            return found
    try:
        sid = send()
    except SendOutcomeUnknown:
        raise  # the claim stays: the next run looks for this part in Twilio's log before sending it
    except (ConfigurationFault, PermanentError, TransientError):
        # Twilio answered with a refusal (or refused our credentials): nothing was sent.
        store.unclaim_part(message, index, token)
        raise
    store.record_part_sent(message, index, sid)
    return sid


def _find_in_twilio_log(store: ConversationStore, replies: ReplySender, message: StoredMessage, body: str | None,
                        claimed_at: float) -> str | None:
    """An earlier run claimed this part and left no SID: Twilio may have accepted it (a timed-out create)."""
    inbound = message.inbound
    for sid in replies.find_sent(to=inbound.sender, from_=inbound.recipient, body=body, since=claimed_at):
        if not store.delivery(sid):  # not a part we recorded for another message
            return sid
    return None


def _next_index(sent: dict[int, str]) -> int:
    return max(sent, default=-1) + 1


def _unsubscribed(store: ConversationStore, message: StoredMessage) -> None:
    """Twilio answered 21610: the user opted out (STOP on SMS). Expected, so recorded, and no apology or retry."""
    store.set_opted_out(message.conversation, True)
    log.info("seq %s not sent: Twilio says the user unsubscribed (21610); recorded as an opt-out", message.seq)
    _undelivered(store, message, "opted-out")


def _undelivered(store: ConversationStore, message: StoredMessage, reason: str) -> None:
    store.mark_undelivered(message.inbound.message_sid, reason)
    REPLIES_UNDELIVERED.labels(reason=reason.split(":", 1)[0]).inc()


def finish_reply_undelivered(store: ConversationStore, message_sid: str) -> None:
    """Retries ran out: give up on this reply so the conversation's later replies can go out."""
    message = store.load(message_sid)
    if message is not None and store.mark_replied(message):
        store.mark_reply_given_up(message_sid)  # so a `dlq redrive` knows to try the reply again
        GAVE_UP.labels(stage="reply").inc()
