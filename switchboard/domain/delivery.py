"""Delivery: send an answer's parts in order, each at most once, after the previous message's reply."""

from __future__ import annotations

import logging
import time

from switchboard.clients.twilio_client import ReplySender, SendOutcomeUnknown
from switchboard.domain.splitting import split_message
from switchboard.domain.turns import UnknownMessage, load, wait_for_turn
from switchboard.errors import ConfigurationFault, NotYourTurn, PermanentError, TransientError
from switchboard.metrics import END_TO_END, GAVE_UP
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
