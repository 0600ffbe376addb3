"""The Celery app, configured from celeryconfig.py (which derives everything from Settings)."""

from typing import Any

from celery import Celery
from celery.signals import setup_logging

from switchboard.logs import configure_logging
from switchboard.settings import get_settings
from tasks.monitoring import RedisEvents

app = Celery("switchboard", events=RedisEvents)
app.config_from_object("celeryconfig")


@setup_logging.connect
def _use_our_logging(**_: Any) -> None:
    # Connecting this signal stops Celery from installing its own handlers.
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_format == "json")


def _add_worker_steps() -> None:
    from tasks.worker_steps import ReliabilityStep

    app.steps["worker"].add(ReliabilityStep)


_add_worker_steps()
