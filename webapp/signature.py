"""`require_twilio_signature`: reject any request Twilio did not sign with our auth token."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def public_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path?query when set, else the (proxy-fixed) request URL."""
    base = current_app.config["SETTINGS"].public_base_url
    if base is None:
        return request.url
    query = request.query_string.decode()
    return base + request.path + (f"?{query}" if query else "")


def require_twilio_signature(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        token = current_app.config["SETTINGS"].twilio_auth_token.get_secret_value()
        signature = request.headers.get("X-Twilio-Signature", "")
        # Twilio signs every value of a repeated field; the validator reads them via getlist().
        params = request.form
        # A multipart part without a name parses to the key None, which the validator cannot sort.
        if not signature or None in params or not RequestValidator(token).validate(public_url(), params, signature):
            log.warning("rejected a request with a missing or invalid X-Twilio-Signature")
            abort(403)
        return view(*args, **kwargs)

    return checked
