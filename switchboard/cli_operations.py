"""Operator subcommands: `switchboard dlq list|redrive` and `switchboard catchup --since`."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from switchboard.settings import get_settings


def _dlq(args: argparse.Namespace) -> int:
    from switchboard.dead_letters import peek, redrive
    from switchboard.queues import queue_names, sqs_client

    settings = get_settings()
    sqs, names = sqs_client(settings), queue_names(settings)
    letters = peek(sqs, names, limit=args.limit)
    if args.action == "list":
        print(f"{'stage':<9} {'task':<22} {'MessageSid':<36} {'receives':>8}  sent")
        for letter in letters:
            sent = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(letter.sent_at))
            print(f"{letter.stage:<9} {letter.task:<22} {letter.message_sid:<36} {letter.receive_count:>8}  {sent}")
        print(f"{len(letters)} dead letter(s)")
        return 0
    if args.message_sid:
        letters = [letter for letter in letters if letter.message_sid in args.message_sid]
    print(f"redrove {redrive(sqs, names, letters)} message(s)")
    return 0


def _catchup(args: argparse.Namespace) -> int:
    from switchboard.catchup import catch_up, inbound_since
    from switchboard.services import get_services
    from tasks.publishing import Publisher

    services = get_services()
    since = datetime.fromisoformat(args.since)
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    messages = inbound_since(services.replies.client, since, to=args.to)
    publisher = Publisher(services.settings.publish_timeout_seconds)
    counts = catch_up(services.store, messages, publisher.publish)
    print(", ".join(f"{outcome.value}: {count}" for outcome, count in counts.items()))
    return 0


def register(commands: Any) -> None:
    dlq = commands.add_parser("dlq", help="see and replay messages that failed every attempt")
    dlq.add_argument("action", choices=["list", "redrive"])
    dlq.add_argument("--limit", type=int, default=100)
    dlq.add_argument("--message-sid", action="append", help="redrive only these (repeatable)")
    dlq.set_defaults(run=_dlq)

    catchup = commands.add_parser("catchup", help="accept inbound messages Twilio has that we never accepted")
    catchup.add_argument("--since", required=True, help="ISO date or time, UTC unless it says otherwise")
    catchup.add_argument("--to", help="only messages sent to this number or WhatsApp sender")
    catchup.set_defaults(run=_catchup)
