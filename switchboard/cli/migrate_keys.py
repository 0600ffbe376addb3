"""`switchboard migrate-keys`: move Redis keys of the layout before shards (issue 13) into their shards, once."""

from __future__ import annotations

import argparse
import time

from switchboard.settings import get_settings

# Imported inside the command below, not here: services (the Twilio and OpenAI SDKs) would slow
# `switchboard --help` and every other command.


def _migrate_keys(args: argparse.Namespace) -> int:
    from switchboard.services import build_store

    store = build_store(get_settings())
    try:
        move = store.move_legacy_keys(apply=args.yes)
    finally:
        store.redis.close()
    if not move.counts and not move.to_catch_up:
        print("no keys of the old layout: nothing to move")
        return 0
    for kind, count in sorted(move.counts.items()):
        print(f"{kind:<45} {count:>8}")
    if move.to_catch_up:
        since = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(min(at for _, at in move.to_catch_up) - 60))
        print(f"\n{len(move.to_catch_up)} accepted message(s) were never queued and their records are gone; once "
              f"the new version runs: switchboard catchup --since {since}")
    if not args.yes:
        print("\ndry run: nothing moved; stop the web and the workers, then run again with --yes")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    migrate = commands.add_parser(
        "migrate-keys", help="move Redis keys from the layout before shards into their shards (once, on upgrade)",
        description="Run with the web and the workers stopped: nothing else may write to Redis meanwhile. "
                    "Safe to run again (a key already moved is only removed from its old name).")
    migrate.add_argument("--yes", action="store_true", help="move them (without it: a dry run that counts)")
    migrate.set_defaults(run=_migrate_keys)
