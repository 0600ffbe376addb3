"""Flower's settings, read by `celery -A tasks flower` from the working directory.

Flower only needs the monitoring events, which travel over Redis (see tasks/monitoring.py), so its
broker connection is pointed there before it starts. With REDIS_URL naming a Redis Cluster they need
EVENTS_REDIS_URL (one plain server): without it Flower refuses to start, as it would show nothing.

Flower shows every task's ids, arguments, tracebacks and worker hosts, so it refuses to start
without authentication unless FLOWER_UNAUTHENTICATED=true says that is meant (the local run does),
and it listens on 127.0.0.1 unless FLOWER_ADDRESS names another address.
"""

import os
import sys
from typing import NoReturn

from tasks import app
from tasks.monitoring import event_bus_url, use_event_bus_as_broker

# Flower 2.x's OAuth needs all of these (it reads them itself): who may log in, the provider's
# login handler (e.g. flower.views.auth.GoogleAuth2LoginHandler) and the application's key and secret.
_OAUTH_VARIABLES = ("FLOWER_AUTH", "FLOWER_AUTH_PROVIDER", "FLOWER_OAUTH2_KEY", "FLOWER_OAUTH2_SECRET")
_TRUE = ("1", "true", "yes", "on")


def _refuse(reason: str) -> NoReturn:
    # Raised while Flower parses this file, before it binds a port: the message is the last line it prints.
    print(f"flower: refusing to start: {reason}", file=sys.stderr)
    raise SystemExit(2)


def _basic_auth_credentials() -> list[str]:
    credentials = [item for item in os.environ.get("FLOWER_BASIC_AUTH", "").split(",") if item]
    malformed = [item for item in credentials if ":" not in item or item.startswith(":") or item.endswith(":")]
    if malformed:
        _refuse("FLOWER_BASIC_AUTH must be user:password (comma-separated for several)")
    return credentials


def _oauth_configured() -> bool:
    present = [name for name in _OAUTH_VARIABLES if os.environ.get(name)]
    if present and len(present) < len(_OAUTH_VARIABLES):
        missing = ", ".join(name for name in _OAUTH_VARIABLES if name not in present)
        _refuse(f"OAuth needs {', '.join(_OAUTH_VARIABLES)} together; missing {missing}")
    return bool(present)


_event_bus = event_bus_url()
if _event_bus is None:
    _refuse("REDIS_URL is a Redis Cluster, and Celery's task events need one plain Redis server: set "
            "EVENTS_REDIS_URL (e.g. a small non-cluster ElastiCache node) on the workers and on Flower")
use_event_bus_as_broker(app, _event_bus)

port = int(os.environ.get("FLOWER_PORT", "5555"))
address = os.environ.get("FLOWER_ADDRESS") or "127.0.0.1"
# Keep what Flower shows bounded; it is a live view, not an archive.
max_tasks = 10000

_credentials = _basic_auth_credentials()
# Always set: Flower itself would read an empty FLOWER_BASIC_AUTH= as one empty credential.
basic_auth = _credentials
if not _credentials and not _oauth_configured() and os.environ.get("FLOWER_UNAUTHENTICATED", "").strip().lower() not in _TRUE:
    _refuse("no authentication configured. Set FLOWER_BASIC_AUTH=user:password (or Flower's OAuth "
            "variables FLOWER_AUTH, FLOWER_AUTH_PROVIDER, FLOWER_OAUTH2_KEY, FLOWER_OAUTH2_SECRET), "
            "or FLOWER_UNAUTHENTICATED=true to run it open on purpose (local use only)")
