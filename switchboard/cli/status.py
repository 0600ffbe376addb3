"""`switchboard status` (readiness, queue depths, backlog) and `switchboard message <sid>` (one message's story)."""

from __future__ import annotations

import argparse

from switchboard.clients.sqs_admin import queue_depths, queue_names, sqs_client
from switchboard.operations.health import backlog, readiness
from switchboard.settings import get_settings

# Imported inside each command below, not here: services (the Twilio and OpenAI SDKs)
# would slow `switchboard --help` and every other command (each command module loads to build
# the parser).


def _status(_: argparse.Namespace) -> int:
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
    if message.answered_by:
        print(f"answered together with later messages of its burst, by the reply to {message.answered_by}")
    if message.undelivered:
        print(f"reply not sent: {message.undelivered}")
    template = store.outside_window(message.inbound.message_sid)
    if template is not None and message.undelivered != "outside-window":
        print(f"the 24-hour window had closed: the answer from part {template[1]} on went as the WhatsApp "
              f"template (part {template[0]})")
    for index, outbound_sid in sorted(message.sent_parts.items()):
        delivery = store.delivery(outbound_sid)
        print(f"part {index}: {outbound_sid} {delivery.get('status', 'no status yet')} "
              f"{delivery.get('error_code') or ''}".rstrip())
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = commands.add_parser("status", help="readiness, queue depths and backlog (exit 1 when not ready)")
    status.set_defaults(run=_status)

    message = commands.add_parser("message", help="what happened to one inbound message, with delivery statuses")
    message.add_argument("message_sid")
    message.set_defaults(run=_message)

