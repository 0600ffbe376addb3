"""Liveness for scripts and load balancers."""

from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok\n", 200
