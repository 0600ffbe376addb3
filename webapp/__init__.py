"""The Flask app that takes Twilio's webhooks: authenticate, accept, acknowledge."""

from __future__ import annotations

from typing import Any

from flask import Flask
from prometheus_client import CollectorRegistry
from werkzeug.middleware.proxy_fix import ProxyFix

from switchboard.clients.sqs_admin import queue_names, sqs_client
from switchboard.logs import configure_logging
from switchboard.operations.handoff_metrics import PausedConversationsCollector
from switchboard.operations.health import QueueWatch
from switchboard.operations.queue_metrics import BacklogCollector, QueueDepthCollector
from switchboard.services import build_store
from switchboard.settings import check_web_settings, get_settings
from switchboard.store import ConversationStore
from webapp.health import bp as health_bp
from webapp.messages import bp as messages_bp
from webapp.status import bp as status_bp

MAX_REQUEST_BYTES = 64 * 1024  # a Twilio message webhook is a few KB; anything bigger is not Twilio


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. `test_config` may carry SETTINGS, STORE and HAND_OVER to replace the real ones."""
    test_config = test_config or {}
    settings = test_config.get("SETTINGS") or get_settings()  # fails at start-up, naming every bad variable
    check_web_settings(settings)
    configure_logging(settings.log_level, json_lines=settings.log_format == "json")
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.config["SETTINGS"] = settings
    # Built once per process; redis-py and boto3 connect on first use, so nothing is dialled here.
    app.config["STORE"] = build_store(settings)
    app.config["SQS_ADMIN"] = sqs_client(settings, connect_timeout=1, read_timeout=2)
    app.config.update(test_config)
    # SQS is watched from a background thread (started on first use): no request ever waits on it.
    app.config.setdefault("QUEUE_WATCH", QueueWatch(app.config["SQS_ADMIN"], queue_names(settings)))
    app.config["GAUGES"] = scrape_time_gauges(app.config["STORE"], app.config["QUEUE_WATCH"])
    # Behind a load balancer the request URL must be rebuilt from X-Forwarded-* for the signature
    # check (unless PUBLIC_BASE_URL pins it), but only from the hops we run: a header the client
    # wrote itself would let a request signed for another deployment pass here.
    hops = settings.proxy_hops
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    app.register_blueprint(health_bp)
    app.register_blueprint(messages_bp)
    app.register_blueprint(status_bp)
    return app


def scrape_time_gauges(store: ConversationStore, watch: QueueWatch) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(QueueDepthCollector(watch))
    registry.register(BacklogCollector(store))
    registry.register(PausedConversationsCollector(store))  # hand-off to a person (issue 14)
    return registry
