"""Celery monitoring events over Redis, because SQS has no fanout.

With an SQS broker, Celery drops task events (and every consumer, Flower included, would leave an
orphan `celeryev-*` queue in SQS). Here the workers publish events to Redis instead, and Flower
reads them from there: tasks stay on SQS, monitoring travels beside them.

kombu's Redis transport speaks to one server, not to a Redis Cluster. With REDIS_URL naming a
cluster, events go to EVENTS_REDIS_URL (a small plain Redis beside it); without one, the workers
send no events (and say so once at start-up) and Flower refuses to start.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from celery.app.events import Events
from celery.events.dispatcher import EventDispatcher
from kombu.connection import Connection

from switchboard.settings import get_settings

log = logging.getLogger(__name__)

EVENTS_OFF = ("task events are off: REDIS_URL is a Redis Cluster, which Celery's event transport cannot use; "
              "set EVENTS_REDIS_URL to a plain Redis for Flower to show tasks")


def event_bus_url() -> str | None:
    """EVENTS_REDIS_URL, else REDIS_URL when that is one server; None: no event bus (REDIS_URL is a cluster)."""
    return get_settings().event_bus_url


class RedisEventDispatcher(EventDispatcher):  # type: ignore[misc]  # celery is untyped
    """Ignores the broker connection it is given and publishes on its own Redis connection (or nowhere)."""

    def __init__(self, connection: Any = None, hostname: str | None = None, enabled: bool = True,
                 channel: Any = None, *args: Any, **kwargs: Any) -> None:
        url = event_bus_url()
        if url is None:
            _say_events_are_off()
            # An in-memory connection nobody reads, disabled: the worker's events and heartbeats go nowhere.
            url, enabled = "memory://", False
        bus = Connection(url)  # type: ignore[no-untyped-call]  # kombu: unannotated
        super().__init__(bus, hostname, enabled, None, *args, **kwargs)


@functools.cache
def _say_events_are_off() -> None:
    log.warning(EVENTS_OFF)  # once per process: each worker builds its dispatcher more than once


class RedisEvents(Events):  # type: ignore[misc]  # celery is untyped
    dispatcher_cls = "tasks.monitoring:RedisEventDispatcher"


def use_event_bus_as_broker(app: Any, url: str) -> None:
    """For Flower only: its event receiver reads from `app.connection()`, so point that at the event bus.

    Flower's pages that need remote control (inspect, pool resize, revoke) cannot work: they
    broadcast over the broker, and SQS has no fanout.
    """
    app.conf.broker_url = url
    app.conf.broker_transport = None
    app.conf.broker_transport_options = {}
