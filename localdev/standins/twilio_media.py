"""Media served like Twilio's: the API URL needs basic auth and redirects (307) to a second host, the "CDN".

The CDN is a little server of its own (another port), started on first use, and records whether
any request reached it with an Authorization header: it must never get one. Control routes, on the
Twilio stand-in: `POST /_standin/media` (raw bytes, with their Content-Type) stores a file and
returns the MediaUrl to put in a webhook; `GET /_standin/media-host` names the CDN (host:port, for
TWILIO_MEDIA_REDIRECT_HOSTS); `GET /_standin/media-fetches` lists what both hosts were asked.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, redirect, request

from localdev.standins.serving import serve_in_thread
from localdev.standins.twilio_errors import twilio_error
from localdev.standins.twilio_resources import API_VERSION, new_sid, utc_now

MEDIA_PATH = f"/{API_VERSION}/Accounts/<path_sid>/Messages/<message_sid>/Media/<media_sid>"
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
# The CDN listens on loopback whatever the stand-in binds to: only this machine fetches from it.
CDN_HOST = "127.0.0.1"


@dataclass
class _Item:
    message_sid: str
    content_type: str
    data: bytes
    token: str  # the CDN path, unguessable like a signed S3 URL
    redirect_to: str | None = None  # answer the API request with a redirect here instead of the CDN
    fail_status: int | None = None  # the CDN answers this status ...
    fail_times: int = 0  # ... for this many fetches
    chunked: bool = False  # served without a Content-Length, in pieces


@dataclass
class _MediaState:
    host: str
    account_sid: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    items: dict[str, _Item] = field(default_factory=dict)  # by media SID
    fetches: list[dict[str, Any]] = field(default_factory=list)
    cdn_url: str | None = None

    def cdn(self) -> str:
        """The CDN's base URL, starting it on first use (a daemon thread, like the stand-in's own server)."""
        with self.lock:
            if self.cdn_url is None:
                self.cdn_url, _ = serve_in_thread(_cdn_app(self), self.host)
            return self.cdn_url

    def record(self, where: str, media_sid: str) -> None:
        with self.lock:
            self.fetches.append({"host": where, "media_sid": media_sid, "path": request.path,
                                 "authorization": "Authorization" in request.headers,
                                 "received_at": utc_now().isoformat()})

    def reset(self) -> None:
        with self.lock:
            self.items.clear()
            self.fetches.clear()


def add_media_routes(app: Flask, account_sid: str, auth_token: str) -> None:
    """Serve media on the Twilio stand-in `app` (call after its control routes: its reset clears media too)."""
    state = _MediaState(host=CDN_HOST, account_sid=account_sid)

    @app.get(MEDIA_PATH)
    def fetch_media(path_sid: str, message_sid: str, media_sid: str) -> Response:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (account_sid, auth_token):
            response = twilio_error(401, 20003, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        state.record("api", media_sid)
        with state.lock:
            item = state.items.get(media_sid)
        if path_sid != account_sid or item is None or item.message_sid != message_sid:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        # Twilio answers with a short-lived URL on its media host; the client follows it itself.
        return redirect(item.redirect_to or f"{state.cdn()}/{account_sid}/{media_sid}/{item.token}", code=307)

    @app.post("/_standin/media")
    def upload_media() -> tuple[Response, int]:
        """Body: the file's bytes, with its Content-Type. Query: message_sid, redirect_to, fail_status, fail_times,
        chunked (served without a Content-Length)."""
        content_type = request.mimetype or "application/octet-stream"
        data = request.get_data(cache=False)
        message_sid = request.args.get("message_sid") or new_sid("MM")
        try:
            fail_status = int(request.args["fail_status"]) if "fail_status" in request.args else None
            fail_times = int(request.args.get("fail_times", "1" if fail_status else "0"))
        except ValueError:
            return jsonify({"error": "fail_status and fail_times must be numbers"}), 400
        if len(data) > MAX_UPLOAD_BYTES:
            return jsonify({"error": f"at most {MAX_UPLOAD_BYTES} bytes"}), 400
        media_sid = new_sid("ME")
        item = _Item(message_sid, content_type, data, secrets.token_urlsafe(16), request.args.get("redirect_to"),
                     fail_status, fail_times, request.args.get("chunked") in ("1", "true"))
        with state.lock:
            state.items[media_sid] = item
        url = f"{request.host_url.rstrip('/')}/{API_VERSION}/Accounts/{account_sid}/Messages/{message_sid}/Media/{media_sid}"
        return jsonify({"url": url, "media_sid": media_sid, "message_sid": message_sid,
                        "content_type": content_type, "size": len(data)}), 201

    @app.get("/_standin/media-host")
    def media_host() -> Response:
        base = state.cdn()
        return jsonify({"base_url": base, "host": base.split("://", 1)[1]})

    @app.get("/_standin/media-fetches")
    def media_fetches() -> Response:
        with state.lock:
            return jsonify({"media-fetches": list(state.fetches)})

    _also_on_reset(app, state.reset)


def _cdn_app(state: _MediaState) -> Flask:
    cdn = Flask("twilio_media_cdn")

    @cdn.get("/<path_sid>/<media_sid>/<token>")
    def serve(path_sid: str, media_sid: str, token: str) -> Response | tuple[str, int]:
        state.record("cdn", media_sid)
        with state.lock:
            item = state.items.get(media_sid)
            if item is None or path_sid != state.account_sid or not secrets.compare_digest(token, item.token):
                return "<Error><Code>AccessDenied</Code></Error>", 403
            failure = item.fail_status if item.fail_times > 0 else None
            if failure is not None:
                item.fail_times -= 1
        if failure is not None:
            return "<Error><Code>ServiceUnavailable</Code></Error>", failure
        if item.chunked:
            pieces = (item.data[i:i + 4096] for i in range(0, len(item.data), 4096))
            return Response(pieces, content_type=item.content_type)
        return Response(item.data, content_type=item.content_type)

    return cdn


def _also_on_reset(app: Flask, reset: Callable[[], None]) -> None:
    # The shared control routes own POST /_standin/reset; media is forgotten with everything else.
    original = app.view_functions.get("reset_state")
    if original is None:
        return

    def reset_with_media() -> Any:
        reset()
        return original()

    app.view_functions["reset_state"] = reset_with_media


