"""The `switchboard` command: one module per command group, registered here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from switchboard.cli import catchup, dlq, doctor, eval, forget, handoff, knowledge, migrate_keys, queues, status
from switchboard.settings import ConfigError

# Each module adds its subcommands to the parser; the order here is the order `--help` lists them.
COMMAND_GROUPS = (queues, status, doctor, dlq, catchup, forget, migrate_keys, handoff, knowledge, eval)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard", description="Operator tasks: queues, status, doctor, dead letters, catch-up, forgetting a person.")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
