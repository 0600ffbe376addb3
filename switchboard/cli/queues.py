"""`switchboard queues init`: create every queue and dead-letter queue (idempotent)."""

from __future__ import annotations

import argparse

from switchboard.clients.sqs_admin import init_queues
from switchboard.settings import get_settings


def _queues_init(_: argparse.Namespace) -> int:
    for url in init_queues(get_settings()):
        print(url)
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    queues = commands.add_parser("queues", help="manage the pipeline's SQS queues")
    queues_commands = queues.add_subparsers(dest="action", required=True)
    init = queues_commands.add_parser("init", help="create every queue and dead-letter queue (idempotent)")
    init.set_defaults(run=_queues_init)
