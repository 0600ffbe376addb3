"""Twilio-shaped webhook requests for the tests: a form, its real signature, and a signed POST."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

AUTH_TOKEN = uuid.uuid4().hex  # the shape Twilio issues: 32 lowercase hex characters
ACCOUNT_SID = "AC" + "1" * 32
WEBHOOK_URL = "http://localhost/twilio/messages"  # what Flask's test client requests

Form = Mapping[str, str | list[str]]  # a list stands for a repeated field


def twilio_form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT_SID,
        "From": "whatsapp:+15551234567",
        "To": "whatsapp:+15550000000",
        "Body": "Hello",
        "NumMedia": "0",
    }
    form.update(changes)
    return form


def as_multidict(form: Form) -> MultiDict[str, str]:
    return MultiDict([(k, item) for k, v in form.items() for item in (v if isinstance(v, list) else [v])])


def sign(url: str, form: Form, token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it, by Twilio's own library."""
    return RequestValidator(token).compute_signature(url, as_multidict(form))


def post(client: FlaskClient, form: Form, signature: str | None, headers: Mapping[str, str] | None = None
         ) -> TestResponse:
    signed = {"X-Twilio-Signature": signature} if signature is not None else {}
    return client.post("/twilio/messages", data=as_multidict(form), headers={**signed, **(headers or {})})


def post_signed(client: FlaskClient, form: Form, url: str = WEBHOOK_URL,
                headers: Mapping[str, str] | None = None) -> TestResponse:
    """POST the form to the webhook, signed for `url`."""
    return post(client, form, sign(url, form), headers)


class HandOver:
    """Stands in for publishing to SQS: records (MessageSid, conversation) and answers `result`."""

    def __init__(self, result: bool = True) -> None:
        self.result = result
        self.calls: list[tuple[str, str]] = []

    def __call__(self, message_sid: str, conversation: str) -> bool:
        self.calls.append((message_sid, conversation))
        return self.result

    @property
    def sids(self) -> list[str]:
        return [sid for sid, _ in self.calls]
