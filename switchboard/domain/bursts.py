"""Bursts: a user's messages close together are answered once, after the last, with all of them in context.

Decided at the completion step, in seq order (each message's completion waits for the previous
one's): a message whose next message arrived within BURST_WINDOW_SECONDS of it is taken into that
message's answer; the last message of a burst (no next one within the window once the window has
passed) answers them all. Every decision is recorded once in the message's record, so a
redelivery, a retry or an overlapping run decides the same way.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from switchboard.domain.user_commands import Command
from switchboard.errors import NotYourTurn
from switchboard.store import ConversationStore, StoredMessage

log = logging.getLogger(__name__)

# How long the last message waits for its successor's intake before answering without it; intake
# does not wait for anything, so this only matters when intake itself is failing.
INTAKE_WAIT_MAX_SECONDS = 30.0
INTAKE_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class BurstPolicy:
    window_seconds: float = 0.0  # BURST_WINDOW_SECONDS; 0 answers every message on its own
    max_messages: int = 10  # BURST_MAX_MESSAGES

    @property
    def enabled(self) -> bool:
        return self.window_seconds > 0 and self.max_messages > 1


def settle_burst(store: ConversationStore, message: StoredMessage, policy: BurstPolicy,
                 now: float | None = None) -> list[StoredMessage] | None:
    """The messages this one answers, oldest first and ending with it; None when a later one answers it.

    Raises NotYourTurn (with when to look again) while the quiet window after it is still open.
    Call it under the message's answer lease, after its turn has come.
    """
    if not policy.enabled or message.intake_result != Command.CHAT.value:
        return [message]
    now = time.time() if now is None else now
    earlier = members_before(store, message, policy.max_messages - 1)
    if len(earlier) + 1 >= policy.max_messages:
        return [*earlier, message]
    following = _next_message(store, message)
    if following is None:
        remaining = message.inbound.received_at + policy.window_seconds - now
        if remaining > 0:
            raise NotYourTurn(f"seq {message.seq} waits {remaining:.1f}s for the rest of its burst",
                              retry_after=remaining)
        return [*earlier, message]
    if following.inbound.received_at - message.inbound.received_at > policy.window_seconds:
        return [*earlier, message]
    if following.intake_result is None and following.answer is None:
        if now - following.inbound.received_at < INTAKE_WAIT_MAX_SECONDS:
            raise NotYourTurn(f"seq {message.seq} waits for the intake of seq {following.seq}",
                              retry_after=INTAKE_POLL_SECONDS)
        log.warning("seq %s: the intake of seq %s is late; answering without it", message.seq, following.seq)
        return [*earlier, message]
    if following.intake_result != Command.CHAT.value or following.answer is not None:
        return [*earlier, message]  # a command, a limit notice or a refusal ends the burst
    if store.record_absorbed(message, following.inbound.message_sid):
        log.info("seq %s goes into the answer of seq %s (burst)", message.seq, following.seq)
    return None


def members_before(store: ConversationStore, message: StoredMessage, limit: int) -> list[StoredMessage]:
    """The earlier messages of the burst that `message` continues, oldest first (at most `limit`)."""
    members: list[StoredMessage] = []
    current = message
    while len(members) < limit:
        sid = store.sid_at(message.conversation, current.seq - 1)
        earlier = store.load(sid) if sid else None
        if earlier is None or earlier.burst_next != current.inbound.message_sid:
            break
        members.append(earlier)
        current = earlier
    members.reverse()
    return members


def _next_message(store: ConversationStore, message: StoredMessage) -> StoredMessage | None:
    sid = store.sid_at(message.conversation, message.seq + 1)
    return store.load(sid) if sid else None
