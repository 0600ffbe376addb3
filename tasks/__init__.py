"""Celery side of Switchboard: `celery -A tasks worker` finds the app here."""

from tasks import pipeline, task_metrics  # noqa: F401  (registers the tasks and their metrics)
from tasks.celery import app

__all__ = ["app"]
