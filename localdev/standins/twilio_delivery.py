"""The stand-in's delivery model: a created message is queued, then sent, then delivered, a moment apart.

Each step updates what the Messages list and fetch return and, when the create gave a
StatusCallback, is posted to it as Twilio does: form-encoded, signed with X-Twilio-Signature.
The delay between steps is a control (`POST /_standin/delivery {"sent_delay_seconds": 0.5}`).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

DEFAULT_SENT_DELAY_SECONDS = 0.1
CALLBACK_TIMEOUT_SECONDS = 5.0
# What a status report moves a message through, each step one delay after the one before.
STEPS = ("sent", "delivered")

# (message SID, new status) -> the status callback's form, or None when the message is unknown.
Advance = Callable[[str, str], dict[str, str] | None]


class StatusClock:
    """Moves created messages on after a delay and posts their signed status callbacks.

    One scheduler thread for every message (a bench creates thousands), and a few threads that post
    the callbacks, so a slow or unreachable callback URL holds up no other message's steps.
    """

    def __init__(self, auth_token: str, advance: Advance) -> None:
        self.validator = RequestValidator(auth_token)
        self.advance = advance
        self.sent_delay_seconds = DEFAULT_SENT_DELAY_SECONDS
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, int, str, str, str | None]] = []  # a heap, soonest first
        self._order = itertools.count()  # breaks ties, so the heap never compares the rest
        self._generation = 0  # a reset moves it on, so a step already under way posts nothing
        self._thread: threading.Thread | None = None
        self._posting = ThreadPoolExecutor(max_workers=4, thread_name_prefix="standin-status-callback")
        self.callbacks: list[dict[str, Any]] = []  # every callback posted: url, params, status_code or error

    def schedule(self, message_sid: str, callback_url: str | None) -> None:
        now = time.monotonic()
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="standin-status-clock", daemon=True)
                self._thread.start()
            for number, status in enumerate(STEPS, start=1):
                heapq.heappush(self._due, (now + self.sent_delay_seconds * number, next(self._order),
                                           self._generation, message_sid, status, callback_url))
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(timeout=self._due[0][0] - time.monotonic() if self._due else None)
                _, _, generation, message_sid, status, callback_url = heapq.heappop(self._due)
                if generation != self._generation:
                    continue
            form = self.advance(message_sid, status)
            if form is not None and callback_url:
                self._posting.submit(self._post, generation, callback_url, form)

    def _post(self, generation: int, url: str, form: dict[str, str]) -> None:
        record: dict[str, Any] = {"url": url, "params": form}
        try:
            answer = requests.post(url, data=form, timeout=CALLBACK_TIMEOUT_SECONDS,
                                   headers={"X-Twilio-Signature": self.validator.compute_signature(url, form)})
            record["status_code"] = answer.status_code
        except requests.RequestException as exc:  # Twilio, too, just notes a callback that went nowhere
            record["error"] = type(exc).__name__
        with self._wake:
            if generation == self._generation:
                self.callbacks.append(record)

    def reset(self) -> None:
        with self._wake:
            self._generation += 1
            self._due.clear()
            self.callbacks.clear()
            self.sent_delay_seconds = DEFAULT_SENT_DELAY_SECONDS

    def read_callbacks(self) -> list[dict[str, Any]]:
        with self._wake:
            return list(self.callbacks)


def callback_form(resource: dict[str, Any], status: str) -> dict[str, str]:
    """Twilio's status callback parameters for a message resource (WhatsApp adds its channel fields)."""
    form = {
        "AccountSid": resource["account_sid"], "ApiVersion": resource["api_version"],
        "MessageSid": resource["sid"], "SmsSid": resource["sid"], "MessageStatus": status, "SmsStatus": status,
        "To": resource["to"],
    }
    if resource.get("from"):
        form["From"] = resource["from"]
    if resource.get("messaging_service_sid"):
        form["MessagingServiceSid"] = resource["messaging_service_sid"]
    if resource["to"].startswith("whatsapp:"):
        form |= {"ChannelPrefix": "whatsapp", "ChannelToAddress": resource["to"].removeprefix("whatsapp:"),
                 "StructuredMessage": "false"}
    return form


def add_delivery_control(app: Flask, clock: StatusClock) -> None:
    """`GET|POST /_standin/delivery` {sent_delay_seconds}: how long a created message stays queued (then sent)."""

    @app.route("/_standin/delivery", methods=["GET", "POST"])
    def delivery_settings() -> Response | tuple[Response, int]:
        if request.method == "POST":
            data = request.get_json(force=True, silent=True)
            delay = data.get("sent_delay_seconds") if isinstance(data, dict) else None
            if not isinstance(delay, int | float) or not 0 <= delay <= 60:
                return jsonify({"error": 'expected {"sent_delay_seconds": 0 to 60}'}), 400
            clock.sent_delay_seconds = float(delay)
        return jsonify({"sent_delay_seconds": clock.sent_delay_seconds})
