"""Settings: every concern's fields and checks composed into the one pydantic-settings model."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.settings.bots import BotsSettings
from switchboard.settings.conversation import ConversationSettings
from switchboard.settings.handoff import HandoffSettings
from switchboard.settings.knowledge import KnowledgeSettings
from switchboard.settings.media import MediaSettings
from switchboard.settings.observability import ObservabilitySettings
from switchboard.settings.openai import OpenAISettings
from switchboard.settings.redis import RedisSettings
from switchboard.settings.security import SecuritySettings
from switchboard.settings.sqs import SqsSettings
from switchboard.settings.tools import ToolSettings
from switchboard.settings.twilio import TwilioSettings
from switchboard.settings.web import WebSettings
from switchboard.settings.whatsapp import WhatsAppSettings


# The concerns are listed last to first: pydantic takes fields and validators base-most first, so this order
# keeps the fields in `.env.example`'s (a start-up error names bad variables in that order) and runs the
# checks across concerns (security.py) after every concern's own.
class Settings(SecuritySettings, ObservabilitySettings, WebSettings, BotsSettings, HandoffSettings, ToolSettings,
               KnowledgeSettings, MediaSettings, ConversationSettings, SqsSettings, RedisSettings, OpenAISettings,
               WhatsAppSettings, TwilioSettings, BaseSettings):
    """Every environment variable Switchboard reads. `.env.example` documents each one."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")
