"""`switchboard forget <number>`: delete everything stored about one person and say what was deleted."""

from __future__ import annotations

import argparse
import sys

from switchboard.domain.inbound import mask_phone
from switchboard.domain.privacy import conversations_of, forget, user_ids_of
from switchboard.metrics import FORGET_REQUESTS
from switchboard.settings import get_settings

# Imported inside the command below, not here: services (the Twilio and OpenAI SDKs)
# would slow `switchboard --help` and every other command (each command module loads to build
# the parser).


def _forget(args: argparse.Namespace) -> int:
    from switchboard.services import build_store

    settings = get_settings()
    store = build_store(settings)
    ours = {*store.our_numbers(), *args.to}
    if not ours:
        print("switchboard: no number of ours is known yet; name it with --to", file=sys.stderr)
        return 1
    conversations = conversations_of(user_ids_of(args.number), ours, settings.conversation_key())
    counts = forget(store, conversations)
    FORGET_REQUESTS.labels(source="operator").inc()
    listed = ", ".join(f"{n} {what}" for what, n in counts.items())
    print(f"forgot {mask_phone(args.number)} on {len(ours)} number(s) of ours: {listed}")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    forget = commands.add_parser(
        "forget", help="delete every message, history turn, delivery record and limit stored about a person")
    forget.add_argument("number", help="their number: +15551234567, whatsapp:+15551234567 or a WaId")
    forget.add_argument("--to", action="append", default=[], metavar="OUR_NUMBER",
                        help="one of our numbers to look under (repeatable; default: every number seen)")
    forget.set_defaults(run=_forget)
