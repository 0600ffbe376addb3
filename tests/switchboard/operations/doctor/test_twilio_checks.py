"""Twilio's webhooks, read through its API (the stand-in, by the real SDK), compared with PUBLIC_BASE_URL."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import requests

from localdev.processes import free_port
from switchboard.clients.twilio_webhooks import WebhookReader
from switchboard.operations.doctor.results import CheckResult
from switchboard.operations.doctor.twilio_checks import SANDBOX, check_twilio
from switchboard.settings import Settings
from tests.harness.standins import RunningStandin

BASE = "https://bot.example.com"
SENDER, NUMBER = "whatsapp:+14155550100", "+15005550006"


@pytest.fixture
def settings_for(make_settings: Callable[..., Settings], twilio_standin: RunningStandin) -> Callable[..., Settings]:
    def make(**fields: object) -> Settings:
        return make_settings(**{"twilio_account_sid": twilio_standin.account_sid, "public_base_url": BASE,
                                "twilio_auth_token": twilio_standin.auth_token,
                                "twilio_api_base_url": twilio_standin.base_url, **fields})
    return make


def put(standin: RunningStandin, kind: str, **fields: object) -> None:
    requests.post(f"{standin.base_url}/_standin/{kind}", json=fields, timeout=5).raise_for_status()


def run(settings: Settings) -> dict[str, CheckResult]:
    return {result.check: result for result in check_twilio(WebhookReader.from_settings(settings), settings)}


def statuses(results: dict[str, CheckResult]) -> dict[str, str]:
    return {check: result.status.value for check, result in results.items()}


def test_a_sender_and_a_number_pointing_at_public_base_url_pass(
        settings_for: Callable[..., Settings], twilio_standin: RunningStandin) -> None:
    put(twilio_standin, "numbers", address=SENDER, url=f"{BASE}/twilio/messages", status_callback=f"{BASE}/twilio/status")
    put(twilio_standin, "numbers", address=NUMBER, url=f"{BASE}/twilio/messages?source=sms")  # Twilio signs the query

    results = run(settings_for(twilio_numbers=f"{SENDER},{NUMBER}"))

    assert statuses(results) == {f"webhook {SENDER}": "✔", f"status callback {SENDER}": "✔", f"webhook {NUMBER}": "✔"}


def test_a_webhook_elsewhere_called_with_get_or_missing_fails_saying_where_to_set_it(
        settings_for: Callable[..., Settings], twilio_standin: RunningStandin) -> None:
    put(twilio_standin, "numbers", address=SENDER, url="https://old.example.com/twilio/messages",
        status_callback="https://old.example.com/twilio/status")
    put(twilio_standin, "numbers", address=NUMBER, url=f"{BASE}/twilio/messages", method="GET")
    put(twilio_standin, "numbers", address="+15005550007")

    results = run(settings_for(twilio_numbers=f"{SENDER},{NUMBER},+15005550007"))

    assert set(statuses(results).values()) == {"✘"}
    elsewhere = results[f"webhook {SENDER}"]
    assert elsewhere.detail == f"incoming messages go to https://old.example.com/twilio/messages, not {BASE}/twilio/messages"
    assert elsewhere.fix == f"Console → Messaging → Senders → WhatsApp senders → {SENDER}: {BASE}/twilio/messages, HTTP POST"
    assert "default to https://old.example.com/twilio/status" in results[f"status callback {SENDER}"].detail
    assert "called with HTTP GET" in results[f"webhook {NUMBER}"].detail
    assert "no incoming-message webhook" in results["webhook +15005550007"].detail


def test_an_address_the_account_lacks_fails_but_the_whatsapp_sandbox_cannot_tell(
        settings_for: Callable[..., Settings]) -> None:
    results = run(settings_for(twilio_numbers=f"{SENDER},{NUMBER},{SANDBOX}"))

    assert statuses(results) == {f"webhook {SENDER}": "✘", f"webhook {NUMBER}": "✘", f"webhook {SANDBOX}": "!"}
    assert "WhatsApp sandbox settings" in results[f"webhook {SANDBOX}"].fix


def test_a_messaging_service_that_takes_every_message_is_checked_instead_of_its_senders(
        settings_for: Callable[..., Settings], twilio_standin: RunningStandin) -> None:
    sid = "MG" + uuid.uuid4().hex
    put(twilio_standin, "services", sid=sid, inbound_request_url=f"{BASE}/twilio/messages")

    results = run(settings_for(twilio_numbers=SENDER, twilio_messaging_service_sid=sid))

    assert statuses(results) == {f"webhook {sid}": "✔", f"status callback {sid}": "✔"}


def test_a_messaging_service_that_defers_to_its_senders_has_them_checked(
        settings_for: Callable[..., Settings], twilio_standin: RunningStandin) -> None:
    sid = "MG" + uuid.uuid4().hex
    put(twilio_standin, "services", sid=sid, inbound_request_url=None, use_inbound_webhook_on_number=True)
    put(twilio_standin, "numbers", address=SENDER, url="https://old.example.com/twilio/messages")

    results = run(settings_for(twilio_numbers=SENDER, twilio_messaging_service_sid=sid))

    assert statuses(results) == {f"webhook {sid}": "✔", f"status callback {sid}": "✔", f"webhook {SENDER}": "✘",
                                 f"status callback {SENDER}": "✔"}


def test_an_unknown_messaging_service_or_refused_credentials_fail_in_one_row(
        settings_for: Callable[..., Settings]) -> None:
    unknown_service = run(settings_for(twilio_numbers=SENDER, twilio_messaging_service_sid="MG" + "0" * 32))
    refused = run(settings_for(twilio_numbers=f"{NUMBER},{SENDER}", twilio_auth_token=uuid.uuid4().hex))

    assert statuses(unknown_service) == {"twilio messaging service": "✘"}
    assert statuses(refused) == {"twilio credentials": "✘"}
    assert "HTTP 401" in refused["twilio credentials"].detail


def test_an_unreachable_twilio_fails(settings_for: Callable[..., Settings]) -> None:
    results = run(settings_for(twilio_numbers=NUMBER, twilio_api_base_url=f"http://127.0.0.1:{free_port()}"))

    assert statuses(results) == {"twilio": "✘"} and "Twilio unreachable" in results["twilio"].detail


def test_without_numbers_or_public_base_url_it_cannot_tell(settings_for: Callable[..., Settings]) -> None:
    assert statuses(run(settings_for())) == {"twilio webhooks": "!"}
    assert statuses(run(settings_for(twilio_numbers=SENDER, public_base_url=None))) == {"twilio webhooks": "!"}
