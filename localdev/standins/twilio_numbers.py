"""Where the stand-in's numbers send incoming messages, as Twilio's API shows it (what `switchboard doctor` reads).

IncomingPhoneNumbers (`sms_url`, `sms_method`), the Senders API (`webhook.callback_url`,
`status_callback_url`) and messaging services (`inbound_request_url`, `use_inbound_webhook_on_number`),
in Twilio's JSON. Control: `POST /_standin/numbers` {address, url, method?, status_callback?,
application_sid?} adds or changes a number ("+1…") or WhatsApp sender ("whatsapp:+1…");
`POST /_standin/services` {sid, inbound_request_url, …} a messaging service. A reset goes back to the
numbers the stand-in started with (`configure_numbers`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request

from localdev.standins.twilio_errors import twilio_error
from localdev.standins.twilio_number_resources import (
    legacy_page,
    number_resource,
    sender_resource,
    service_resource,
    v2_page,
)
from localdev.standins.twilio_resources import API_VERSION

NUMBERS_PATH = f"/{API_VERSION}/Accounts/<path_sid>/IncomingPhoneNumbers.json"
SENDERS_PATH = "/v2/Channels/Senders"  # on messaging.twilio.com, which the stand-in also plays
SERVICE_PATH = "/v1/Services/<service_sid>"
_EXTENSION = "switchboard_numbers"  # app.extensions key


@dataclass
class _Numbers:
    account_sid: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    started_with: list[dict[str, Any]] = field(default_factory=list)  # control payloads a reset goes back to
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)  # address -> resource
    services: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, data: dict[str, Any]) -> dict[str, Any]:
        address = str(data["address"])
        with self.lock:
            previous = self.numbers.get(address)
            maker = sender_resource if address.startswith("whatsapp:") else number_resource
            resource = maker(self.account_sid, address, data, previous["sid"] if previous else None)
            self.numbers[address] = resource
            return resource

    def reset(self) -> None:
        with self.lock:
            self.numbers.clear()
            self.services.clear()
        for data in self.started_with:
            self.put(data)


def add_number_routes(app: Flask, account_sid: str, auth_token: str) -> None:
    """Serve the numbers' configuration on the Twilio stand-in `app` (basic auth: sid + token)."""
    state = _Numbers(account_sid)
    app.extensions[_EXTENSION] = state

    def refused() -> Response | None:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (account_sid, auth_token):
            response = twilio_error(401, 20003, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        return None

    @app.get(NUMBERS_PATH)
    def list_numbers(path_sid: str) -> Response:
        if (early := refused()) is not None:
            return early
        if path_sid != account_sid:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        # Twilio's PhoneNumber filter matches any part of the number.
        wanted = request.args.get("PhoneNumber", "")
        with state.lock:
            rows = [r for a, r in state.numbers.items() if not a.startswith("whatsapp:") and wanted in a]
        return jsonify(legacy_page(rows, "incoming_phone_numbers"))

    @app.get(SENDERS_PATH)
    def list_senders() -> Response:
        if (early := refused()) is not None:
            return early
        channel = request.args.get("Channel")
        if not channel:
            return twilio_error(400, 20001, "Invalid parameter: Channel is required")
        with state.lock:
            rows = [r for a, r in state.numbers.items() if a.startswith(f"{channel}:")]
        return jsonify(v2_page(rows, "senders"))

    @app.get(SERVICE_PATH)
    def fetch_service(service_sid: str) -> Response:
        if (early := refused()) is not None:
            return early
        with state.lock:
            service = state.services.get(service_sid)
        if service is None:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        return jsonify(service)

    add_number_control(app, state)


def add_number_control(app: Flask, state: _Numbers) -> None:
    @app.post("/_standin/numbers")
    def put_number() -> tuple[Response, int]:
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict) or not str(data.get("address", "")).removeprefix("whatsapp:").startswith("+"):
            return jsonify({"error": "expected a JSON object with 'address' (+1… or whatsapp:+1…)"}), 400
        return jsonify(state.put(data)), 201

    @app.post("/_standin/services")
    def put_service() -> tuple[Response, int]:
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict) or not str(data.get("sid", "")).startswith("MG"):
            return jsonify({"error": "expected a JSON object with 'sid' (MG…)"}), 400
        resource = service_resource(state.account_sid, data)
        with state.lock:
            state.services[resource["sid"]] = resource
        return jsonify(resource), 201

    @app.before_request
    def forget_on_reset() -> None:
        # The shared control routes own POST /_standin/reset; numbers go back to how the stand-in started.
        if request.method == "POST" and request.path == "/_standin/reset":
            state.reset()


def configure_numbers(app: Flask, addresses: list[str], public_base_url: str) -> None:
    """Start with `addresses` pointing at `public_base_url`, as a deployment's own numbers would."""
    state: _Numbers = app.extensions[_EXTENSION]
    state.started_with = [{"address": address, "url": f"{public_base_url}/twilio/messages",
                           "status_callback": f"{public_base_url}/twilio/status"} for address in addresses]
    state.reset()
