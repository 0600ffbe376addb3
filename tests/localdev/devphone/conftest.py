"""A dev phone whose webhook is a local HTTP server that checks Twilio's signature, beside the Twilio stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from twilio.request_validator import RequestValidator
from werkzeug import Request, Response

from localdev.chat import ChatSession
from localdev.devphone.app import create_devphone_app
from localdev.devphone.composer import upload_directory
from localdev.devphone.phone import DevPhone
from switchboard.store import ConversationStore, HistoryLimits
from tests.harness.standins import RunningStandin


@pytest.fixture
def posted(httpserver: HTTPServer, twilio_standin: RunningStandin) -> list[dict[str, str]]:
    """Forms the webhook received, each checked against its X-Twilio-Signature as the web app checks it."""
    forms: list[dict[str, str]] = []
    validator = RequestValidator(twilio_standin.auth_token)

    def webhook(request: Request) -> Response:
        form = request.form.to_dict()
        if not validator.validate(httpserver.url_for("/twilio/messages"), form,
                                  request.headers.get("X-Twilio-Signature", "")):
            return Response("bad signature", status=403)
        forms.append(form)
        return Response("<Response/>", content_type="text/xml")

    httpserver.expect_request("/twilio/messages", method="POST").respond_with_handler(webhook)
    return forms


@pytest.fixture
def phone(httpserver: HTTPServer, twilio_standin: RunningStandin, posted: list[dict[str, str]],
          tmp_path: Path) -> DevPhone:
    """A dev phone whose tracker is not started (tests tick it); its store's Redis is never reached here."""
    chat = ChatSession(httpserver.url_for("/twilio/messages"), twilio_standin.base_url, twilio_standin.account_sid,
                       twilio_standin.auth_token, user="")
    store = ConversationStore(redis.Redis(port=1), "unused:", HistoryLimits(20, 8000, 60))
    return DevPhone(chat, store, None, upload_directory(tmp_path / "uploads"))


@pytest.fixture
def client(phone: DevPhone) -> FlaskClient:
    return create_devphone_app(phone, {"bot": "whatsapp:+14155238886"}).test_client()

