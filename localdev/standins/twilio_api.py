"""A local Twilio Messages API: sends and lists messages in Twilio's JSON, with recorded calls and faults."""

from __future__ import annotations

import re
import threading
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from localdev.standins.control import add_control_routes
from localdev.standins.faults import FaultQueue
from localdev.standins.twilio_errors import twilio_error
from localdev.standins.twilio_resources import (
    API_VERSION,
    StoredMessage,
    find_message,
    list_page,
    message_resource,
    parse_time,
    utc_now,
)

MESSAGES_PATH = f"/{API_VERSION}/Accounts/<path_sid>/Messages.json"
MESSAGE_PATH = f"/{API_VERSION}/Accounts/<path_sid>/Messages/<message_sid>.json"
MAX_BODY = 1600
_ADDRESS = re.compile(r"^(whatsapp:|messenger:)?\+[1-9]\d{6,14}$")


class _State:
    """Everything the stand-in remembers; one lock because the server answers on many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.faults = FaultQueue()
        self.messages: list[StoredMessage] = []  # what the list endpoint returns: sent and inbound
        self.sent: list[dict[str, Any]] = []  # what tests inspect: accepted sends, in order
        self.requests: list[dict[str, Any]] = []  # every authenticated API call, refused or not

    def reset(self) -> None:
        self.faults.clear()
        with self.lock:
            self.messages.clear()
            self.sent.clear()
            self.requests.clear()

    def read(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            return list(records)


def create_twilio_standin(account_sid: str, auth_token: str) -> Flask:
    """A Flask app answering like api.twilio.com for one account (basic auth: sid + token)."""
    app = Flask("twilio_standin")
    state = _State()

    def refusal(path_sid: str) -> Response | None:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (account_sid, auth_token):
            response = twilio_error(401, 20003, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        if path_sid != account_sid:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        params = (request.form if request.method == "POST" else request.args).to_dict()
        with state.lock:
            # Recorded on arrival, before any stall, so a test can wait until a stalled call is in flight.
            state.requests.append(
                {"method": request.method, "path": request.path, "params": params, "received_at": _now()}
            )
        return None

    def injected(endpoint: str) -> Response | None:
        fault = state.faults.take(endpoint)
        if state.faults.stall(fault):
            return twilio_error(503, 20500, "stand-in was reset while this request stalled")
        if fault is None or (fault.status is None and fault.twilio_code is None):
            return None
        response = twilio_error(fault.status or 400, fault.twilio_code, fault.message)
        if fault.retry_after is not None:
            response.headers["Retry-After"] = f"{fault.retry_after:g}"
        return response

    def gate(path_sid: str, endpoint: str) -> Response | None:
        """Refuse bad credentials, then apply any injected fault; None lets the request through."""
        refused = refusal(path_sid)
        return refused if refused is not None else injected(endpoint)

    @app.post(MESSAGES_PATH)
    def create_message(path_sid: str) -> Response | tuple[Response, int]:
        early = gate(path_sid, "create")
        if early is not None:
            return early
        form = request.form
        to, from_, service, body = (form.get(k) for k in ("To", "From", "MessagingServiceSid", "Body"))
        if not to:
            return twilio_error(400, 21604)
        if not _ADDRESS.match(to):
            return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not from_ and not service:
            return twilio_error(400, 21603)
        if not body and not form.get("MediaUrl"):
            return twilio_error(400, 21602)
        if body and len(body) > MAX_BODY:
            return twilio_error(400, 21617)
        now = utc_now()
        fields: dict[str, Any] = dict(
            account_sid=account_sid, to=to, from_=from_, body=body or "", messaging_service_sid=service,
            direction="outbound-api", created=now,
        )
        # With only a messaging service Twilio answers "accepted" and picks the sender later.
        created = message_resource(**fields, status="queued" if from_ else "accepted")
        # Later reads (the list endpoint) see it sent, as they would a moment later on Twilio.
        listed = message_resource(**fields, status="sent", date_sent=now, sid=created["sid"])
        record = {
            "sid": created["sid"], "to": to, "from": from_, "body": body or "", "messaging_service_sid": service,
            "status_callback": form.get("StatusCallback"), "received_at": now.isoformat(),
        }
        with state.lock:
            state.messages.append(StoredMessage(listed, now))
            state.sent.append(record)
        # "Accepted, but the answer timed out": the message is sent and listed, the client hears nothing in time.
        if state.faults.stall(state.faults.take("create", after_accept=True)):
            return twilio_error(503, 20500, "stand-in was reset while this request stalled")
        return jsonify(created), 201

    @app.get(MESSAGES_PATH)
    def list_messages(path_sid: str) -> Response | tuple[Response, int]:
        early = gate(path_sid, "list")
        if early is not None:
            return early
        with state.lock:
            messages = list(state.messages)
        try:
            page = list_page(messages, request.args.to_dict(), request.path)
        except ValueError as exc:
            return twilio_error(400, 20001, f"Invalid parameter: {exc}")
        return jsonify(page), 200

    @app.get(MESSAGE_PATH)
    def fetch_message(path_sid: str, message_sid: str) -> Response | tuple[Response, int]:
        """One message by its SID, as Twilio's Message resource (what `client.messages(sid).fetch()` reads)."""
        early = gate(path_sid, "fetch")
        if early is not None:
            return early
        with state.lock:
            found = find_message(state.messages, message_sid)
        if found is None:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        return jsonify(found), 200

    @app.post("/_standin/inbound")
    def add_inbound() -> tuple[Response, int]:
        """Pretend a user wrote to us: JSON {from, to, body, date_sent?: ISO 8601, sid?}."""
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict) or not data.get("from") or not data.get("to"):
            return jsonify({"error": "expected a JSON object with 'from' and 'to'"}), 400
        try:
            sent_at = parse_time(data["date_sent"]).replace(microsecond=0) if data.get("date_sent") else utc_now()
        except ValueError as exc:
            return jsonify({"error": f"date_sent: {exc}"}), 400
        resource = message_resource(
            account_sid=account_sid, to=data["to"], from_=data["from"], body=data.get("body", ""),
            direction="inbound", status="received", created=sent_at, date_sent=sent_at,
            messaging_service_sid=data.get("messaging_service_sid"), sid=data.get("sid"),
        )
        with state.lock:
            state.messages.append(StoredMessage(resource, sent_at))
        return jsonify(resource), 201

    add_control_routes(
        app,
        faults=state.faults,
        reset=state.reset,
        records={"messages": lambda: state.read(state.sent), "requests": lambda: state.read(state.requests)},
        endpoints=("create", "list", "fetch"),
    )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return twilio_error(exc.code or 500, None, exc.description)

    return app


def _now() -> str:
    return utc_now().isoformat()
