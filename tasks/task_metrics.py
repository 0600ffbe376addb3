"""Task metrics from Celery's signals (so the tasks stay thin), and the worker's /metrics and /healthz."""

from __future__ import annotations

import time
from http.server import ThreadingHTTPServer
from typing import Any

from celery.signals import task_failure, task_postrun, task_prerun, task_retry

from switchboard.errors import NotYourTurn
from switchboard.metrics import TASK_DURATION, TASK_RETRIES, TASK_RUNS
from tasks import worker_http
from tasks.sqs_faults import process_faults

_started: dict[str, float] = {}


@task_prerun.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _start(task_id: str, **_: Any) -> None:
    _started[task_id] = time.perf_counter()


@task_postrun.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _finish(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id, None)
    if started is not None:
        TASK_DURATION.labels(task=task.name).observe(time.perf_counter() - started)
    if state == "SUCCESS":
        TASK_RUNS.labels(task=task.name, outcome="success").inc()


@task_retry.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _retry(sender: Any, reason: Any = None, **_: Any) -> None:
    cause = getattr(reason, "exc", reason)
    TASK_RUNS.labels(task=sender.name, outcome="retry").inc()
    TASK_RETRIES.labels(task=sender.name, reason="turn" if isinstance(cause, NotYourTurn) else "transient").inc()


@task_failure.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _failure(sender: Any, **_: Any) -> None:
    TASK_RUNS.labels(task=sender.name, outcome="failure").inc()


def serve_worker_metrics(port: int, address: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Expose this worker's metrics and health over HTTP (threads pool: one process, so one registry)."""
    return worker_http.serve(address, port, process_faults().faults)
