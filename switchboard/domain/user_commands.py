"""Text commands a user can send instead of a question, and the fixed answers given without OpenAI."""

from __future__ import annotations

from enum import StrEnum

HELP_TEXT = (
    "I'm an AI assistant. Ask me anything.\n"
    "Commands: /reset forgets our conversation, /forget deletes everything I stored about you, "
    "/help shows this."
)
RESET_TEXT = "Done: I've forgotten our conversation. What would you like to talk about?"
MEDIA_ONLY_TEXT = "I can only read text messages for now. Could you type your question?"
RATE_LIMITED_TEXT = "You're sending messages faster than I can answer. Please wait a minute, then try again."
OVER_BUDGET_TEXT = "I'm answering too many people right now and can't answer you yet. Please try again later."
SENDER_CAP_TEXT = "You've reached today's limit of questions. Please try again tomorrow."
FLAGGED_TEXT = "Sorry, I can't help with that message."
# Used only if the detailed answer (with counts) was not recorded at intake.
FORGET_TEXT = "Done: I've deleted what I stored about you."


class Command(StrEnum):
    CHAT = "chat"
    RESET = "reset"
    HELP = "help"
    FORGET = "forget"
    MEDIA_ONLY = "media-only"
    RATE_LIMITED = "rate-limited"  # over the limit: one polite notice...
    OVER_BUDGET = "over-budget"  # the deployment's completion budget is spent (one notice per sender)
    SENDER_CAP = "sender-cap"  # this sender's daily cap is reached (one notice a day)
    FLAGGED = "flagged"  # the moderation check flagged the text
    IGNORED = "ignored"  # ...then silence until the window ends


def classify(body: str, num_media: int = 0) -> Command:
    word = body.strip().lower()
    if word in ("/reset", "reset", "/new"):
        return Command.RESET
    if word in ("/help", "help?"):
        return Command.HELP
    if word == "/forget":
        return Command.FORGET
    if not word:
        return Command.MEDIA_ONLY if num_media > 0 else Command.HELP
    return Command.CHAT


def canned_answer(command: Command) -> str | None:
    """The fixed answer of a command, or None when OpenAI should answer."""
    return {
        Command.RESET: RESET_TEXT,
        Command.HELP: HELP_TEXT,
        Command.FORGET: FORGET_TEXT,
        Command.MEDIA_ONLY: MEDIA_ONLY_TEXT,
        Command.RATE_LIMITED: RATE_LIMITED_TEXT,
        Command.OVER_BUDGET: OVER_BUDGET_TEXT,
        Command.SENDER_CAP: SENDER_CAP_TEXT,
        Command.FLAGGED: FLAGGED_TEXT,
        Command.IGNORED: "",
    }.get(command)


def forget_text(counts: dict[str, int]) -> str:
    """The /forget answer: what was deleted, in words a user reads."""
    listed = ", ".join(f"{n} {what}" for what, n in counts.items())
    return (f"Done: I've deleted what I stored about you: {listed}. "
            "Only this request and my reply are kept, without your words, until they expire.")
