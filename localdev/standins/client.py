"""A small client for a stand-in's `/_standin/` control API: read what it recorded, inject faults."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests


class StandinClient:
    """Talks to one stand-in (Twilio or OpenAI) at `base_url`; every call raises on an HTTP error."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _get(self, name: str) -> Any:
        response = self._session.get(f"{self.base_url}/_standin/{name}", timeout=self.timeout)
        response.raise_for_status()
        return response.json()[name]

    def _post(self, name: str, payload: dict[str, Any] | None = None) -> Any:
        response = self._session.post(f"{self.base_url}/_standin/{name}", json=payload or {}, timeout=self.timeout)
        if response.status_code == 400:
            # Show the stand-in's reason (e.g. an unknown fault field) rather than a bare "400".
            raise ValueError(f"stand-in refused {name}: {response.json().get('error')}")
        response.raise_for_status()
        return response.json()

    # Inspection
    def messages(self) -> list[dict[str, Any]]:
        """Twilio: messages accepted for sending, oldest first (sid, to, from, body, received_at, …)."""
        return list(self._get("messages"))

    def requests(self) -> list[dict[str, Any]]:
        """OpenAI: request bodies, oldest first. Twilio: method, path, params of every API call."""
        return list(self._get("requests"))

    def faults(self) -> list[dict[str, Any]]:
        """Faults not yet used up."""
        return list(self._get("faults"))

    def reset(self) -> None:
        """Forget recordings, inbound messages and faults; wake any stalled request."""
        self._post("reset")

    # Fault injection: faults apply in the order added, each to its next `times` requests (-1 = always).
    def add_fault(self, **fields: Any) -> None:
        self._post("faults", fields)

    def fail(self, status: int, times: int = 1, **extra: Any) -> None:
        """The next `times` requests fail with `status` (extra: retry_after, twilio_code, message, endpoint)."""
        self.add_fault(status=status, times=times, **extra)

    def stall(self, seconds: float, times: int = 1, **extra: Any) -> None:
        """The next `times` requests wait `seconds` before answering (to trip client timeouts)."""
        self.add_fault(delay_seconds=seconds, times=times, **extra)

    def set_reply(self, text: str, times: int = 1) -> None:
        """OpenAI: the next `times` completions answer `text`."""
        self.add_fault(reply=text, times=times)

    def set_reply_length(self, length: int, times: int = 1) -> None:
        """OpenAI: the next `times` completions answer `length` characters of paragraphs and sentences."""
        self.add_fault(reply_length=length, times=times)

    def add_inbound(
        self, from_: str, to: str, body: str, date_sent: datetime | None = None, sid: str | None = None
    ) -> dict[str, Any]:
        """Twilio: a message a user sent us, listed by the Messages list endpoint; returns its resource."""
        payload: dict[str, Any] = {"from": from_, "to": to, "body": body}
        if date_sent is not None:
            payload["date_sent"] = date_sent.isoformat()
        if sid is not None:
            payload["sid"] = sid
        return dict(self._post("inbound", payload))

    def close(self) -> None:
        self._session.close()
