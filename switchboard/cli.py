"""The `switchboard` console command: operator tasks (queues, dead letters) and the local chat."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from switchboard.settings import ConfigError, get_settings


def _queues_init(_: argparse.Namespace) -> int:
    from switchboard.queues import init_queues

    for url in init_queues(get_settings()):
        print(url)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    queues = commands.add_parser("queues", help="manage the pipeline's SQS queues")
    queues_commands = queues.add_subparsers(dest="action", required=True)
    init = queues_commands.add_parser("init", help="create every queue and dead-letter queue (idempotent)")
    init.set_defaults(run=_queues_init)

    for register in _extra_commands:
        register(commands)
    return parser


# Other modules add their subcommands here (kept out of this file so each command stays small).
_extra_commands: list[Callable[[argparse._SubParsersAction], None]] = []  # type: ignore[type-arg]


def main(argv: Sequence[str] | None = None) -> int:
    _load_extra_commands()
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2


def _load_extra_commands() -> None:
    import importlib

    for module in ("switchboard.cli_local", "switchboard.cli_operations", "switchboard.cli_privacy"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        if mod.register not in _extra_commands:
            _extra_commands.append(mod.register)


if __name__ == "__main__":
    sys.exit(main())
