"""Logging set-up: the inbound MessageSid rides along as a correlation id in every line."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.message_sid = correlation_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message_sid": getattr(record, "message_sid", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


@contextmanager
def correlated(message_sid: str) -> Iterator[None]:
    token = correlation_id.set(message_sid)
    try:
        yield
    finally:
        correlation_id.reset(token)


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(
        JsonFormatter() if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(message_sid)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # These log request lines with phone numbers and headers at INFO; keep them for debugging only.
    if root.level > logging.DEBUG:
        for noisy in ("twilio.http_client", "httpx", "httpx2", "botocore", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
