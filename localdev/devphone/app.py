"""The dev phone's HTTP face: the page, its JSON endpoints, and the event stream that pushes every change.

| route                 | does                                                                        |
|-----------------------|-----------------------------------------------------------------------------|
| GET /                 | the page (static/index.html; its CSS and JS under /static/, nothing remote)  |
| GET /api/events       | Server-Sent Events: `data: {"run", "items"}` with the items changed since    |
|                       | the last event id the page saw (Last-Event-ID), everything on first connect  |
| GET /api/state        | the same as one JSON answer (everything, or `?since=N`)                      |
| POST /api/users       | add a simulated user: number (E.164), name (its ProfileName)                 |
| POST /api/messages    | send as `user`: kind text/voice/photo/file/location, text, file, latitude,  |
|                       | longitude, label (multipart form)                                            |
| GET /media/<sid>      | the file a sent message carried, for its bubble                              |
| GET /healthz          | 200 once the server is up                                                    |
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, request, send_file

from localdev.chat_lines import BadLine
from localdev.devphone.phone import DevPhone, UnknownUser
from localdev.devphone.users import BadUser

STATIC = Path(__file__).resolve().parent / "static"
# An idle stream gets a comment this often, so proxies and the browser keep it open.
KEEP_ALIVE_SECONDS = 15.0


def create_devphone_app(phone: DevPhone, page_config: dict[str, Any] | None = None) -> Flask:
    """`page_config` reaches the page as /api/config (Flower's URL, the webhook it posts to, the bot's number)."""
    app = Flask("devphone", static_folder=str(STATIC), static_url_path="/static")

    @app.get("/")
    def page() -> Response:
        return send_file(STATIC / "index.html")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"ok": True})

    @app.get("/api/config")
    def config() -> Response:
        return jsonify(page_config or {})

    @app.get("/api/state")
    def state() -> Response:
        version, items = phone.board.since(request.args.get("since", 0, type=int))
        return jsonify({"run": phone.run_id, "version": version, "items": items})

    @app.get("/api/events")
    def events() -> Response:
        seen = request.headers.get("Last-Event-ID", 0, type=int)

        # No request context inside: the stream outlives the request's handling.
        def stream() -> Iterator[str]:
            version = seen
            yield "retry: 1000\n\n"  # reconnect after a second when the server restarts
            while True:
                version, items = phone.board.wait_since(version, KEEP_ALIVE_SECONDS)
                if items:
                    yield f"id: {version}\ndata: {json.dumps({'run': phone.run_id, 'items': items})}\n\n"
                else:
                    yield ": keep-alive\n\n"

        return Response(stream(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/api/users")
    def add_user() -> tuple[Response, int]:
        try:
            user = phone.add_user(request.form.get("number", ""), request.form.get("name", ""))
        except BadUser as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify({"id": user.address, "number": user.number, "name": user.name}), 201

    @app.post("/api/messages")
    def send() -> tuple[Response, int]:
        try:
            sent = phone.send(request.form.get("user", ""), request.form.to_dict(), request.files.get("file"))
        except UnknownUser as exc:
            return jsonify({"error": f"no such user: {exc}"}), 404
        except BadLine as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify({"sid": sent.sid, "webhook_status": sent.webhook_status}), 202

    @app.get("/media/<sid>")
    def media(sid: str) -> Response:
        path = phone.media.get(sid)
        if path is None:
            abort(404)
        return send_file(path)

    return app
