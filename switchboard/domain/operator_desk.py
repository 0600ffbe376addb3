"""The operator's side of a hand-off (issue 14): the inbox of paused conversations, `say`, and `resume`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from switchboard.clients.twilio_client import ReplySender
from switchboard.domain.handoff import kept_text
from switchboard.domain.reply_window import WINDOW_SECONDS, window_closed
from switchboard.domain.splitting import split_message
from switchboard.store import ConversationStore, Pause, StoredMessage

log = logging.getLogger(__name__)

# How the operator's words sit in the history: the bot, once back, knows a person said them, not itself.
OPERATOR_TURN_PREFIX = "[A person from our team wrote:] "


class CannotSay(Exception):
    """The operator's request cannot be done; the message says why, in words for the terminal."""


class UnknownConversation(CannotSay):
    pass


class NotPaused(CannotSay):
    pass


class OutsideWindow(CannotSay):
    pass


@dataclass(frozen=True)
class InboxEntry:
    """A paused conversation as the operator sees it: the pause, whom it is with, and what was kept."""

    pause: Pause
    sender: str | None  # the user's address (From), None when no message of theirs is stored any more
    kept: list[StoredMessage]


def inbox(store: ConversationStore, now: float | None = None) -> list[InboxEntry]:
    """Every pause still on, soonest end first, with the messages kept for the operator since it began."""
    entries = []
    for conversation, _ in store.paused_conversations(now):
        pause = store.pause_of(conversation, now)
        if pause is None:
            continue  # ended between the two reads
        kept = [found for sid in store.kept_since(conversation, pause.from_seq)
                if (found := store.load(sid)) is not None]
        address = _address(store, pause)
        entries.append(InboxEntry(pause, address[0] if address else None, kept))
    return entries


def kept_texts(entry: InboxEntry) -> list[str]:
    return [kept_text(message) for message in entry.kept]


def operator_reply(store: ConversationStore, replies: ReplySender, conversation: str, text: str,
                   now: float | None = None) -> list[str]:
    """Send the operator's `text` to the user as the bot's number; returns the parts' SIDs.

    Only while the conversation is paused, never to a user who opted out, and on WhatsApp only inside
    the 24-hour window (SMS has none). What was sent joins the history as an assistant turn, so the
    bot knows it once the pause ends.
    """
    now = time.time() if now is None else now
    pause = _pause(store, conversation, now)
    parts = split_message(text)
    if not parts:
        raise CannotSay("nothing to say: the text is empty")
    if store.is_opted_out(conversation):
        raise CannotSay("the user opted out (STOP): nothing may be sent to them until they send START")
    address = _address(store, pause)
    if address is None:
        raise CannotSay("no message of the user's is stored any more, so their address is unknown")
    sender, recipient = address
    last_inbound = store.last_inbound_at(conversation)
    if sender.startswith("whatsapp:") and window_closed(last_inbound, now):
        closed = "" if last_inbound is None else f" (it closed {(now - last_inbound - WINDOW_SECONDS) / 3600:.1f} h ago)"
        raise OutsideWindow("outside WhatsApp's 24-hour window: the user last wrote more than a day ago"
                            f"{closed}; a free-form message would be refused")
    sent: list[str] = []
    try:
        for part in parts:
            sent.append(replies.send(to=sender, from_=recipient, body=part))
    finally:
        if sent:  # what reached Twilio is what the user reads, even when a later part failed
            store.record_operator_turn(conversation, OPERATOR_TURN_PREFIX + "\n\n".join(parts[: len(sent)]), now)
            log.info("the operator answered a paused conversation (%s part(s))", len(sent))
    return sent


def resume(store: ConversationStore, conversation: str, now: float | None = None) -> Pause:
    """Hand the conversation back to the bot; returns the pause that ended."""
    pause = _pause(store, conversation, time.time() if now is None else now)
    store.end_pause(conversation)
    log.info("the operator handed a conversation back to the bot")
    return pause


def _pause(store: ConversationStore, conversation: str, now: float) -> Pause:
    pause = store.pause_of(conversation, now)
    if pause is not None:
        return pause
    if store.last_seq(conversation) == 0:
        raise UnknownConversation(f"no conversation {conversation} is stored (a typo, or it was forgotten)")
    raise NotPaused(f"conversation {conversation} is not paused: the bot is answering it")


def _address(store: ConversationStore, pause: Pause) -> tuple[str, str] | None:
    """(the user's From, our To) from their latest stored message, else from the one that asked for a person."""
    latest = store.sid_at(pause.conversation, store.last_seq(pause.conversation))
    for sid in (latest, pause.asked_by):
        found = store.contact(sid) if sid else None
        if found is not None:
            return found
    return None
