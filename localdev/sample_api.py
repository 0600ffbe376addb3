"""A sample operator API for the local run: the registration status of whoever is asking (docs/tools.md).

`GET /registrations/status` trusts only X-Switchboard-User-Id, and only once X-Switchboard-Signature
checks out (switchboard.tools.signing.verify_signature with OPERATOR_SIGNING_SECRET): 401 otherwise.
It answers that person's registration from localdev/sample/registrations.json, or 404 when they have
none. No query parameter or body can name another person. POST /handoffs takes the signed hand-off
notices (HANDOFF_WEBHOOK_URL) and prints each; GET /handoffs lists them. Run: `python -m localdev.sample_api --port N`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, jsonify, request

from localdev.standins.serving import serve_forever
from switchboard.tools.signing import verify_signature

REGISTRATIONS = Path(__file__).parent / "sample" / "registrations.json"


def owner_key(user_id: str) -> str:
    """WaId digits: "whatsapp:+15550100001", "+15550100001" and "15550100001" are one owner."""
    return user_id.strip().removeprefix("whatsapp:").lstrip("+")


def read_registrations(path: Path = REGISTRATIONS) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {owner_key(key): value for key, value in data.items() if not key.startswith("_")}


def requested_url() -> str:
    """The URL as the client sent it (the signature covers it byte for byte), not as Flask re-quotes it."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        query = request.query_string.decode("latin-1")
        raw = quote(request.path) + (f"?{query}" if query else "")
    return request.host_url.rstrip("/") + raw


def create_sample_api(secret: bytes, registrations: Mapping[str, dict[str, Any]]) -> Flask:
    app = Flask("sample_api")

    @app.get("/")
    def index() -> Response:
        return jsonify({"service": "sample operator API",
                        "routes": ["GET /registrations/status", "POST /handoffs", "GET /handoffs"]})

    @app.get("/registrations/status")
    def registration_status() -> Response | tuple[Response, int]:
        if not verify_signature(secret, request.method, requested_url(), dict(request.headers), request.get_data()):
            return jsonify({"error": "bad or missing X-Switchboard-Signature"}), 401
        found = registrations.get(owner_key(request.headers.get("X-Switchboard-User-Id", "")))
        if found is None:
            return jsonify({"error": "no registration is on file for this WhatsApp number"}), 404
        return jsonify(found)

    # The operator's desk of the local run: HANDOFF_WEBHOOK_URL points here (docs/handoff.md).
    handoffs: list[dict[str, Any]] = []

    @app.post("/handoffs")
    def receive_handoff() -> Response | tuple[Response, int]:
        if not verify_signature(secret, request.method, requested_url(), dict(request.headers), request.get_data()):
            return jsonify({"error": "bad or missing X-Switchboard-Signature"}), 401
        notice = request.get_json(force=True, silent=True) or {}
        handoffs.append(notice)
        print(f"hand-off: conversation {notice.get('conversation')} asks for a person "
              f"({notice.get('reason')}); answer with: switchboard say {notice.get('conversation')} \"...\"",
              flush=True)
        return jsonify({"received": True}), 200

    @app.get("/handoffs")
    def list_handoffs() -> Response:
        return jsonify(handoffs)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.sample_api", description=__doc__)
    parser.add_argument("--port", type=int, default=8905, help="0 picks a free port (printed on start)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--registrations", type=Path, default=REGISTRATIONS)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    secret = os.environ.get("OPERATOR_SIGNING_SECRET", "")
    if not secret:
        parser.error("OPERATOR_SIGNING_SECRET must be set (the secret Switchboard signs tool calls with)")
    app = create_sample_api(secret.encode(), read_registrations(args.registrations))
    serve_forever(app, args.host, args.port, label="sample API")


if __name__ == "__main__":
    main()
