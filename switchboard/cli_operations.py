"""Operator subcommands: `switchboard dlq list|redrive` and `switchboard catchup --since`."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from switchboard.settings import get_settings


def _dlq(args: argparse.Namespace) -> int:
    from switchboard.dead_letters import peek, redrive_letters, release
    from switchboard.queues import queue_names, sqs_client

    settings = get_settings()
    sqs, names = sqs_client(settings), queue_names(settings)
    letters = peek(sqs, names, limit=args.limit)
    if args.action == "list":
        # Peeking hid them; show them to the next `list` or `redrive` at once, not 30 s later.
        release(sqs, names, letters)
        print(f"{'stage':<9} {'task':<22} {'MessageSid':<36} {'receives':>8}  sent")
        for letter in letters:
            sent = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(letter.sent_at))
            print(f"{letter.stage:<9} {letter.task:<22} {letter.message_sid:<36} {letter.receive_count:>8}  {sent}")
        print(f"{len(letters)} dead letter(s)")
        return 0
    if args.message_sid:
        release(sqs, names, [letter for letter in letters if letter.message_sid not in args.message_sid])
        letters = [letter for letter in letters if letter.message_sid in args.message_sid]
    print(redrive_letters(sqs, names, letters))
    return 0


def _catchup(args: argparse.Namespace) -> int:
    import sys

    from switchboard.catchup import CatchupRefused, Decision, catch_up, check_since, numbers_to_answer, plan, table
    from switchboard.services import get_services

    services = get_services()
    since = datetime.fromisoformat(args.since)
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    try:
        check_since(since, services.settings)
        numbers = numbers_to_answer(services.settings, services.store, args.to)
    except CatchupRefused as exc:
        print(f"catchup refused: {exc}", file=sys.stderr)
        return 2
    candidates = plan(services.replies.client, since, numbers)
    print(f"numbers: {', '.join(numbers)}\n{table(candidates)}\n")
    to_accept = sum(candidate.decision is Decision.ACCEPT for candidate in candidates)
    if not args.yes:
        print(f"dry run: {to_accept} message(s) would be accepted; run again with --yes to accept them")
        return 0
    from tasks.publishing import Publisher

    publisher = Publisher(services.settings.publish_timeout_seconds)
    counts = catch_up(services.store, candidates, publisher.publish)
    print(", ".join(f"{name}: {count}" for name, count in counts.items()))
    return 0


def _status(_: argparse.Namespace) -> int:
    from switchboard.health import backlog, queue_depths, readiness
    from switchboard.queues import queue_names, sqs_client
    from switchboard.services import build_store

    settings = get_settings()
    store, sqs, names = build_store(settings), sqs_client(settings, read_timeout=5), queue_names(settings)
    checks = readiness(store, sqs, names)
    for name, result in checks.items():
        print(f"{name:<6} {result}")
    ready = all(result == "ok" for result in checks.values())
    if checks["sqs"] == "ok":
        print(f"\n{'queue':<20} {'visible':>8} {'in flight':>10} {'delayed':>8}")
        for depth in queue_depths(sqs, names):
            print(f"{depth.name:<20} {depth.visible:>8} {depth.in_flight:>10} {depth.delayed:>8}")
    if checks["redis"] == "ok":
        current = backlog(store)
        oldest = "-" if current.oldest_unanswered_age_seconds is None else f"{current.oldest_unanswered_age_seconds:.0f}s"
        print(f"\noutbox {current.outbox}, unanswered {current.unanswered}, oldest unanswered {oldest}")
        # Configuration faults workers report (tasks/sqs_faults.py); each ages out a minute after the last sighting.
        faults = store.sqs_faults()
        for queue, cause in sorted(faults.items()):
            print(f"sqs fault {queue}: {cause}")
        ready = ready and not faults
    return 0 if ready else 1


def _message(args: argparse.Namespace) -> int:
    from switchboard.services import build_store

    store = build_store(get_settings())
    message = store.load(args.message_sid)
    if message is None:
        print(f"{args.message_sid}: not in the store (never accepted, or expired)")
        return 1
    print(f"conversation {message.conversation}  seq {message.seq}  intake {message.intake_result or '-'}")
    print(f"answered {'yes' if message.answer is not None else 'no'}  replied {'yes' if message.replied else 'no'}")
    for index, outbound_sid in sorted(message.sent_parts.items()):
        delivery = store.delivery(outbound_sid)
        print(f"part {index}: {outbound_sid} {delivery.get('status', 'no status yet')} "
              f"{delivery.get('error_code') or ''}".rstrip())
    return 0


def register(commands: Any) -> None:
    status = commands.add_parser("status", help="readiness, queue depths and backlog (exit 1 when not ready)")
    status.set_defaults(run=_status)

    message = commands.add_parser("message", help="what happened to one inbound message, with delivery statuses")
    message.add_argument("message_sid")
    message.set_defaults(run=_message)

    dlq = commands.add_parser("dlq", help="see and replay messages that failed every attempt")
    dlq.add_argument("action", choices=["list", "redrive"])
    dlq.add_argument("--limit", type=int, default=100)
    dlq.add_argument("--message-sid", action="append", help="redrive only these (repeatable)")
    dlq.set_defaults(run=_dlq)

    catchup = commands.add_parser("catchup", help="accept inbound messages Twilio has that we never accepted")
    catchup.add_argument("--since", required=True, help="ISO date or time, UTC unless it says otherwise")
    catchup.add_argument("--to", action="append",
                         help="only messages sent to this number or WhatsApp sender (repeatable; default: "
                              "TWILIO_NUMBERS, else the numbers accepted messages arrived on)")
    catchup.add_argument("--yes", action="store_true", help="accept them; without it, only show what would be done")
    catchup.set_defaults(run=_catchup)
