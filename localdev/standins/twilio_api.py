"""A local Twilio Messages API: sends and lists messages in Twilio's JSON, with recorded calls and faults.

Also Twilio's Messaging API typing indicator, Content templates (ContentSid, ContentVariables),
status progression with signed status callbacks (localdev/standins/twilio_delivery.py), and the
account's load: requests in flight, a latency and Twilio's concurrency limit (twilio_load.py).
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from localdev.standins.control import add_control_routes
from localdev.standins.faults import FaultQueue
from localdev.standins.twilio_content import content_refusal, rendered_body
from localdev.standins.twilio_delivery import StatusClock, add_delivery_control, callback_form
from localdev.standins.twilio_errors import twilio_error
from localdev.standins.twilio_load import AccountLoad, add_load_control
from localdev.standins.twilio_numbers import add_number_routes
from localdev.standins.twilio_resources import (
    API_VERSION,
    StoredMessage,
    find_message,
    list_page,
    message_resource,
    parse_time,
    rfc2822,
    utc_now,
)

MESSAGES_PATH = f"/{API_VERSION}/Accounts/<path_sid>/Messages.json"
MESSAGE_PATH = f"/{API_VERSION}/Accounts/<path_sid>/Messages/<message_sid>.json"
TYPING_PATH = "/v2/Indicators/Typing.json"  # on messaging.twilio.com, which the stand-in also plays
_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
MAX_BODY = 1600
_ADDRESS = re.compile(r"^(whatsapp:|messenger:)?\+[1-9]\d{6,14}$")
ENDPOINTS = ("create", "list", "fetch", "typing")


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

    def advance(self, sid: str, status: str) -> dict[str, str] | None:
        """Move a sent message on to `status` (what lists and fetches show); returns its status callback form."""
        now = utc_now()
        with self.lock:
            index = next((i for i, m in enumerate(self.messages) if m.resource["sid"] == sid), None)
            if index is None:
                return None  # reset meanwhile
            resource = dict(self.messages[index].resource, status=status, date_updated=rfc2822(now))
            if status == "sent":
                resource["date_sent"] = rfc2822(now)
            self.messages[index].resource = resource  # a new dict: a list being serialised keeps the old one
            for record in self.sent:
                if record["sid"] == sid:
                    record["status"] = status
                    record[f"{status}_at"] = time.time()
        return callback_form(resource, status)

    def read(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            return list(records)


def create_twilio_standin(account_sid: str, auth_token: str) -> Flask:
    """A Flask app answering like api.twilio.com for one account (basic auth: sid + token)."""
    app = Flask("twilio_standin")
    state = _State()
    clock = StatusClock(auth_token, state.advance)
    load = AccountLoad(ENDPOINTS)

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
        """Refuse bad credentials, then Twilio's concurrency limit, the latency, any injected fault; None: go on."""
        refused = refusal(path_sid)
        if refused is not None:
            return refused
        if load.enter(endpoint):
            return twilio_error(429, 20429)
        if load.delay(endpoint):
            return twilio_error(503, 20500, "stand-in was reset while this request was delayed")
        return injected(endpoint)

    @app.post(MESSAGES_PATH)
    def create_message(path_sid: str) -> Response | tuple[Response, int]:
        early = gate(path_sid, "create")
        if early is not None:
            return early
        form = request.form
        to, from_, service, body = (form.get(k) for k in ("To", "From", "MessagingServiceSid", "Body"))
        content_sid, content_variables = form.get("ContentSid"), form.get("ContentVariables")
        if not to:
            return twilio_error(400, 21604)
        if not _ADDRESS.match(to):
            return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not from_ and not service:
            return twilio_error(400, 21603)
        # Twilio's rule: a Body, a ContentSid or a MediaUrl.
        if not body and not content_sid and not form.get("MediaUrl"):
            return twilio_error(400, 21602)
        if body and len(body) > MAX_BODY:
            return twilio_error(400, 21617)
        refused = content_refusal(form)
        if refused is not None:
            return refused
        now = utc_now()
        text = body or (rendered_body(content_variables) if content_sid else "")
        fields: dict[str, Any] = dict(
            account_sid=account_sid, to=to, from_=from_, body=text, messaging_service_sid=service,
            direction="outbound-api", created=now,
        )
        # With only a messaging service Twilio answers "accepted" and picks the sender later; the
        # clock moves it on to sent and delivered (lists and fetches show each step).
        created = message_resource(**fields, status="queued" if from_ else "accepted")
        record = {
            "sid": created["sid"], "to": to, "from": from_, "body": text, "messaging_service_sid": service,
            "status_callback": form.get("StatusCallback"), "received_at": now.isoformat(),
            "content_sid": content_sid, "content_variables": content_variables,
            "created_at": time.time(), "status": created["status"],
        }
        with state.lock:
            state.messages.append(StoredMessage(dict(created), now))
            state.sent.append(record)
        clock.schedule(created["sid"], form.get("StatusCallback"))
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

    @app.post(TYPING_PATH)
    def typing_indicator() -> Response | tuple[Response, int]:
        """Twilio's WhatsApp typing indicator (it also marks the message read): messageId, channel=whatsapp."""
        early = gate(account_sid, "typing")
        if early is not None:
            return early
        message_id, channel = request.form.get("messageId", ""), request.form.get("channel", "")
        if not _MESSAGE_SID.fullmatch(message_id) or channel != "whatsapp":
            return twilio_error(400, 20001, "Invalid parameter: messageId must be a message SID, channel whatsapp")
        return jsonify({"success": True}), 200

    add_delivery_control(app, clock)

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

    def reset() -> None:
        clock.reset()
        load.reset()
        state.reset()

    add_control_routes(
        app,
        faults=state.faults,
        reset=reset,
        records={"messages": lambda: state.read(state.sent), "requests": lambda: state.read(state.requests),
                 "callbacks": clock.read_callbacks},
        endpoints=ENDPOINTS,
    )
    add_load_control(app, load)
    # Media behind basic auth, redirected to a second host (issue 11: localdev/standins/twilio_media.py).
    from localdev.standins.twilio_media import add_media_routes
    add_media_routes(app, account_sid, auth_token)
    add_number_routes(app, account_sid, auth_token)  # numbers' webhooks, for `switchboard doctor` (issue 12)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return twilio_error(exc.code or 500, None, exc.description)

    return app


def _now() -> str:
    return utc_now().isoformat()
