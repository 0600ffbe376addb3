"""`switchboard inbox`, `switchboard say <conversation> "..."` and `switchboard resume <conversation>` (issue 14)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from switchboard.settings import get_settings

# Imported inside each command below, not here: services (the Twilio and OpenAI SDKs) would slow
# `switchboard --help` and every other command (each command module loads to build the parser).

TEXT_PREVIEW_CHARS = 200


def _inbox(args: argparse.Namespace) -> int:
    from switchboard.domain.inbound import mask_phone
    from switchboard.domain.operator_desk import inbox, kept_texts
    from switchboard.services import build_store

    now = time.time()
    entries = inbox(build_store(get_settings()), now)
    if not entries:
        print("no conversation is paused for a person")
        return 0
    for entry in entries:
        pause = entry.pause
        said = f", last answered {_ago(now, pause.last_said_at)} ago" if pause.last_said_at else ", not answered yet"
        print(f"{pause.conversation}  {mask_phone(entry.sender) if entry.sender else '(address gone)'}")
        print(f"  paused {_when(pause.since)} ({_ago(now, pause.since)} ago) until {_when(pause.until)} "
              f"by {pause.source}: {pause.reason}")
        print(f"  operator notice: {_notice(pause.notified)}{said}")
        texts = kept_texts(entry)
        print(f"  {len(texts)} message(s) kept for you")
        for message, text in zip(entry.kept, texts, strict=True):
            shown = _preview(text) if args.text else f"[{len(text)} characters; --text shows them]"
            print(f"    {_when(message.inbound.received_at)}  {shown}")
    return 0


def _say(args: argparse.Namespace) -> int:
    from switchboard.clients.twilio_client import ReplySender, SendOutcomeUnknown
    from switchboard.domain.operator_desk import CannotSay, operator_reply
    from switchboard.errors import ConfigurationFault, PermanentError, TransientError
    from switchboard.services import build_store

    settings = get_settings()
    store = build_store(settings)
    try:
        sids = operator_reply(store, ReplySender.from_settings(settings, slots=store), args.conversation, args.text)
    except CannotSay as exc:
        return _fail(str(exc))
    except PermanentError as exc:
        return _fail(f"Twilio refused the message ({exc}); nothing was sent")
    except SendOutcomeUnknown as exc:
        return _fail(f"Twilio did not answer ({exc}): the message may have been sent; look before sending again")
    except (TransientError, ConfigurationFault) as exc:
        return _fail(f"not sent: {exc}; try again")
    print(f"sent to {args.conversation} in {len(sids)} part(s): {', '.join(sids)}")
    return 0


def _resume(args: argparse.Namespace) -> int:
    from switchboard.domain.operator_desk import CannotSay, resume
    from switchboard.services import build_store

    try:
        pause = resume(build_store(get_settings()), args.conversation)
    except CannotSay as exc:
        return _fail(str(exc))
    print(f"{args.conversation} is back with the bot (it was paused since {_when(pause.since)})")
    return 0


def _fail(why: str) -> int:
    print(f"switchboard: {why}", file=sys.stderr)
    return 1


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ago(now: float, at: float) -> str:
    minutes = max(0, int(now - at) // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _notice(notified: str | None) -> str:
    if notified is None:
        return "not sent (no HANDOFF_WEBHOOK_URL, or still being retried)"
    outcome, _, detail = notified.partition(":")
    return f"sent {_when(float(detail))}" if outcome == "sent" else f"refused by the webhook ({detail})"


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_PREVIEW_CHARS else text[: TEXT_PREVIEW_CHARS - 1] + "…"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    inbox = commands.add_parser("inbox", help="conversations paused for a person, and the messages kept for you")
    inbox.add_argument("--text", action="store_true",
                       help="show the kept messages' text (hidden by default: the terminal is a log too)")
    inbox.set_defaults(run=_inbox)

    say = commands.add_parser("say", help="answer a paused conversation as the bot's number (WhatsApp: inside "
                                          "the 24-hour window)")
    say.add_argument("conversation", help="the conversation id `switchboard inbox` shows")
    say.add_argument("text")
    say.set_defaults(run=_say)

    resume = commands.add_parser("resume", help="hand a paused conversation back to the bot")
    resume.add_argument("conversation")
    resume.set_defaults(run=_resume)
