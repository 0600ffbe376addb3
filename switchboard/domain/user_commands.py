"""What a message asks for before any model sees it (a command, STOP/START, media we cannot take), and the fixed answers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from switchboard.domain.inbound import InboundMessage
from switchboard.domain.media import DEFAULT_READABLE, can_read

HELP_TEXT = (
    "I'm an AI assistant. Ask me anything: type it, send a voice note, a photo or a PDF, or share a location.\n"
    "Commands: /reset forgets our conversation, /forget deletes everything I stored about you, "
    "/help shows this, /human asks a person from our team to take over (/bot brings me back). "
    "Send STOP and I won't message you again (START to talk again)."
)
RESET_TEXT = "Done: I've forgotten our conversation. What would you like to talk about?"
UNSUPPORTED_MEDIA_TEXT = (
    "Sorry, I can't open that kind of message. I can read text, listen to voice notes, look at photos and "
    "PDFs, and use a shared location. Could you send your question one of those ways?"
)
OPT_OUT_TEXT = "You won't get more messages from me. Send START to talk again."
OPT_IN_TEXT = "Welcome back! Ask me anything. Send /help to see what I can do, or STOP to stop again."
RATE_LIMITED_TEXT = "You're sending messages faster than I can answer. Please wait a minute, then try again."
OVER_BUDGET_TEXT = "I'm answering too many people right now and can't answer you yet. Please try again later."
SENDER_CAP_TEXT = "You've reached today's limit of questions. Please try again tomorrow."
FLAGGED_TEXT = "Sorry, I can't help with that message."
HAND_OFF_TEXT = ("I've asked a person from our team to take over. They'll answer here; until then I'll stay quiet. "
                 "Send /bot to talk to me again.")
BACK_TO_BOT_TEXT = "I'm back. Ask me anything, or send /human to reach a person from our team."
# Used only if the detailed answer (with counts) was not recorded at intake.
FORGET_TEXT = "Done: I've deleted what I stored about you."


class Command(StrEnum):
    CHAT = "chat"
    RESET = "reset"
    HELP = "help"
    FORGET = "forget"
    UNSUPPORTED_MEDIA = "unsupported-media"  # only media the bot cannot take (video, sticker, contact, file)
    MEDIA_ONLY = "media-only"  # records stored before UNSUPPORTED_MEDIA existed; answered like it
    OPT_OUT = "opt-out"  # WhatsApp STOP: recorded, confirmed once (delivery sends this one reply to an opted-out user)
    OPT_IN = "opt-in"  # WhatsApp START/UNSTOP after STOP: cleared, welcomed back
    OPTED_OUT = "opted-out"  # the user is opted out: no model call, nothing sent
    TWILIO_ANSWERED = "twilio-answered"  # a keyword Twilio's opt-out handling answered itself: we send nothing
    RATE_LIMITED = "rate-limited"  # over the limit: one polite notice...
    OVER_BUDGET = "over-budget"  # the deployment's completion budget is spent (one notice per sender)
    SENDER_CAP = "sender-cap"  # this sender's daily cap is reached (one notice a day)
    FLAGGED = "flagged"  # the moderation check flagged the text
    IGNORED = "ignored"  # ...then silence until the window ends
    HAND_OFF = "hand-off"  # the user asks for a person: the conversation is paused (switchboard/domain/handoff.py)
    BACK_TO_BOT = "back-to-bot"  # /bot: the user ends the pause themselves


# --- opt-out keywords ----------------------------------------------------------------------------
# Twilio's default keyword lists ("Twilio support for opt-out keywords (SMS STOP filtering)",
# help.twilio.com/articles/223134027): opt-out STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT;
# opt-in START, YES, UNSTOP; help HELP, INFO. Twilio matches the whole message, in any case
# ("STOP please" is not a keyword). On SMS Twilio answers these itself; on WhatsApp it does not
# (unless a Messaging Service's Advanced Opt-Out covers the sender: then the webhook carries
# OptOutType, Twilio replied, and we treat it as on SMS).
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
SMS_OPT_IN_WORDS = frozenset({"start", "yes", "unstop"})
# On WhatsApp "yes" is an everyday answer to a question, so only these opt back in.
WHATSAPP_OPT_IN_WORDS = frozenset({"start", "unstop"})
SMS_HELP_WORDS = frozenset({"help", "info"})
_OPT_OUT_TYPES = {"STOP": "out", "START": "in", "HELP": "help"}


@dataclass(frozen=True)
class OptKeyword:
    """A STOP ('out'), START ('in') or HELP ('help') keyword, and whether Twilio already answered it."""

    change: str
    answered_by_twilio: bool


def opt_keyword(inbound: InboundMessage) -> OptKeyword | None:
    """The opt-out keyword a message is, if it is one: Twilio's OptOutType first, else the whole trimmed text."""
    if inbound.opt_out_type in _OPT_OUT_TYPES:
        return OptKeyword(_OPT_OUT_TYPES[inbound.opt_out_type], answered_by_twilio=True)
    word = inbound.body.strip().lower()
    if inbound.channel == "whatsapp":
        if word in OPT_OUT_WORDS:
            return OptKeyword("out", answered_by_twilio=False)
        return OptKeyword("in", answered_by_twilio=False) if word in WHATSAPP_OPT_IN_WORDS else None
    # SMS without OptOutType (no Advanced Opt-Out): Twilio's default handling still answered the keyword.
    for change, words in (("out", OPT_OUT_WORDS), ("in", SMS_OPT_IN_WORDS), ("help", SMS_HELP_WORDS)):
        if word in words:
            return OptKeyword(change, answered_by_twilio=True)
    return None


