"""The Celery app, configured from celeryconfig.py; the tasks and the worker's bootstep load only in the worker.

A leaf: it imports no other tasks module that would import it back (tasks.monitoring and
tasks.hop_timings import only switchboard and celery). A process that only publishes (the web, the
CLI) gets the app and nothing else.
"""

from typing import Any

from celery import Celery
from celery.signals import setup_logging

from switchboard.logs import configure_logging
from switchboard.settings import get_settings
from tasks import hop_timings  # noqa: F401 - its signal stamps every publish with its time (the hop histogram)
from tasks.monitoring import RedisEvents

# `include` is imported by the worker at start-up (Celery's loader), not by `import tasks`.
WORKER_MODULES = ["tasks.pipeline", "tasks.summaries", "tasks.task_metrics"]

app = Celery("switchboard", events=RedisEvents, include=WORKER_MODULES)
app.config_from_object("celeryconfig")
# By dotted path: the worker's blueprint loads the step when it builds itself, so no other process imports it.
app.steps["worker"].add("tasks.worker_steps:ReliabilityStep")


@setup_logging.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _use_our_logging(**_: Any) -> None:
    # Connecting this signal stops Celery from installing its own handlers.
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_format == "json")
