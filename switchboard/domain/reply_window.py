"""The WhatsApp 24-hour window: whether a free-form reply may still go out, and the template's variables instead."""

from __future__ import annotations

from collections.abc import Mapping

WINDOW_SECONDS = 24 * 3600
# Twilio counts from its own receipt of the user's message, a moment before ours, and a reply takes a
# moment to reach it: free-form replies stop a little early rather than be refused (63016).
SAFETY_MARGIN_SECONDS = 5 * 60
# WhatsApp caps a template's body at 1,024 characters, the template's own words included; Twilio
# recommends variable values well under that.
ANSWER_MAX_CHARS = 900
# Twilio refuses an empty variable (21656); a user who set no WhatsApp name is greeted with this.
NO_PROFILE_NAME = "there"


def window_closed(last_inbound_at: float | None, now: float) -> bool:
    """True once a free-form reply would be refused. An unknown last message (older records) counts as open:
    Twilio's 63016 then says otherwise."""
    return last_inbound_at is not None and now - last_inbound_at > WINDOW_SECONDS - SAFETY_MARGIN_SECONDS


def template_variables(variables: Mapping[str, str], answer: str, profile_name: str) -> dict[str, str]:
    """WHATSAPP_TEMPLATE_VARIABLES with {answer} and {profile_name} filled in, as Twilio's ContentVariables."""
    values = {"answer": shorten(answer, ANSWER_MAX_CHARS), "profile_name": one_line(profile_name) or NO_PROFILE_NAME}
    return {key: value.format_map(values) for key, value in variables.items()}


def one_line(text: str) -> str:
    """WhatsApp refuses template values with newlines, tabs or runs of spaces: words joined by single spaces."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters, with "…" when cut."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut + "…"
