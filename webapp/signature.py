"""`require_twilio_signature`: reject any request Twilio did not sign with our auth token (or shared key)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import abort, current_app, request
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm

from switchboard.settings import Settings

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def public_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path?query when set, else the (proxy-fixed) request URL."""
    settings: Settings = current_app.config["SETTINGS"]
    base = settings.public_base_url
    if base is None:
        return request.url
    query = request.query_string.decode()
    return base + request.path + (f"?{query}" if query else "")


def _signing_secrets_and_algorithm() -> tuple[tuple[str, ...], str] | None:
    """Without the settings header: the auth token (and, while rotating, the previous one), HMAC-SHA1.
    With it (a Twilio Webhook Setting signing with a SharedKey): our shared key secret and the header's
    algorithm (HMAC-SHA256)."""
    settings: Settings = current_app.config["SETTINGS"]
    header = request.headers.get(SIGNATURE_SETTINGS_HEADER)
    if header is None:
        return settings.webhook_tokens(), "HMAC_SHA1"
    if settings.twilio_webhook_shared_key_secret is None:
        log.error("a webhook signed with a Twilio SharedKey (%s) arrived, but TWILIO_WEBHOOK_SHARED_KEY_SECRET "
                  "is not set", SIGNATURE_SETTINGS_HEADER)
        return None
    return (settings.twilio_webhook_shared_key_secret.get_secret_value(),), get_signature_algorithm(header)


def _is_signed(secrets: tuple[str, ...], algorithm: str, signature: str) -> bool:
    url, params = public_url(), request.form
    return any(RequestValidator(secret).validate(url, params, signature, algorithm=algorithm) for secret in secrets)


def require_twilio_signature(view: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(view)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        signature = request.headers.get("X-Twilio-Signature", "")
        # Twilio signs every value of a repeated field; the validator reads them via getlist().
        params = request.form
        secrets = _signing_secrets_and_algorithm()
        # A multipart part without a name parses to the key None, which the validator cannot sort.
        # An unsupported algorithm fails validation (the SDK logs it).
        if not signature or secrets is None or None in params or not _is_signed(*secrets, signature):
            log.warning("rejected a request with a missing or invalid X-Twilio-Signature")
            abort(403)
        return view(*args, **kwargs)

    return checked
