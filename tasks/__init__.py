"""Celery side of Switchboard: `celery -A tasks worker` finds the app here."""

from tasks.celery import app
from tasks import pipeline  # noqa: F401  (registers the tasks)

__all__ = ["app"]
