"""The Twilio stand-in's media: basic auth on the API URL (through the twilio SDK's HTTP client), then its media host."""

from __future__ import annotations

import requests
from twilio.rest import Client

from tests.harness.standins import RunningStandin, twilio_sdk


def test_the_media_url_redirects_an_authenticated_sdk_request_to_the_media_host(
        twilio: Client, twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"OggS...", "audio/ogg")

    answer = twilio.request("GET", uploaded["url"], allow_redirects=False)

    assert answer.status_code == 307
    location = answer.headers["Location"]
    assert location.startswith(f"http://{twilio_standin.client.media_host()}/{twilio_standin.account_sid}/")
    served = requests.get(location, timeout=5)
    assert (served.status_code, served.headers["Content-Type"], served.content) == (200, "audio/ogg", b"OggS...")


def test_the_media_url_refuses_missing_or_wrong_credentials(twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "image/jpeg")

    anonymous = requests.get(uploaded["url"], allow_redirects=False, timeout=5)
    wrong = twilio_sdk(twilio_standin, auth_token="0" * 32).request("GET", uploaded["url"])

    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.json()["code"] == 20003 and "Basic" in anonymous.headers["WWW-Authenticate"]


def test_unknown_media_is_not_found(twilio: Client, twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "image/jpeg")

    answer = twilio.request("GET", uploaded["url"].replace(uploaded["media_sid"], "ME" + "1" * 32))

    assert answer.status_code == 404


def test_the_media_host_records_whether_a_request_carried_credentials(
        twilio: Client, twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "image/jpeg")
    location = twilio.request("GET", uploaded["url"]).headers["Location"]

    requests.get(location, timeout=5)
    requests.get(location, auth=(twilio_standin.account_sid, twilio_standin.auth_token), timeout=5)

    assert [(f["host"], f["authorization"]) for f in twilio_standin.client.media_fetches()] == [
        ("api", True), ("cdn", False), ("cdn", True)]


def test_the_media_host_refuses_a_wrong_token_and_can_fail_on_request(
        twilio: Client, twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "image/jpeg", fail_status=503, fail_times=1)
    location = twilio.request("GET", uploaded["url"]).headers["Location"]

    assert requests.get(location + "x", timeout=5).status_code == 403
    assert [requests.get(location, timeout=5).status_code for _ in range(2)] == [503, 200]


def test_an_upload_may_name_its_message_and_a_redirect_of_its_own(
        twilio: Client, twilio_standin: RunningStandin) -> None:
    sid = "MM" + "a" * 32
    uploaded = twilio_standin.client.upload_media(b"x", "image/png", message_sid=sid,
                                                  redirect_to="https://elsewhere.example/file")

    assert uploaded["message_sid"] == sid and f"/Messages/{sid}/Media/ME" in uploaded["url"]
    assert twilio.request("GET", uploaded["url"]).headers["Location"] == "https://elsewhere.example/file"


def test_a_reset_forgets_media_and_fetches(twilio: Client, twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "image/jpeg")
    twilio.request("GET", uploaded["url"])

    twilio_standin.client.reset()

    assert twilio_standin.client.media_fetches() == []
    assert twilio.request("GET", uploaded["url"]).status_code == 404
