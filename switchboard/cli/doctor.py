"""`switchboard doctor`: every setting checked against the real service, a table of ✔/✘/! with the fix."""

from __future__ import annotations

import argparse
import os
from urllib.parse import urlsplit

from switchboard.operations.doctor.flower_checks import flower_url
from switchboard.settings import Settings, get_settings

# The vendor clients are imported inside the command, not here: the SDKs would slow `switchboard --help`.


def _doctor(args: argparse.Namespace) -> int:
    from switchboard.clients.openai_models import ModelCatalog
    from switchboard.clients.sqs_admin import sqs_client
    from switchboard.clients.twilio_webhooks import WebhookReader
    from switchboard.operations.doctor.flower_checks import check_flower
    from switchboard.operations.doctor.http_probe import http_status
    from switchboard.operations.doctor.openai_checks import check_openai
    from switchboard.operations.doctor.queue_checks import check_queues
    from switchboard.operations.doctor.redis_checks import check_redis
    from switchboard.operations.doctor.results import exit_code, table
    from switchboard.operations.doctor.twilio_checks import check_twilio
    from switchboard.operations.doctor.web_checks import check_public_base_url
    from switchboard.services import build_store

    settings = get_settings()
    store = build_store(settings)
    try:
        results = [
            *check_redis(store.redis, redis_address(settings)),
            *check_queues(sqs_client(settings, read_timeout=10), settings),
            check_public_base_url(settings, http_status),
            *check_twilio(WebhookReader.from_settings(settings), settings),
            *check_openai(ModelCatalog.from_settings(settings), settings),
            check_flower(os.environ, settings.on_aws, args.flower_url or flower_url(os.environ), http_status),
        ]
    finally:
        store.redis.close()
    print(table(results))
    return exit_code(results)


def redis_address(settings: Settings) -> str:
    """host:port/db of REDIS_URL: never its password."""
    url = urlsplit(settings.redis_url.get_secret_value())
    if not url.hostname:  # unix:///run/redis.sock
        return url.path
    return f"{url.hostname}:{url.port or 6379}{url.path or '/0'}"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = commands.add_parser(
        "doctor", help="check every setting against Redis, SQS, Twilio, OpenAI and Flower (exit 1 when one fails)",
        description="Each row: ✔ as it should be, ✘ wrong (with the fix), ! cannot tell from here (not a failure).")
    doctor.add_argument("--flower-url", help="where Flower answers (default: FLOWER_ADDRESS and FLOWER_PORT, "
                                             "as flowerconfig.py binds it)")
    doctor.set_defaults(run=_doctor)
