"""Celery side of Switchboard: `celery -A tasks worker` finds the app here."""

from tasks import pipeline  # noqa: F401  (registers the tasks)
from tasks.celery import app

__all__ = ["app"]
