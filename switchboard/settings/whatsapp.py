"""WhatsApp delivery (issue 11): the typing indicator, the 24-hour window's template, parts sent in order."""

from __future__ import annotations

import json
import string
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from switchboard.settings.checks import blank_is_unset, is_loopback_url
from switchboard.settings.twilio import TwilioSettings

# Twilio's hosts, and its rules for ContentVariables
TWILIO_API = "https://api.twilio.com"
TWILIO_MESSAGING_API = "https://messaging.twilio.com"
TEMPLATE_PLACEHOLDERS = frozenset({"answer", "profile_name"})


class WhatsAppSettings(TwilioSettings):
    """On top of Twilio's settings: every WhatsApp message goes out through Twilio's API."""

    # Show "typing…" (which also marks the user's message read) while an answer is written; best effort.
    whatsapp_typing_indicator: bool = True
    # The Content template (HX…) a reply goes out as once the 24-hour window has closed; unset: not sent.
    whatsapp_template_content_sid: str | None = Field(default=None, pattern=r"^HX[0-9a-fA-F]{32}$")
    # The template's ContentVariables as a JSON object; values may use {answer} and {profile_name}.
    whatsapp_template_variables: str = '{"1": "{answer}"}'
    # Longest wait for Twilio to report a part sent before the next part goes anyway (0: no waiting).
    part_order_wait_seconds: float = Field(default=30.0, ge=0, le=600)
    # Twilio's Messaging API host (typing indicator). Unset: Twilio's, or TWILIO_API_BASE_URL's when that is
    # not Twilio's (a local stand-in answers both).
    twilio_messaging_base_url: str | None = None

    @field_validator("whatsapp_template_content_sid", "twilio_messaging_base_url", mode="before")
    @classmethod
    def _blank_delivery_setting_is_unset(cls, value: object) -> object:
        return blank_is_unset(value)

    @field_validator("twilio_messaging_base_url")
    @classmethod
    def _messaging_url_is_safe(cls, value: str | None) -> str | None:
        # The typing indicator carries our credentials, as every API call does (see twilio_api_base_url).
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("must be an http(s) URL")
            if parts.scheme == "http" and not is_loopback_url(value):
                raise ValueError("plain http is allowed only for a loopback host; use https")
        return value.rstrip("/") if value else None

    @field_validator("whatsapp_template_variables")
    @classmethod
    def _template_variables_are_twilios(cls, value: str) -> str:
        template_variables_from_json(value)  # raises ValueError naming what is wrong
        return value

    @property
    def template_variables(self) -> dict[str, str]:
        return template_variables_from_json(self.whatsapp_template_variables)

    @property
    def messaging_base_url(self) -> str:
        """Where the SDK's Messaging domain (messaging.twilio.com) calls go."""
        if self.twilio_messaging_base_url:
            return self.twilio_messaging_base_url
        if self.twilio_api_base_url.rstrip("/") == TWILIO_API:
            return TWILIO_MESSAGING_API
        return self.twilio_api_base_url


def template_variables_from_json(raw: str) -> dict[str, str]:
    """WHATSAPP_TEMPLATE_VARIABLES parsed and checked: Twilio takes at most 100 variables, keys of at most
    16 characters without spaces, non-empty values; ours may use only the {answer} and {profile_name} fields."""
    try:
        variables = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(variables, dict) or not variables or len(variables) > 100:
        raise ValueError('must be a JSON object of 1 to 100 variables, e.g. {"1": "{answer}"}')
    for key, value in variables.items():
        if not 0 < len(key) <= 16 or " " in key:
            raise ValueError(f"variable name {key!r}: 1 to 16 characters, no spaces")
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"variable {key!r}: the value must be a non-empty string")
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"variable {key!r}: {exc} (write a literal brace twice)") from None
        if fields - TEMPLATE_PLACEHOLDERS:
            raise ValueError(f"variable {key!r}: only {{answer}} and {{profile_name}} can be filled in")
    return variables
