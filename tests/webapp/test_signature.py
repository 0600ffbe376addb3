"""require_twilio_signature: only requests Twilio signed for the URL it called get through."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from tests.webapp.twilio_requests import WEBHOOK_URL, HandOver, post, post_signed, sign, twilio_form

VECTORS_NAME = "twilio_signature_vectors.json"


def test_a_valid_signature_is_accepted(client: FlaskClient, hand_over: HandOver) -> None:
    form = twilio_form()

    response = post_signed(client, form)

    assert response.status_code == 200
    assert hand_over.sids == [form["MessageSid"]]


def test_a_missing_signature_is_forbidden(client: FlaskClient, hand_over: HandOver) -> None:
    assert post(client, twilio_form(), signature=None).status_code == 403
    assert hand_over.calls == []


def test_a_tampered_body_is_forbidden(client: FlaskClient, hand_over: HandOver) -> None:
    form = twilio_form(Body="Hello")
    signature = sign(WEBHOOK_URL, form)

    response = post(client, {**form, "Body": "Hello!"}, signature)

    assert response.status_code == 403
    assert hand_over.calls == []


def test_a_signature_for_another_url_is_forbidden(client: FlaskClient) -> None:
    response = post_signed(client, twilio_form(), url="http://localhost/twilio/other")

    assert response.status_code == 403


def test_a_signature_made_with_another_token_is_forbidden(client: FlaskClient) -> None:
    form = twilio_form()

    assert post(client, form, sign(WEBHOOK_URL, form, token="not-our-token")).status_code == 403


def test_while_rotating_a_webhook_signed_with_the_previous_token_is_accepted(
    make_app: Callable[..., Flask], hand_over: HandOver
) -> None:
    previous = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    client = make_app(twilio_auth_token_previous=previous).test_client()
    old_form, new_form = twilio_form(), twilio_form()

    assert post(client, old_form, sign(WEBHOOK_URL, old_form, token=previous)).status_code == 200
    assert post_signed(client, new_form).status_code == 200
    assert post(client, twilio_form(), sign(WEBHOOK_URL, twilio_form(), token="b" * 32)).status_code == 403
    assert hand_over.sids == [old_form["MessageSid"], new_form["MessageSid"]]


def test_behind_a_trusted_proxy_the_forwarded_public_url_is_checked(
    make_app: Callable[..., Flask], hand_over: HandOver
) -> None:
    client = make_app(trusted_proxy_hops=1).test_client()
    form = twilio_form()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example"}

    assert post_signed(client, form, "https://public.example/twilio/messages", forwarded).status_code == 200
    assert post_signed(client, twilio_form(), WEBHOOK_URL, forwarded).status_code == 403
    assert hand_over.sids == [form["MessageSid"]]


def test_by_default_forwarded_headers_cannot_pass_off_a_request_signed_for_another_deployment(
    client: FlaskClient, hand_over: HandOver
) -> None:
    # Signed (same account, same token) for staging; sent here with staging's host in the headers.
    form = twilio_form()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "staging.example"}

    assert post_signed(client, form, "https://staging.example/twilio/messages", forwarded).status_code == 403
    assert hand_over.calls == []


def test_public_base_url_pins_the_url_twilio_signed(make_app: Callable[..., Flask], hand_over: HandOver) -> None:
    client = make_app(public_base_url="https://bot.example.com").test_client()
    form = twilio_form()

    assert post_signed(client, form, "https://bot.example.com/twilio/messages").status_code == 200
    assert post_signed(client, twilio_form(), WEBHOOK_URL).status_code == 403
    assert hand_over.sids == [form["MessageSid"]]


def test_every_value_of_a_repeated_field_is_signed(client: FlaskClient) -> None:
    form = twilio_form(Tag=["first", "second"])

    first_value_only = sign(WEBHOOK_URL, {**form, "Tag": "first"})

    assert post(client, form, first_value_only).status_code == 403
    assert post_signed(client, form).status_code == 200


# --- Twilio's published vectors, through RequestValidator.validate as our decorator calls it ---------


def _vectors() -> dict[str, Any]:
    # The repository's own copy of the vectors Twilio publishes for RequestValidator.
    return json.loads(Path(__file__).with_name(VECTORS_NAME).read_text(encoding="utf-8"))


VECTORS = _vectors()


def validate(url: str, params: MultiDict[str, str], signature: str) -> bool:
    # As webapp.signature does: the request's form (a MultiDict) and the URL Twilio called.
    return RequestValidator(VECTORS["auth_token"]).validate(url, params, signature)


def one_character_changed(text: str) -> str:
    return text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["url"])
def test_twilios_published_signatures_are_valid(case: dict[str, str]) -> None:
    params = MultiDict(VECTORS["params"])

    assert validate(case["url"], params, case["signature"])
    assert not validate(case["url"], params, one_character_changed(case["signature"]))
    assert not validate(case["url"].replace("foo=1", "foo=2"), params, case["signature"])
    assert not validate(case["url"], MultiDict({**VECTORS["params"], "Digits": "1235"}), case["signature"])


def test_a_signature_for_the_url_without_port_holds_when_the_request_arrives_with_one() -> None:
    case = VECTORS["cases"][0]
    with_port = case["url"].replace("mycompany.com/", "mycompany.com:1234/")

    assert with_port != case["url"]
    assert validate(with_port, MultiDict(VECTORS["params"]), case["signature"])


def test_twilios_duplicate_values_vector_is_valid() -> None:
    case = VECTORS["duplicate_values_case"]
    params: MultiDict[str, str] = MultiDict([(name, value) for name, value in case["params_list"]])

    assert validate(case["url"], params, case["signature"])
    assert not validate(case["url"], params, one_character_changed(case["signature"]))
    params.add("Digits", "9999")
    assert not validate(case["url"], params, case["signature"])


# --- Twilio's SharedKey signatures (X-Twilio-Webhooks-Signature-Settings, HMAC-SHA256) -------------

SHARED_KEY_SECRET = "shared-key-secret-" + "9" * 20
SHARED_KEY_HEADER = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"}


def shared_key_signature(form: dict[str, str | list[str]], secret: str = SHARED_KEY_SECRET,
                         algorithm: str = "HMAC_SHA256") -> str:
    params = MultiDict([(k, item) for k, v in form.items() for item in (v if isinstance(v, list) else [v])])
    return RequestValidator(secret).compute_signature(WEBHOOK_URL, params, algorithm=algorithm)


def test_a_webhook_signed_with_our_shared_key_and_hmac_sha256_is_accepted(
    make_app: Callable[..., Flask], hand_over: HandOver
) -> None:
    client = make_app(twilio_webhook_shared_key_secret=SHARED_KEY_SECRET).test_client()
    form = twilio_form()

    assert post(client, form, shared_key_signature(form), SHARED_KEY_HEADER).status_code == 200
    assert hand_over.sids == [form["MessageSid"]]
    assert post_signed(client, twilio_form()).status_code == 200  # without the header: the auth token, as before


def test_a_shared_key_signature_is_refused_when_no_shared_key_is_configured(
    client: FlaskClient, hand_over: HandOver
) -> None:
    form = twilio_form()

    assert post(client, form, shared_key_signature(form), SHARED_KEY_HEADER).status_code == 403
    assert hand_over.calls == []


def test_the_settings_header_cannot_turn_an_auth_token_signature_or_a_wrong_key_into_a_valid_one(
    make_app: Callable[..., Flask], hand_over: HandOver
) -> None:
    client = make_app(twilio_webhook_shared_key_secret=SHARED_KEY_SECRET).test_client()
    form = twilio_form()
    unsupported = {"X-Twilio-Webhooks-Signature-Settings": "key=k,algorithm=HMAC_MD5"}

    assert post(client, form, sign(WEBHOOK_URL, form), SHARED_KEY_HEADER).status_code == 403
    assert post(client, form, shared_key_signature(form, secret="another-secret"), SHARED_KEY_HEADER).status_code == 403
    assert post(client, form, shared_key_signature(form, algorithm="HMAC_SHA1"), SHARED_KEY_HEADER).status_code == 403
    assert post(client, form, shared_key_signature(form), unsupported).status_code == 403
    assert hand_over.calls == []
