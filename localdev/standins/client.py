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

    def rate_limit(self, code: int = 20429, times: int = 1, retry_after: float | None = None) -> None:
        """Twilio: the next `times` creates are refused for rate, as Twilio answers: 429 with `code`
        (20429: the account's concurrent requests; 63018: the sender's rate), and a Retry-After if given."""
        self.fail(429, times=times, twilio_code=code, retry_after=retry_after)

    # --- the account's load (issue 13): requests in flight, latency, Twilio's concurrency limit ---
    def load(self) -> dict[str, Any]:
        """Twilio: {in_flight, max_in_flight (per endpoint and "all"), latency_seconds, concurrency_limit}."""
        response = self._session.get(f"{self.base_url}/_standin/load", timeout=self.timeout)
        response.raise_for_status()
        return dict(response.json())

    def max_in_flight(self, endpoint: str = "create") -> int:
        """Twilio: the most `endpoint` requests (create, list, fetch, typing, or all) in flight at once since reset."""
        return int(self.load()["max_in_flight"].get(endpoint, 0))

    def set_latency(self, seconds: float, endpoint: str = "create") -> None:
        """Twilio: every `endpoint` request takes `seconds` before it is answered (reset: none)."""
        self._post("load", {"latency_seconds": {endpoint: seconds}})

    def set_concurrency_limit(self, limit: int | None) -> None:
        """Twilio: requests past `limit` in flight (all endpoints) are refused with 429 / 20429 (None: no limit)."""
        self._post("load", {"concurrency_limit": limit})

    def next_tool_calls(self, calls: list[dict[str, Any]]) -> None:
        """OpenAI: the next completion asks for exactly these tool calls ({"name", "arguments"} each)."""
        response = self._session.post(f"{self.base_url}/_standin/openai/next-tool-calls", json=calls,
                                      timeout=self.timeout)
        response.raise_for_status()

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

    # --- media (issue 11): Twilio's media URLs and the host they redirect to; OpenAI's transcriptions ---
    def upload_media(self, data: bytes, content_type: str, **options: str | int) -> dict[str, Any]:
        """Twilio: store a file; returns {url (for MediaUrl0), media_sid, message_sid, ...}.

        options: message_sid, redirect_to (the API redirects there instead), fail_status and
        fail_times (the media host answers that status for that many fetches).
        """
        response = self._session.post(f"{self.base_url}/_standin/media", data=data, params=options,
                                      headers={"Content-Type": content_type}, timeout=self.timeout)
        response.raise_for_status()
        return dict(response.json())

    def media_host(self) -> str:
        """Twilio: host:port of the media host (for TWILIO_MEDIA_REDIRECT_HOSTS); starts it if need be."""
        response = self._session.get(f"{self.base_url}/_standin/media-host", timeout=self.timeout)
        response.raise_for_status()
        return str(response.json()["host"])

    def media_fetches(self) -> list[dict[str, Any]]:
        """Twilio: media requests, oldest first: host ("api" or "cdn"), media_sid, path, authorization (bool)."""
        return list(self._get("media-fetches"))

    def transcriptions(self) -> list[dict[str, Any]]:
        """OpenAI: transcription uploads, oldest first: model, filename, content_type, size."""
        return list(self._get("transcriptions"))

    # --- delivery (issue 11): status progression and Twilio's status callbacks ---
    def set_sent_delay(self, seconds: float) -> None:
        """Twilio: a created message is queued this long, then sent (then delivered as long after); reset: 0.1 s."""
        self._post("delivery", {"sent_delay_seconds": seconds})

    def callbacks(self) -> list[dict[str, Any]]:
        """Twilio: status callbacks posted, oldest first: url, params, status_code (or error)."""
        return list(self._get("callbacks"))

    def close(self) -> None:
        self._session.close()