# --- hand-off to a person (issue 14) -------------------------------------------------------------
# The whole message, in any case, trailing punctuation and extra spaces ignored ("Human!" asks; "a human
# wrote this?" does not). None of them is a Twilio keyword, so SMS gets them too.
HAND_OFF_WORDS = frozenset({
    "human", "/human", "agent", "/agent", "person", "/person", "operator", "real person", "a person", "a human",
    "talk to a person", "talk to a human", "talk to someone", "speak to a person", "speak to a human",
    "talk to an agent", "speak to an agent",
})
BACK_TO_BOT_WORDS = frozenset({"/bot", "/resume", "back to bot", "back to the bot"})


def _spoken(body: str) -> str:
    return " ".join(body.lower().split()).rstrip(".!?").strip()


# --- media the bot cannot take -------------------------------------------------------------------
# Twilio's MessageType for WhatsApp kinds the bot never reads, whatever their content type says
# (a sticker is image/webp, a contact card text/vcard).
UNSUPPORTED_MESSAGE_TYPES = frozenset({"video", "sticker", "contacts"})


def _only_unreadable_media(inbound: InboundMessage, readable: frozenset[str]) -> bool:
    """An empty-text message that carries media (or says it does), none of which the bot can take."""
    if inbound.message_type in UNSUPPORTED_MESSAGE_TYPES:
        return True
    if inbound.media:
        return not any(can_read(item.content_type, readable) for item in inbound.media)
    # NumMedia without items: a record stored before media URLs were kept; nothing to read.
    return inbound.num_media > 0 or inbound.message_type == "document"


def classify(inbound: InboundMessage, readable: frozenset[str] = DEFAULT_READABLE) -> Command:
    """What the message asks for, from the message alone (intake adds the opt-out state and the limits).

    `readable` is the content-type allow-list of the media the bot takes (MEDIA_CONTENT_TYPES).
    """
    keyword = opt_keyword(inbound)
    if keyword is not None:
        if keyword.answered_by_twilio:
            return Command.TWILIO_ANSWERED
        return Command.OPT_OUT if keyword.change == "out" else Command.OPT_IN
    word = inbound.body.strip().lower()
    if word in ("/reset", "reset", "/new"):
        return Command.RESET
    # A bare "help" is Twilio's keyword on SMS (answered above); on WhatsApp it is ours.
    if word in ("/help", "help?", "help"):
        return Command.HELP
    if word == "/forget":
        return Command.FORGET
    spoken = _spoken(inbound.body)
    if spoken in HAND_OFF_WORDS:
        return Command.HAND_OFF
    if spoken in BACK_TO_BOT_WORDS:
        return Command.BACK_TO_BOT
    if word or inbound.location is not None or inbound.button_text or inbound.button_payload:
        return Command.CHAT
    if inbound.media or inbound.num_media or inbound.message_type:
        if _only_unreadable_media(inbound, readable):
            return Command.UNSUPPORTED_MEDIA
        if inbound.media:
            return Command.CHAT  # voice notes, photos, PDFs: read at the completion step
    return Command.HELP


def canned_answer(command: Command) -> str | None:
    """The fixed answer of a command, or None when OpenAI should answer ("" sends nothing)."""
    return {
        Command.RESET: RESET_TEXT,
        Command.HELP: HELP_TEXT,
        Command.FORGET: FORGET_TEXT,
        Command.UNSUPPORTED_MEDIA: UNSUPPORTED_MEDIA_TEXT,
        Command.MEDIA_ONLY: UNSUPPORTED_MEDIA_TEXT,
        Command.OPT_OUT: OPT_OUT_TEXT,
        Command.OPT_IN: OPT_IN_TEXT,
        Command.OPTED_OUT: "",
        Command.TWILIO_ANSWERED: "",
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
