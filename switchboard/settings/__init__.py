"""The one typed source of configuration, read from the environment and validated at start-up.

One module per concern, each a pydantic model of its fields and checks; `model.Settings` composes them and
`loading` reads it. Import from here: `from switchboard.settings import Settings, get_settings`.
"""

from __future__ import annotations

from switchboard.settings.checks import is_loopback_url
from switchboard.settings.conversation import DAY
from switchboard.settings.loading import ConfigError, check_web_settings, get_settings, load_settings
from switchboard.settings.model import Settings
from switchboard.settings.openai import DEFAULT_SYSTEM_PROMPT
from switchboard.settings.sqs import SQS_STAGE_RETENTION_SECONDS
from switchboard.settings.twilio import is_placeholder_token
from switchboard.settings.whatsapp import (
    TEMPLATE_PLACEHOLDERS,
    TWILIO_API,
    TWILIO_MESSAGING_API,
    template_variables_from_json,
)

__all__ = [
    "DAY",
    "DEFAULT_SYSTEM_PROMPT",
    "SQS_STAGE_RETENTION_SECONDS",
    "TEMPLATE_PLACEHOLDERS",
    "TWILIO_API",
    "TWILIO_MESSAGING_API",
    "ConfigError",
    "Settings",
    "check_web_settings",
    "get_settings",
    "is_loopback_url",
    "is_placeholder_token",
    "load_settings",
    "template_variables_from_json",
]
