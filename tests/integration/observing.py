"""What pipeline tests read back from a running stack: OpenAI prompts, Twilio sends, and when it has gone quiet."""

from __future__ import annotations

from typing import Any

import boto3

from localdev.polling import wait_for
from localdev.standins.openai_api import last_user_text
from switchboard.clients.sqs_admin import queue_depths, queue_names
from switchboard.settings import Settings
from switchboard.store import ConversationStore, HistoryLimits
from switchboard.store.connection import connect
from tests.harness.pipeline import Stack


def sqs_for(settings: Settings) -> Any:
    secret = settings.aws_secret_access_key
    return boto3.client(
        "sqs", endpoint_url=settings.sqs_endpoint_url, region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
    )


def prompts_for(stack: Stack, user_text: str) -> list[list[dict[str, Any]]]:
    """The `messages` of every completion request OpenAI received whose newest user turn is `user_text`."""
    return [
        request["messages"] for request in stack.openai.client.requests()
        if last_user_text(request["messages"]) == user_text
    ]


def send_attempts_to(stack: Stack, user: str) -> list[dict[str, Any]]:
    """Every `messages.create` call Twilio received for `user`, refused or not."""
    return [
        request for request in stack.twilio.client.requests()
        if request["method"] == "POST" and request["path"].endswith("/Messages.json")
        and request["params"].get("To") == user
    ]


def wait_until_settled(stack: Stack, timeout: float = 30) -> None:
    """Wait until every accepted message has a finished reply and no stage queue holds anything.

    A task publishes the next link (or its retry) before its own message is deleted, so empty stage
    queues plus nothing unanswered in Redis means no further send can happen: counts are final.
    """
    settings = stack.settings
    sqs, names = sqs_for(settings), queue_names(settings)
    store = ConversationStore(connect(settings.redis_url.get_secret_value()), settings.redis_key_prefix,
                              HistoryLimits(1, 100, 60))

    def settled() -> bool:
        unanswered, _ = store.unanswered()
        busy = [d for d in queue_depths(sqs, names)
                if "-dlq" not in d.name and (d.visible or d.in_flight or d.delayed)]
        return not unanswered and not busy

    try:
        wait_for(settled, timeout=timeout, interval=0.2, message="the pipeline to settle (no work left)")
    finally:
        store.redis.close()
