"""Content templates as Twilio's Messages create checks them: ContentSid and ContentVariables."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from flask import Response

from localdev.standins.twilio_errors import twilio_error

CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
MAX_VARIABLES = 100
MAX_KEY_CHARS = 16
MAX_VALUE_CHARS = 1600


def content_refusal(form: Mapping[str, str]) -> Response | None:
    """Twilio's answer to a bad ContentSid/ContentVariables pair, or None when they are fine (or absent)."""
    content_sid, raw = form.get("ContentSid"), form.get("ContentVariables")
    if raw is not None and not content_sid:
        return twilio_error(400, 21654)
    if content_sid is None:
        return None
    if not CONTENT_SID.fullmatch(content_sid):
        return twilio_error(400, 21655)
    if raw is not None and variables_of(raw) is None:
        return twilio_error(400, 21656)
    return None


def variables_of(raw: str) -> dict[str, str] | None:
    """ContentVariables parsed, or None when Twilio would refuse them: a JSON object of at most 100
    non-empty string values under keys of at most 16 characters."""
    try:
        variables = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(variables, dict) or len(variables) > MAX_VARIABLES:
        return None
    for key, value in variables.items():
        if not 0 < len(key) <= MAX_KEY_CHARS or not isinstance(value, str) or not value.strip():
            return None
        if len(value) > MAX_VALUE_CHARS:
            return None
    return variables


def rendered_body(raw: str | None) -> str:
    """The stand-in knows no template's own words: the body it lists is the variables' values, one a line."""
    return "\n".join((variables_of(raw) or {}).values()) if raw else ""
