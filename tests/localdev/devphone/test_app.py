"""The dev phone's endpoints: what the page sends reaches the webhook as Twilio signs it; changes are pushed."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from localdev.devphone.phone import DevPhone
from tests.harness.standins import RunningStandin

ANA = "whatsapp:+15550100001"


def test_the_page_is_served_with_its_own_assets_and_nothing_remote(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)

    assert '<script src="/static/phone.js"' in page and 'href="/static/phone.css"' in page
    for asset in ("/static/phone.js", "/static/phone.css"):
        text = client.get(asset).get_data(as_text=True)
        assert "http://" not in text and "https://" not in text, asset
    assert "http://" not in page and "https://" not in page


def test_a_text_is_posted_signed_as_the_chosen_user_with_their_profile_name(
        client: FlaskClient, posted: list[dict[str, str]]) -> None:
    answer = client.post("/api/messages", data={"user": ANA, "kind": "text", "text": "When do you open?"})

    assert answer.status_code == 202 and answer.json is not None
    [form] = posted
    assert (form["From"], form["ProfileName"], form["Body"], form["MessageType"], form["WaId"]) == (
        ANA, "Ana", "When do you open?", "text", "15550100001")
    assert answer.json == {"sid": form["MessageSid"], "webhook_status": 200}


def test_a_voice_note_is_uploaded_to_the_twilio_stand_in_and_kept_for_its_bubble(
        client: FlaskClient, posted: list[dict[str, str]], twilio_standin: RunningStandin) -> None:
    note = b"Where is the nearest office?"

    answer = client.post("/api/messages", data={"user": ANA, "kind": "voice", "text": "ignored",
                                                "file": (io.BytesIO(note), "question.ogg", "audio/ogg")})

    assert answer.status_code == 202
    [form] = posted
    assert (form["MessageType"], form["Body"], form["NumMedia"], form["MediaContentType0"]) == (
        "audio", "", "1", "audio/ogg")
    assert form["MediaUrl0"].startswith(twilio_standin.base_url)
    shown = client.get(f"/media/{form['MessageSid']}")
    assert shown.get_data() == note


def test_a_photo_goes_with_its_caption(client: FlaskClient, posted: list[dict[str, str]]) -> None:
    answer = client.post("/api/messages", data={"user": ANA, "kind": "photo", "text": "Is this right?",
                                                "file": (io.BytesIO(b"\x89PNG..."), "form.png", "image/png")})

    assert answer.status_code == 202
    [form] = posted
    assert (form["MessageType"], form["Body"], form["MediaContentType0"]) == ("image", "Is this right?", "image/png")


def test_a_location_goes_with_its_coordinates_and_label(client: FlaskClient, posted: list[dict[str, str]]) -> None:
    answer = client.post("/api/messages", data={"user": ANA, "kind": "location", "latitude": "52.52",
                                                "longitude": " 13.405", "label": "Alexanderplatz"})

    assert answer.status_code == 202
    [form] = posted
    assert (form["MessageType"], form["Latitude"], form["Longitude"], form["Label"]) == (
        "location", "52.52", "13.405", "Alexanderplatz")


def test_what_cannot_be_sent_is_refused_with_the_reason_and_posts_nothing(
        client: FlaskClient, posted: list[dict[str, str]]) -> None:
    refusals = [
        ({"user": ANA, "kind": "location", "latitude": "95", "longitude": "0"}, 400, "latitude -90..90"),
        ({"user": ANA, "kind": "text", "text": "  "}, 400, "type a message first"),
        ({"user": ANA, "kind": "voice"}, 400, "choose a file first"),
        ({"user": "whatsapp:+15559999999", "kind": "text", "text": "hi"}, 404, "no such user"),
    ]
    for data, status, reason in refusals:
        answer = client.post("/api/messages", data=data)
        assert answer.status_code == status and answer.json is not None and reason in answer.json["error"], data
    assert posted == []


def test_a_new_user_needs_an_e164_number_and_a_name(client: FlaskClient, phone: DevPhone) -> None:
    assert client.post("/api/users", data={"number": "5550100003", "name": "Cleo"}).status_code == 400
    assert client.post("/api/users", data={"number": "+15550100003", "name": " "}).status_code == 400

    added = client.post("/api/users", data={"number": "+1 555 010 0003", "name": "Cleo"})

    assert added.status_code == 201
    assert phone.board.get("user", "whatsapp:+15550100003") == {
        "kind": "user", "id": "whatsapp:+15550100003", "number": "+15550100003", "name": "Cleo"}


def events(response: TestResponse) -> Iterator[dict[str, Any]]:
    """The stream's events, one parsed `data:` at a time (keep-alive comments and the retry line skipped)."""
    for chunk in response.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        fields = dict(line.split(": ", 1) for line in text.strip().splitlines() if not line.startswith(":"))
        if "data" in fields:
            yield {"id": int(fields["id"]), **json.loads(fields["data"])}


def test_the_event_stream_sends_everything_first_then_only_what_changed(client: FlaskClient, phone: DevPhone) -> None:
    stream = client.get("/api/events")
    assert stream.mimetype == "text/event-stream"
    pushed = events(stream)

    first = next(pushed)
    assert {item["name"] for item in first["items"]} == {"Ana", "Ben"}
    phone.add_user("+15550100003", "Cleo")
    second = next(pushed)
    assert [item["name"] for item in second["items"]] == ["Cleo"]
    assert second["run"] == first["run"] == phone.run_id
    stream.close()


def test_a_page_that_reconnects_gets_what_it_missed_and_one_from_another_run_gets_everything(
        client: FlaskClient, phone: DevPhone) -> None:
    version, _ = phone.board.since(0)
    phone.add_user("+15550100003", "Cleo")

    reconnected = client.get("/api/events", headers={"Last-Event-ID": str(version)})
    missed = next(events(reconnected))
    restarted = client.get("/api/events", headers={"Last-Event-ID": "9999"})
    from_another_run = next(events(restarted))
    reconnected.close()
    restarted.close()

    assert [item["name"] for item in missed["items"]] == ["Cleo"]
    assert len(from_another_run["items"]) == 3
