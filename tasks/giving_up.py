"""What the pipeline does for a message when a step has failed for good."""

from __future__ import annotations

import logging

from switchboard.clients.sqs_admin import queue_names
from switchboard.domain.conversation import answer_with_apology, apologise_directly, finish_reply_undelivered
from switchboard.logs import correlated
from switchboard.services import get_services
from switchboard.settings import get_settings

log = logging.getLogger(__name__)


def give_up(task_name: str, message_sid: str, conversation: str) -> None:
    """Before the reply: answer with the apology and send it. The reply itself: release the turn."""
    from tasks.pipeline import reply
    from tasks.retrying import fifo_options

    services = get_services()
    store = services.store
    with correlated(message_sid):
        if task_name == reply.name or store.was_followed_up(message_sid):
            # A redriven message that failed again was apologised for already: release it, say nothing more.
            finish_reply_undelivered(store, message_sid)
            return
        try:
            answer_with_apology(store, message_sid)
        except (ValueError, KeyError):
            # The record itself is broken (likely why every delivery failed): tell the user directly.
            log.error("the message's record cannot be read; sending the apology directly", exc_info=True)
            apologise_directly(store, services.replies, message_sid)
            return
        # Outside any running task (the request's failure callback): owe it explicitly if SQS refuses.
        reply.si(message_sid, conversation).set(
            queue=queue_names(get_settings()).stage("reply"),
            **fifo_options(message_sid, conversation, "reply-after-failure"),
        ).apply_async(owe_on_failure=True)
