"""What an HTTP service answers a plain GET, without credentials and without following redirects."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 5.0


def http_status(url: str, timeout: float = TIMEOUT_SECONDS) -> int | None:
    """The status `GET url` answers (a redirect is its 3xx, not where it leads); None when nothing answers."""
    parts = urlsplit(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.hostname or "", parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", path, headers={"User-Agent": "switchboard-doctor"})
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):  # refused, timed out, TLS failure, not HTTP
        return None
    finally:
        connection.close()
