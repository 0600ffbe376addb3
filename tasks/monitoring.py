"""Celery monitoring events over Redis, because SQS has no fanout.

With an SQS broker, Celery drops task events (and every consumer, Flower included, would leave an
orphan `celeryev-*` queue in SQS). Here the workers publish events to Redis instead, and Flower
reads them from there: tasks stay on SQS, monitoring travels beside them.
"""

from __future__ import annotations

from typing import Any

from celery.app.events import Events
from celery.events.dispatcher import EventDispatcher
from kombu.connection import Connection

from switchboard.settings import get_settings


def event_bus_url() -> str:
    return get_settings().redis_url.get_secret_value()


class RedisEventDispatcher(EventDispatcher):  # type: ignore[misc]  # celery is untyped
    """Ignores the broker connection it is given and publishes on its own Redis connection."""

    def __init__(self, connection: Any = None, hostname: str | None = None, enabled: bool = True,
                 channel: Any = None, *args: Any, **kwargs: Any) -> None:
        bus = Connection(event_bus_url())  # type: ignore[no-untyped-call]  # kombu: unannotated
        super().__init__(bus, hostname, enabled, None, *args, **kwargs)


class RedisEvents(Events):  # type: ignore[misc]  # celery is untyped
    dispatcher_cls = "tasks.monitoring:RedisEventDispatcher"


def use_event_bus_as_broker(app: Any) -> None:
    """For Flower only: its event receiver reads from `app.connection()`, so point that at Redis.

    Flower's pages that need remote control (inspect, pool resize, revoke) cannot work: they
    broadcast over the broker, and SQS has no fanout.
    """
    app.conf.broker_url = event_bus_url()
    app.conf.broker_transport = None
    app.conf.broker_transport_options = {}
