"""Find inbound messages Twilio holds that this deployment never accepted, and accept them now.

Guarded three ways, because a wrong run answers real people: `--since` may not reach past the
MessageSid claim window (older messages could no longer be recognised as answered), only the numbers
this deployment serves are looked at (TWILIO_NUMBERS, else the numbers messages arrived on), and a
message Twilio's log shows was answered (an outbound message to its sender at or after it) is skipped.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.clients.twilio_messages import inbound_from_resource
from switchboard.domain.acceptance import Outcome, accept
from switchboard.domain.inbound import InboundMessage, MalformedMessage, mask_phone
from switchboard.settings import Settings
from switchboard.store import ConversationStore

log = logging.getLogger(__name__)


class CatchupRefused(ValueError):
    """The run could answer what it must not: it stops before anything is accepted."""


class Decision(enum.Enum):
    ACCEPT = "accept"
    ANSWERED = "already_answered"  # Twilio's log has an outbound message to the sender at or after it
    MALFORMED = "malformed"  # lacks what every Twilio message carries


@dataclass(frozen=True)
class Candidate:
    """One inbound message from Twilio's log and what the run will do with it."""

    sid: str
    sender: str
    recipient: str
    sent_at: datetime | None
    decision: Decision
    message: InboundMessage | None = None


def dedupe_window(settings: Settings) -> timedelta:
    """How far back a MessageSid is still recognised as accepted (the claim's TTL)."""
    seconds = getattr(settings, "message_claim_ttl_seconds", None) or settings.history_ttl_seconds
    return timedelta(seconds=int(seconds))


def check_since(since: datetime, settings: Settings, now: datetime | None = None) -> None:
    window = dedupe_window(settings)
    oldest = (now or datetime.now(UTC)) - window
    if since < oldest:
        raise CatchupRefused(
            f"--since {since.isoformat()} is older than the deduplication window ({window.days} days, "
            f"MESSAGE_CLAIM_TTL_SECONDS): messages before {oldest.isoformat(timespec='seconds')} can no "
            "longer be recognised as already accepted and could be answered twice")


def numbers_to_answer(settings: Settings, store: ConversationStore, requested: Sequence[str] | None) -> list[str]:
    """--to when given, else TWILIO_NUMBERS, else the numbers accepted messages arrived on."""
    if requested:
        return list(dict.fromkeys(requested))
    if settings.served_numbers:
        return list(settings.served_numbers)
    seen = store.our_numbers()
    if seen:
        return list(seen)
    raise CatchupRefused("no numbers to answer for: set TWILIO_NUMBERS (comma-separated) or pass --to; "
                         "without them the run would answer every number on the account")


def plan(twilio: Any, since: datetime, numbers: Iterable[str]) -> list[Candidate]:
    """Every inbound message to `numbers` since `since`, oldest first (the order users sent them)."""
    inbound: list[Any] = []
    last_reply: dict[str, datetime] = {}
    for number in numbers:
        # Twilio lists newest first; reversed, a stable sort by time keeps same-second messages in order.
        inbound += [r for r in reversed(twilio.messages.list(to=number, date_sent_after=since))
                    if r.direction == "inbound"]
        for reply in twilio.messages.list(from_=number, date_sent_after=since):
            if (reply.direction or "").startswith("outbound") and reply.to and reply.date_sent:
                last_reply[reply.to] = max(reply.date_sent, last_reply.get(reply.to, reply.date_sent))
    inbound.sort(key=lambda r: r.date_sent or datetime.max.replace(tzinfo=UTC))
    return [_decide(resource, last_reply) for resource in inbound]


def _decide(resource: Any, last_reply: dict[str, datetime]) -> Candidate:
    fields = dict(sid=resource.sid or "", sender=resource.from_ or "", recipient=resource.to or "",
                  sent_at=resource.date_sent)
    try:
        message = inbound_from_resource(resource)
    except MalformedMessage:
        return Candidate(**fields, decision=Decision.MALFORMED)
    replied = last_reply.get(resource.from_ or "")
    # At or after: Twilio's times have whole seconds, and a second answer is worse than none here.
    if replied is not None and resource.date_sent is not None and replied >= resource.date_sent:
        return Candidate(**fields, decision=Decision.ANSWERED)
    return Candidate(**fields, decision=Decision.ACCEPT, message=message)


def table(candidates: Sequence[Candidate]) -> str:
    """What the run would do, one line per message; numbers masked (the operator's terminal is a log too)."""
    lines = [f"{'sent (UTC)':<20} {'MessageSid':<34} {'from':<22} {'to':<22} decision"]
    for c in candidates:
        sent = c.sent_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if c.sent_at else "-"
        lines.append(f"{sent:<20} {c.sid:<34} {mask_phone(c.sender):<22} {mask_phone(c.recipient):<22} "
                     f"{c.decision.value}")
    return "\n".join(lines)


def catch_up(store: ConversationStore, candidates: Sequence[Candidate],
             hand_over: Callable[[str, str], bool]) -> dict[str, int]:
    """Accept the candidates marked ACCEPT, in order; counts per outcome and per skip reason."""
    counts = {outcome.value: 0 for outcome in Outcome}
    counts.update({Decision.ANSWERED.value: 0, Decision.MALFORMED.value: 0})
    for candidate in candidates:
        if candidate.message is None:
            counts[candidate.decision.value] += 1
            continue
        counts[accept(store, candidate.message, hand_over).value] += 1
    return counts
