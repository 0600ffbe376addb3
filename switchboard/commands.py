"""Text commands a user can send instead of a question (answered without OpenAI)."""

from __future__ import annotations

from enum import StrEnum

HELP_TEXT = (
    "I'm an AI assistant. Ask me anything.\n"
    "Commands: /reset forgets our conversation, /help shows this."
)
RESET_TEXT = "Done: I've forgotten our conversation. What would you like to talk about?"
MEDIA_ONLY_TEXT = "I can only read text messages for now. Could you type your question?"
RATE_LIMITED_TEXT = "You're sending messages faster than I can answer. Please wait a minute, then try again."


class Command(StrEnum):
    CHAT = "chat"
    RESET = "reset"
    HELP = "help"
    MEDIA_ONLY = "media-only"
    RATE_LIMITED = "rate-limited"  # over the limit: one polite notice...
    IGNORED = "ignored"  # ...then silence until the window ends


def classify(body: str, num_media: int = 0) -> Command:
    word = body.strip().lower()
    if word in ("/reset", "reset", "/new"):
        return Command.RESET
    if word in ("/help", "help?"):
        return Command.HELP
    if not word:
        return Command.MEDIA_ONLY if num_media > 0 else Command.HELP
    return Command.CHAT


def canned_answer(command: Command) -> str | None:
    """The fixed answer of a command, or None when OpenAI should answer."""
    return {
        Command.RESET: RESET_TEXT,
        Command.HELP: HELP_TEXT,
        Command.MEDIA_ONLY: MEDIA_ONLY_TEXT,
        Command.RATE_LIMITED: RATE_LIMITED_TEXT,
        Command.IGNORED: "",
    }.get(command)
