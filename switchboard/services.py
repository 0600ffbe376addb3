"""The per-process clients (Redis store, OpenAI, Twilio), built once, lazily, from settings."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from switchboard.clients.media_reader import MediaReader
from switchboard.clients.openai_client import CompletionClient, ModerationClient
from switchboard.clients.openai_embeddings import EmbeddingsClient
from switchboard.clients.twilio_client import ReplySender
from switchboard.domain.bot_profiles import BotProfiles
from switchboard.domain.bots import Bots
from switchboard.domain.handoff import HandoffPolicy
from switchboard.domain.handoff_tool import handoff_tool
from switchboard.knowledge import KnowledgeLibrary
from switchboard.settings import Settings, get_settings
from switchboard.store import ConversationStore, HistoryLimits, SpendLimits
from switchboard.store.connection import connect
from switchboard.tools import HttpToolExecutor, LocalTool, Toolbox, ToolExecutor


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: ConversationStore
    completions: CompletionClient
    replies: ReplySender
    moderation: ModerationClient | None = None  # OPENAI_MODERATION: pass to run_intake
    media: MediaReader | None = None  # voice notes, photos, PDFs (MEDIA_ENABLED): pass to produce_answer
    # Issue 14: each receiving number's prompt, knowledge and tools; how the operator hears of a hand-off.
    bots: Bots | None = None
    handoff: HandoffPolicy = HandoffPolicy()


def build_store(settings: Settings) -> ConversationStore:
    # One server or a Redis Cluster, as REDIS_URL's scheme says (switchboard/settings/redis.py).
    client = connect(settings.redis_url.get_secret_value(), timeout_seconds=settings.redis_timeout_seconds)
    limits = HistoryLimits(
        settings.history_max_turns, settings.history_max_chars or 0, settings.history_ttl_seconds,
        message_ttl_seconds=settings.message_ttl_seconds, claim_ttl_seconds=settings.message_claim_ttl_seconds,
        # The history's token budget and folding into a summary (issue 11; 0 chars: no bound in characters).
        # Folding needs the worker's summary task: direct mode, which has no worker, drops the overflow.
        max_tokens=settings.history_max_tokens,
        summarize=settings.history_summary and settings.processing_mode == "queue",
    )
    spend = SpendLimits(settings.completion_budget_per_minute, settings.completion_budget_per_day,
                        settings.sender_daily_cap)
    return ConversationStore(client, settings.redis_key_prefix, limits, spend=spend,
                             text_retention_seconds=settings.message_body_retention_seconds)


def build_bots(settings: Settings, store: ConversationStore, handoff: HandoffPolicy) -> Bots:
    """The bots of BOTS_FILE (or the settings' one): knowledge from Redis's index, tools parsed once per file.

    The model is offered hand_off_to_person only where the operator is told of a hand-off
    (HANDOFF_WEBHOOK_URL); the /human command works everywhere, and `switchboard inbox` shows both.
    """
    local = [handoff_tool(store, handoff)] if handoff.notifier is not None else []

    def tools_for(path: Path | None, local_tools: Sequence[LocalTool]) -> tuple[Toolbox, ToolExecutor]:
        toolbox = Toolbox.from_file(path, settings, local=local_tools)
        return toolbox, HttpToolExecutor.from_settings(toolbox, settings)

    library = KnowledgeLibrary(store, settings, EmbeddingsClient.from_settings(settings))
    return Bots(BotProfiles.from_settings(settings), library, tools_for, local)


@functools.cache
def get_services() -> Services:
    settings = get_settings()
    store = build_store(settings)
    handoff = HandoffPolicy.from_settings(settings)
    return Services(
        settings=settings,
        store=store,
        completions=CompletionClient.from_settings(settings),
        # Twilio's request slots are in the store, so every process and host shares one limit (issue 13).
        replies=ReplySender.from_settings(settings, slots=store),
        moderation=ModerationClient.from_settings(settings),
        media=MediaReader.from_settings(settings),
        bots=build_bots(settings, store, handoff),
        handoff=handoff,
    )
