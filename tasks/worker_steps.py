"""Worker bootstep: check delivery safety, then run the visibility heartbeat and the outbox relay."""

from __future__ import annotations

from typing import Any

from celery import bootsteps

from switchboard.clients.sqs_admin import sqs_client
from switchboard.services import get_services
from tasks.outbox_relay import OutboxRelay
from tasks.publishing import Publisher
from tasks.startup_check import ensure_safe
from tasks.task_metrics import serve_worker_metrics
from tasks.visibility import VisibilityHeartbeat, heartbeat_client

# A task held longer than this is presumed stuck; its message is left to time out and go elsewhere.
MAX_HOLD_SECONDS = 15 * 60


class ReliabilityStep(bootsteps.StartStopStep):  # type: ignore[misc]  # celery is untyped
    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.heartbeat: VisibilityHeartbeat | None = None
        self.relay: OutboxRelay | None = None

    def start(self, worker: Any) -> None:
        services = get_services()
        settings = services.settings
        sqs = sqs_client(settings)
        ensure_safe(worker.app.conf, sqs, settings)
        self.heartbeat = VisibilityHeartbeat(heartbeat_client(settings), settings.sqs_visibility_timeout,
                                             MAX_HOLD_SECONDS)
        self.relay = OutboxRelay(services.store, Publisher(settings.publish_timeout_seconds), twilio=services.replies)
        self.heartbeat.start()
        self.relay.start()
        if settings.worker_metrics_port:
            serve_worker_metrics(settings.worker_metrics_port, settings.worker_metrics_address)

    def stop(self, worker: Any) -> None:
        for part in (self.relay, self.heartbeat):
            if part is not None:
                part.stop()
