"""`switchboard dlq list|redrive`: see and replay messages that failed every attempt."""

from __future__ import annotations

import argparse
import time

from switchboard.clients.sqs_admin import queue_names, sqs_client
from switchboard.settings import get_settings

# Imported inside the command below, not here: operations.dead_letters (through services, the Twilio and OpenAI SDKs)
# would slow `switchboard --help` and every other command (each command module loads to build
# the parser).


def _dlq(args: argparse.Namespace) -> int:
    from switchboard.operations.dead_letters import peek, redrive_letters, release

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


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dlq = commands.add_parser("dlq", help="see and replay messages that failed every attempt")
    dlq.add_argument("action", choices=["list", "redrive"])
    dlq.add_argument("--limit", type=int, default=100)
    dlq.add_argument("--message-sid", action="append", help="redrive only these (repeatable)")
    dlq.set_defaults(run=_dlq)
