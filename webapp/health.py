"""Liveness (/healthz), readiness (/readyz) and Prometheus metrics (/metrics)."""

from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from switchboard.health import readiness
from switchboard.queues import queue_names

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok\n", 200


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    settings = current_app.config["SETTINGS"]
    checks = readiness(current_app.config["STORE"], current_app.config["SQS_ADMIN"], queue_names(settings))
    ready = all(value == "ok" for value in checks.values())
    return jsonify(ready=ready, checks=checks), (200 if ready else 503)


@bp.get("/metrics")
def metrics() -> Response:
    # Under gunicorn each worker process counts on its own; the multiprocess collector adds them up.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    body = generate_latest(process_registry) + generate_latest(current_app.config["GAUGES"])
    return Response(body, mimetype="text/plain; version=0.0.4")
