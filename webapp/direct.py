"""Direct mode (PROCESSING_MODE=direct): answer inside the web request, no queue.

For small deployments without SQS. Bursts are not coalesced here (each message is answered in its own request). The trade-off: the webhook waits for OpenAI, so slow answers
push Twilio's 15 s limit, and a crash mid-request loses the work in progress (the outbox relay is
not running without a worker).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from switchboard.domain.answering import AnswerOptions
from switchboard.domain.bursts import BurstPolicy
from switchboard.domain.conversation import RateLimit, answer_with_apology, deliver_reply, produce_answer, run_intake
from switchboard.errors import ConfigurationFault, NotYourTurn, PermanentError, TransientError
from switchboard.services import Services

log = logging.getLogger(__name__)


def process_now(services: Services, message_sid: str, conversation: str) -> bool:
    """Run intake, completion and reply in this thread. True once the reply went out (or was given up)."""
    settings = services.settings
    run_intake(services.store, message_sid,
               RateLimit(settings.rate_limit_messages, settings.rate_limit_window_seconds),
               moderation=services.moderation, readable=settings.readable_media())
    try:
        # No bursts here: waiting out a quiet window would hold Twilio's request open.
        options = replace(AnswerOptions.from_settings(settings, notifier=services.handoff.notifier),
                          burst=BurstPolicy(), order_wait_max_seconds=0)
        produce_answer(services.store, services.completions, settings.system_prompt_text(), message_sid,
                       options=options, media=services.media, replies=services.replies, bots=services.bots)
    except NotYourTurn:
        # Another request (Twilio's retry of this webhook, or the first try still waiting for
        # OpenAI) holds the answer's lease: it answers, this one only acknowledges.
        log.info("direct mode: another request is answering this message")
        return False
    except (TransientError, PermanentError) as exc:
        log.error("direct mode: completion failed (%s); sending the apology", exc)
        answer_with_apology(services.store, message_sid)
    try:
        deliver_reply(services.store, services.replies, message_sid, order_wait_max_seconds=0)
    except (TransientError, NotYourTurn, ConfigurationFault):
        # Another request holds this reply's lease, or Twilio refused: the message stays unanswered
        # in the backlog (no worker relays in direct mode), so say so loudly.
        log.exception("direct mode: reply failed")
        return False
    return True
