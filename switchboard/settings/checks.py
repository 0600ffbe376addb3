"""Checks of single values that several concerns share: http(s) URLs, loopback hosts, blanks that mean unset."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def blank_is_unset(value: object) -> object:
    # `.env.example` lists optional settings empty; an empty line must read as "not set", not as a bad value.
    return None if isinstance(value, str) and not value.strip() else value


def http_url(value: str | None) -> str | None:
    """An http(s) URL without its trailing slash; empty reads as unset."""
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


def plain_http_only_on_loopback(value: str | None) -> str | None:
    # An API key or auth token sent over plain http to another host is readable on the way.
    if value and value.startswith("http:") and not is_loopback_url(value):
        raise ValueError("plain http is allowed only for a loopback host; use https")
    return value


def entry_problem(error: Mapping[str, Any]) -> str:
    """One of pydantic's errors for an entry of an operator's YAML file (TOOLS_FILE, BOTS_FILE), in a line."""
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key {where!r}"
    reason = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {reason}" if where else reason
