"""Hand-off to a person (issue 14): pausing a conversation, keeping its messages for the operator, telling them.

A conversation is paused by the user (/human and its words, user_commands.HAND_OFF_WORDS) or by the
model (the built-in tool hand_off_to_person, switchboard/domain/handoff_tool.py). While paused, the completion step calls no model: each
message is kept for the operator (its turn joins the history, its answer is "" so its reply sends
nothing). The operator is told once per pause through HANDOFF_WEBHOOK_URL, answers with `switchboard
say` and hands back with `switchboard resume` (switchboard/domain/operator_desk.py); the user can hand
back with /bot, and a pause ends by itself after HANDOFF_PAUSE_SECONDS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from switchboard.clients.handoff_webhook import HandoffNotice, HandoffWebhook
from switchboard.domain.message_context import describe
from switchboard.domain.turns import UnknownMessage, load
from switchboard.domain.user_commands import BACK_TO_BOT_TEXT, HAND_OFF_TEXT, Command
from switchboard.errors import PermanentError, TransientError
from switchboard.metrics import HANDOFF_NOTICES, HANDOFFS, KEPT_FOR_OPERATOR
from switchboard.settings import Settings
from switchboard.store import ConversationStore, StoredMessage

log = logging.getLogger(__name__)

DEFAULT_PAUSE_SECONDS = 4 * 3600  # HANDOFF_PAUSE_SECONDS' default
RECENT_MESSAGES = 5  # the user's last messages in the operator's notice
COMMAND_REASON = "the user asked for a person"
# While paused these are kept for the operator (the limits' and refusals' notices are the bot talking);
# the user's own commands (/help, /reset, STOP, /bot, ...) are still answered.
KEPT_WHILE_PAUSED = frozenset({Command.CHAT, Command.UNSUPPORTED_MEDIA, Command.MEDIA_ONLY, Command.RATE_LIMITED,
                               Command.IGNORED, Command.OVER_BUDGET, Command.SENDER_CAP, Command.FLAGGED})
# Intake dropped the text of these (switchboard/domain/intake.py), so the operator is told why there is none.
_TEXT_DROPPED = frozenset({Command.RATE_LIMITED, Command.IGNORED, Command.OVER_BUDGET, Command.SENDER_CAP,
                           Command.FLAGGED})


class OperatorNotifier(Protocol):
    def notify(self, notice: HandoffNotice) -> None: ...


@dataclass(frozen=True)
class HandoffPolicy:
    """How long a pause lasts and how the operator is told (None: only `switchboard inbox` shows it)."""

    pause_seconds: int = DEFAULT_PAUSE_SECONDS
    notifier: OperatorNotifier | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> HandoffPolicy:
        return cls(settings.handoff_pause_seconds, HandoffWebhook.from_settings(settings))


def is_paused(store: ConversationStore, conversation: str, now: float | None = None) -> bool:
    return store.pause_of(conversation, now) is not None


def is_kept_for_operator(store: ConversationStore, message_sid: str) -> bool:
    """The message was kept for the operator (no model call): the complete task reports "paused"."""
    return store.kept_at(message_sid) is not None


def answer_while_handed_off(store: ConversationStore, burst: Sequence[StoredMessage], command: Command,
                            policy: HandoffPolicy, now: float | None = None) -> str | None:
    """The completion step's answer when hand-off decides it: /human, /bot, or a message kept while paused.

    None: answer as usual (the conversation is not paused, or the message is a command still answered).
    """
    message = burst[-1]
    if command is Command.HAND_OFF:
        return handle_hand_off_command(store, message, policy)
    if command is Command.BACK_TO_BOT:
        return handle_back_to_bot_command(store, message)
    if command in KEPT_WHILE_PAUSED and is_paused(store, message.conversation, now):
        return keep_for_operator(store, message, earlier=burst[:-1])
    return None


def handle_hand_off_command(store: ConversationStore, message: StoredMessage, policy: HandoffPolicy) -> str:
    """/human: pause (the operator told once), then the fixed answer, recorded once."""
    pause(store, message, COMMAND_REASON, policy, source="command")
    store.record_answer(message, HAND_OFF_TEXT, turns=[])
    return load(store, message.inbound.message_sid).answer or HAND_OFF_TEXT


def handle_back_to_bot_command(store: ConversationStore, message: StoredMessage) -> str:
    """/bot: the user ends the pause themselves (nothing to end is fine: the bot is back either way)."""
    if store.end_pause(message.conversation):
        log.info("seq %s: the user handed the conversation back to the bot", message.seq)
    store.record_answer(message, BACK_TO_BOT_TEXT, turns=[])
    return load(store, message.inbound.message_sid).answer or BACK_TO_BOT_TEXT


def pause(store: ConversationStore, message: StoredMessage, reason: str, policy: HandoffPolicy, *,
          source: str, now: float | None = None) -> str:
    """Pause the message's conversation for a person, then tell the operator once; returns the decision.

    Idempotent: decided once per message ('paused': it started the pause, 'joined': one was on), so a
    redelivery neither pauses again after a resume nor extends the pause. The notice is sent until it
    succeeded once per pause: a TransientError from it propagates (the step retries, the pause stands).
    """
    decision, first = store.pause_conversation(message, policy.pause_seconds, source, reason, now)
    if decision == "missing":
        raise UnknownMessage(f"message {message.inbound.message_sid} is not in the store")
    if first and decision == "paused":
        HANDOFFS.labels(source=source).inc()
        log.info("seq %s paused the conversation for a person (%s)", message.seq, source)
    _tell_operator(store, message, policy)
    return decision


def _tell_operator(store: ConversationStore, message: StoredMessage, policy: HandoffPolicy) -> None:
    current = store.pause_of(message.conversation)
    if policy.notifier is None or current is None or current.notified is not None:
        return
    inbound = message.inbound
    recent = [turn["content"] for turn in store.history(message.conversation) if turn.get("role") == "user"]
    notice = HandoffNotice(
        conversation=message.conversation, user_id=inbound.user_id, sender=inbound.sender,
        bot_number=inbound.recipient, channel=inbound.channel, source=current.source, reason=current.reason,
        message_sid=current.asked_by, paused_at=current.since, pause_ends_at=current.until,
        recent_messages=[*recent, kept_text(message)][-RECENT_MESSAGES:])
    try:
        policy.notifier.notify(notice)
    except TransientError:
        HANDOFF_NOTICES.labels(outcome="failed").inc()
        raise
    except PermanentError as exc:
        HANDOFF_NOTICES.labels(outcome="refused").inc()
        log.error("the hand-off notice for seq %s was refused (%s); the pause stands, `switchboard inbox` shows it",
                  message.seq, exc)
        store.claim_operator_notice(message.conversation, f"refused:{exc.code}")
        return
    HANDOFF_NOTICES.labels(outcome="sent").inc()
    store.claim_operator_notice(message.conversation, f"sent:{time.time():.0f}")


def keep_for_operator(store: ConversationStore, message: StoredMessage,
                      earlier: Sequence[StoredMessage] = ()) -> str:
    """Instead of the model: the message (and the earlier ones of its burst) kept for the operator.

    The user's turns join the history (so the bot knows them after the pause), the answer is "" (the
    reply step sends nothing, as for a burst's earlier messages). Returns "".
    """
    members = [*earlier, message]
    store.keep_for_operator(members)
    if store.record_answer(message, "", turns=[{"role": "user", "content": kept_text(m)} for m in members]):
        KEPT_FOR_OPERATOR.inc(len(members))
        log.info("seq %s kept for the operator (the conversation is paused)", message.seq)
    if earlier:
        store.record_burst_answered_by([m.inbound.message_sid for m in earlier], message.inbound.message_sid)
    return ""


def kept_text(message: StoredMessage) -> str:
    """The user's message as the operator and the history see it (no model reads its media while paused)."""
    if message.intake_result in _TEXT_DROPPED:
        return f"[a message over the bot's limits ({message.intake_result}); its text was not kept]"
    said = describe(message.inbound)
    media = message.inbound.media
    attached = f"[{len(media)} attachment(s): {', '.join(m.content_type for m in media)}]" if media else ""
    return "\n".join(part for part in (said, attached) if part) or "[an empty message]"

