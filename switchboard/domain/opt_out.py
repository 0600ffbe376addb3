"""Opt-out at intake: STOP and START change a conversation's opt-out state once, and an opted-out user gets nothing.

Decided before the rate limit, the budgets and moderation: a STOP works for a rate-limited user,
and an opted-out user costs no completion. What a message found (stopped, started, opted out, …)
is recorded in its record with the flag change itself (ConversationStore.decide_opt_out), so a
redelivered STOP gets the same decision, and so one confirmation, however often intake runs.

WhatsApp: STOP (and Twilio's other opt-out words) is confirmed once; START/UNSTOP after it
welcomes the user back; START while not opted out is a greeting, answered with the help text.
SMS (and any message carrying OptOutType): Twilio's opt-out handling answered the keyword, so we
only record the change and send nothing. Delivery sends nothing to an opted-out user, except the
STOP confirmation (intake result "opt-out").
"""

from __future__ import annotations

import logging

from switchboard.domain.turns import UnknownMessage
from switchboard.domain.user_commands import Command, opt_keyword
from switchboard.metrics import OPT_OUTS, OPTED_OUT_MESSAGES
from switchboard.store import ConversationStore, StoredMessage

log = logging.getLogger(__name__)

# What a decision means for the reply (on WhatsApp), and whether it settles the message now.
_OUTCOMES: dict[str, tuple[Command | None, bool]] = {
    "stopped": (Command.OPT_OUT, True),
    "already-out": (Command.OPTED_OUT, True),  # a repeated STOP: the first one was confirmed
    "started": (Command.OPT_IN, True),
    "not-out": (Command.HELP, False),  # START with nothing to undo: a greeting, under the rate limit like any
    "out": (Command.OPTED_OUT, True),
    "in": (None, False),  # an ordinary message: intake goes on with what classify said
}


def apply_opt_out(store: ConversationStore, message: StoredMessage, command: Command) -> tuple[Command, bool]:
    """The command after the opt-out state is applied, and whether it settles the message (no limit applies).

    `command` is what classify said. A STOP or START changes the conversation's state once: the
    first run to decide changes the flag, later runs read that decision back.
    """
    keyword = opt_keyword(message.inbound)
    change = keyword.change if keyword is not None and keyword.change != "help" else "none"
    decision, first = store.decide_opt_out(message, change)
    if decision == "missing":
        raise UnknownMessage(f"message {message.inbound.message_sid} is not in the store")
    channel = message.inbound.channel
    if first and decision in ("stopped", "started"):
        OPT_OUTS.labels(channel=channel, change="out" if decision == "stopped" else "in").inc()
        log.info("intake: seq %s opted %s", message.seq, "out" if decision == "stopped" else "back in")
    if first and decision in ("out", "already-out"):
        OPTED_OUT_MESSAGES.labels(channel=channel).inc()
    if keyword is not None and keyword.answered_by_twilio:
        return Command.TWILIO_ANSWERED, True  # Twilio replied (or, to an opted-out user, stayed silent): so do we
    replaced, settles = _OUTCOMES.get(decision, (None, False))
    return (replaced or command), settles
