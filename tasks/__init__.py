"""Celery side of Switchboard: `celery -A tasks worker` finds the app here; the task modules load in the worker only."""

from tasks.celery import app

__all__ = ["app"]
