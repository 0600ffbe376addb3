"""Liveness (/healthz), readiness (/readyz) and Prometheus metrics (/metrics)."""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from switchboard.operations.health import web_readiness
from switchboard.settings import Settings

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok\n", 200


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    # Redis is asked here (it is what readiness means); SQS comes from the background watch.
    ready, checks = web_readiness(current_app.config["STORE"], current_app.config["QUEUE_WATCH"])
    return jsonify(ready=ready, checks=checks), (200 if ready else 503)


@bp.get("/metrics")
def metrics() -> Response:
    _require_metrics_token(current_app.config["SETTINGS"])
    # Under gunicorn each worker process counts on its own; the multiprocess collector adds them up.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        MultiProcessCollector(process_registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves its __init__ unannotated
    else:
        process_registry = REGISTRY
    body = generate_latest(process_registry) + generate_latest(current_app.config["GAUGES"])
    return Response(body, mimetype="text/plain; version=0.0.4")


def _require_metrics_token(settings: Settings) -> None:
    """METRICS_BEARER_TOKEN guards /metrics; without one it is served only off AWS (local runs, tests)."""
    token = settings.metrics_bearer_token
    if token is None:
        if settings.sqs_endpoint_url is None:  # production: never public, so as if it did not exist
            abort(404)
        return
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip().encode(),
                                                             token.get_secret_value().encode()):
        abort(Response("bearer token required\n", status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}))
