"""The terminal chat sends voice notes, photos, files and locations as Twilio's signed WhatsApp webhook has them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from twilio.request_validator import RequestValidator
from werkzeug import Request, Response

from localdev.chat import ChatSession
from localdev.chat_lines import BadLine, parse_line
from switchboard.clients.twilio_media import MediaFetcher
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.media import DEFAULT_READABLE
from tests.harness.standins import RunningStandin

USER = "whatsapp:+15550000001"


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
def chat(httpserver: HTTPServer, twilio_standin: RunningStandin, posted: list[dict[str, str]]) -> ChatSession:
    return ChatSession(httpserver.url_for("/twilio/messages"), twilio_standin.base_url, twilio_standin.account_sid,
                       twilio_standin.auth_token, USER, out=io.StringIO())


def parsed(form: dict[str, str]) -> InboundMessage:
    return InboundMessage.from_twilio_form(form, conversation_key=b"k" * 32)


def test_a_voice_note_is_uploaded_and_posted_with_no_text(chat: ChatSession, posted: list[dict[str, str]],
                                                          twilio_standin: RunningStandin, tmp_path: Path) -> None:
    note = tmp_path / "question.ogg"
    note.write_bytes(b"Where is the nearest office?")

    assert chat.send_line(f"/voice {note}") == 200

    [form] = posted
    message = parsed(form)
    assert (message.message_type, message.body, message.num_media) == ("audio", "", 1)
    assert form["MessageSid"].startswith("MM") and f"/Messages/{form['MessageSid']}/Media/ME" in form["MediaUrl0"]
    assert form["MediaContentType0"] == "audio/ogg"
    fetcher = MediaFetcher(twilio_standin.base_url, twilio_standin.account_sid, twilio_standin.auth_token,
                           (twilio_standin.client.media_host(),), 1024, DEFAULT_READABLE, 3)
    assert fetcher.fetch(form["MediaUrl0"]).data == b"Where is the nearest office?"


def test_a_photo_goes_with_its_caption(chat: ChatSession, posted: list[dict[str, str]], tmp_path: Path) -> None:
    photo = tmp_path / "form.jpg"
    photo.write_bytes(b"\xff\xd8\xff")

    chat.send_line(f"/photo {photo} Is this form filled in right?")

    message = parsed(posted[0])
    assert (message.message_type, message.body) == ("image", "Is this form filled in right?")
    assert [m.content_type for m in message.media] == ["image/jpeg"]


def test_a_location_is_posted_with_its_coordinates_and_label(chat: ChatSession, posted: list[dict[str, str]]) -> None:
    chat.send_line("/location 52.52,13.405 Alexanderplatz")

    message = parsed(posted[0])
    assert (message.message_type, message.num_media, message.body) == ("location", 0, "")
    assert message.location is not None
    assert (message.location.latitude, message.location.longitude, message.location.label) == (
        52.52, 13.405, "Alexanderplatz")


def test_plain_lines_and_commands_stay_text(chat: ChatSession, posted: list[dict[str, str]]) -> None:
    chat.send_line("/reset")
    chat.send("hello")

    assert [(f["Body"], f["MessageType"], f["NumMedia"]) for f in posted] == [("/reset", "text", "0"),
                                                                             ("hello", "text", "0")]


@pytest.mark.parametrize(("line", "reason"), [
    ("/voice /no/such/file.ogg", "no such file"), ("/photo", "no such file"),
    ("/location 91,0", "latitude"), ("/location here", "LAT,LON"),
])
def test_a_line_that_cannot_be_sent_says_why(line: str, reason: str) -> None:
    with pytest.raises(BadLine, match=reason):
        parse_line(line)


def test_a_file_of_unknown_type_is_sent_as_the_command_s_usual_kind(tmp_path: Path) -> None:
    unnamed = tmp_path / "recording"
    unnamed.write_bytes(b"x")

    assert parse_line(f"/voice {unnamed}").content_type == "audio/ogg"
    assert parse_line(f"/file {unnamed} my papers").content_type == "application/pdf"
    assert parse_line(f"/file {unnamed} my papers").body == "my papers"
