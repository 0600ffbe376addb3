"""Twilio's Message resource and list page as the real API shapes them, so the twilio SDK parses them."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

API_VERSION = "2010-04-01"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass
class StoredMessage:
    """A message the list endpoint can return: the JSON resource plus its send time for filtering."""

    resource: dict[str, Any]
    sent_at: datetime


def new_sid(prefix: str) -> str:
    """Twilio SIDs are a two-letter type prefix and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def utc_now() -> datetime:
    # Twilio's dates have whole seconds; keeping ours the same makes DateSent filters behave alike.
    return datetime.now(UTC).replace(microsecond=0)


def rfc2822(moment: datetime) -> str:
    """Twilio's date format, e.g. 'Thu, 24 Aug 2023 05:01:45 +0000' (the SDK ignores any other offset)."""
    return format_datetime(moment.astimezone(UTC))


def num_segments(body: str) -> int:
    """SMS segments: 160/153 characters for plain text, 70/67 UTF-16 units otherwise (GSM-7 approximated by ASCII)."""
    if body.isascii():
        single, multi, length = 160, 153, len(body)
    else:
        single, multi, length = 70, 67, len(body.encode("utf-16-le")) // 2
    return 1 if length <= single else math.ceil(length / multi)


def message_resource(
    *,
    account_sid: str,
    to: str,
    from_: str | None,
    body: str,
    direction: str,
    status: str,
    created: datetime,
    date_sent: datetime | None = None,
    messaging_service_sid: str | None = None,
    sid: str | None = None,
) -> dict[str, Any]:
    sid = sid or new_sid("SM")
    base = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": rfc2822(created),
        "date_sent": rfc2822(date_sent) if date_sent else None,
        "date_updated": rfc2822(date_sent or created),
        "direction": direction,
        "error_code": None,
        "error_message": None,
        "from": from_,
        "messaging_service_sid": messaging_service_sid,
        "num_media": "0",
        "num_segments": str(num_segments(body)),  # Twilio sends counts as strings
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {"media": f"{base}/Media.json", "feedback": f"{base}/Feedback.json"},
        "to": to,
        "uri": f"{base}.json",
    }


def parse_time(value: str) -> datetime:
    """An ISO 8601 time such as the SDK's '2024-05-01T05:01:45Z'; without an offset it is UTC."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_when(value: str) -> date | datetime:
    """A DateSent filter value: 'YYYY-MM-DD' (a whole day) or an ISO 8601 time."""
    return date.fromisoformat(value) if len(value) == 10 else parse_time(value)


def _compare(sent_at: datetime, bound: date | datetime) -> int:
    """-1, 0 or 1 as sent_at is before, at or after bound; a day bound compares whole days."""
    left: date | datetime = sent_at.date() if not isinstance(bound, datetime) else sent_at
    return (left > bound) - (left < bound)  # type: ignore[operator]


def matches(message: StoredMessage, query: Mapping[str, str]) -> bool:
    """Twilio's list filters: To, From, DateSent (same day), DateSent> (on or after), DateSent< (on or before)."""
    resource = message.resource
    if "To" in query and resource["to"] != query["To"]:
        return False
    if "From" in query and resource["from"] != query["From"]:
        return False
    checks = {"DateSent": (0,), "DateSent>": (0, 1), "DateSent<": (-1, 0)}
    return all(
        _compare(message.sent_at, parse_when(query[key])) in allowed
        for key, allowed in checks.items()
        if key in query
    )


def find_message(messages: list[StoredMessage], sid: str) -> dict[str, Any] | None:
    """The resource of the message with this SID (inbound or sent), as the fetch endpoint returns it."""
    return next((m.resource for m in messages if m.resource["sid"] == sid), None)


def list_page(messages: list[StoredMessage], query: Mapping[str, str], path: str) -> dict[str, Any]:
    """One page of the filtered messages, newest first, with Twilio's paging keys (raises ValueError)."""
    page = int(query.get("Page", 0))
    page_size = min(int(query.get("PageSize", DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE)
    if page < 0 or page_size < 1:
        raise ValueError("Page must be >= 0 and PageSize >= 1")
    selected = [m for m in messages if matches(m, query)]
    # Stable sort of the reversed insertion order: newest first, later-added first on equal seconds.
    selected = sorted(reversed(selected), key=lambda m: m.sent_at, reverse=True)
    start = page * page_size
    rows = [m.resource for m in selected[start : start + page_size]]
    filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

    def page_uri(number: int) -> str:
        return f"{path}?{urlencode({**filters, 'PageSize': page_size, 'Page': number})}"

    return {
        "end": start + max(len(rows) - 1, 0),
        "first_page_uri": page_uri(0),
        "messages": rows,
        "next_page_uri": page_uri(page + 1) if start + page_size < len(selected) else None,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        "start": start,
        "uri": page_uri(page),
    }
