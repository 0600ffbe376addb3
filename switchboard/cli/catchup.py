"""`switchboard catchup --since`: accept inbound messages Twilio has that we never accepted."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from switchboard.operations.catchup import (
    CatchupRefused,
    Decision,
    catch_up,
    check_since,
    numbers_to_answer,
    plan,
    table,
)

# Imported inside the command below, not here: services (the Twilio and OpenAI SDKs) and, only with
# --yes, tasks.publishing (Celery) would slow `switchboard --help` and every other command (each
# command module loads to build the parser).


def _catchup(args: argparse.Namespace) -> int:
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


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catchup = commands.add_parser("catchup", help="accept inbound messages Twilio has that we never accepted")
    catchup.add_argument("--since", required=True, help="ISO date or time, UTC unless it says otherwise")
    catchup.add_argument("--to", action="append",
                         help="only messages sent to this number or WhatsApp sender (repeatable; default: "
                              "TWILIO_NUMBERS, else the numbers accepted messages arrived on)")
    catchup.add_argument("--yes", action="store_true", help="accept them; without it, only show what would be done")
    catchup.set_defaults(run=_catchup)
