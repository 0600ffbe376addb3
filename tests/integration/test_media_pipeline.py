"""Media end to end: gunicorn, moto SQS and a real worker fetch from the Twilio stand-in and ask the OpenAI stand-in."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.redis_keys import delete_keys_with_prefix
from localdev.standins.openai_api import last_user_images
from switchboard.store import ConversationStore, HistoryLimits
from switchboard.store.connection import connect
from tests.harness.pipeline import Stack, make_stack, new_user
from tests.harness.standins import RunningStandin
from tests.integration.observing import wait_until_settled

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shared_stack(pipeline_env: dict[str, str], twilio_standin_session: RunningStandin,
                 openai_standin_session: RunningStandin, log_dir: Path) -> Iterator[Stack]:
    """One deployment for the module, allowed to follow the stand-in's media redirects (its second host)."""
    deployment = make_stack(pipeline_env, twilio_standin_session, openai_standin_session, log_dir,
                            TWILIO_MEDIA_REDIRECT_HOSTS=twilio_standin_session.client.media_host())
    try:
        deployment.start_web()
        deployment.start_worker(concurrency=8)
        yield deployment
    finally:
        deployment.stop()
        delete_keys_with_prefix(deployment.env["REDIS_URL"], deployment.env["REDIS_KEY_PREFIX"])


@pytest.fixture
def stack(shared_stack: Stack, twilio_standin: RunningStandin, openai_standin: RunningStandin) -> Stack:
    wait_until_settled(shared_stack)
    return shared_stack


def send_media(stack: Stack, user: str, data: bytes, content_type: str, message_type: str, body: str = "",
               **upload: str) -> str:
    """Upload a file to the Twilio stand-in and post the signed webhook WhatsApp's message makes; returns its sid."""
    uploaded = stack.twilio.client.upload_media(data, content_type, **upload)
    status, _ = stack.send(body, user, message_sid=uploaded["message_sid"], NumMedia="1",
                           MediaUrl0=uploaded["url"], MediaContentType0=content_type, MessageType=message_type)
    assert status == 200
    return str(uploaded["message_sid"])


def store_of(stack: Stack) -> ConversationStore:
    return ConversationStore(connect(stack.settings.redis_url.get_secret_value()),
                             stack.settings.redis_key_prefix, HistoryLimits(20, 8000, 60))


def test_a_voice_note_is_answered_from_its_transcript(stack: Stack) -> None:
    sender = new_user()

    sid = send_media(stack, sender, b"When does the registration office open?", "audio/ogg", "audio")

    assert stack.wait_for_replies(sender, 1) == ["echo: When does the registration office open?"]
    [upload] = stack.openai.client.transcriptions()
    assert (upload["model"], upload["content_type"]) == (stack.settings.openai_transcription_model, "audio/ogg")
    stored = store_of(stack).load(sid)
    assert stored is not None and stored.transcripts == {0: "When does the registration office open?"}
    assert [(f["host"], f["authorization"]) for f in stack.twilio.client.media_fetches()] == [
        ("api", True), ("cdn", False)]  # Twilio's credentials went to its API host only


def test_a_photo_reaches_the_model_as_an_image_with_its_caption(stack: Stack) -> None:
    sender = new_user()
    photo = b"\xff\xd8\xff\xe0 a photo of a form"

    send_media(stack, sender, photo, "image/jpeg", "image", body="Is this filled in right?")

    [reply] = stack.wait_for_replies(sender, 1)
    assert reply.startswith("echo: Is this filled in right?") and reply.endswith("[1 image]")
    [request] = stack.openai.client.requests()
    assert last_user_images(request["messages"]) == [f"data:image/jpeg;base64,{base64.b64encode(photo).decode()}"]


def test_media_that_cannot_be_fetched_still_gets_an_answer_that_says_so(stack: Stack) -> None:
    sender = new_user()

    send_media(stack, sender, b"hello", "audio/ogg", "audio", redirect_to="https://elsewhere.example/stolen")

    [reply] = stack.wait_for_replies(sender, 1)
    assert "voice note that could not be played: redirect to a host not allowed" in reply
    assert stack.openai.client.transcriptions() == []


# --- what else WhatsApp carries, through the same worker: a location, a button, a quoted reply -----------

def test_a_location_and_a_button_tap_reach_the_model_as_context(stack: Stack) -> None:
    sender = new_user()

    assert stack.send("", sender, MessageType="location", Latitude="52.52", Longitude="13.405",
                      Address="Unter den Linden 1", Label="Registration office")[0] == 200
    assert stack.wait_for_replies(sender, 1) == [
        "echo: [The user shared a location: Registration office, Unter den Linden 1 (latitude 52.520000, "
        "longitude 13.405000)]"]
    assert stack.send("Yes, book it", sender, MessageType="button", ButtonText="Yes, book it",
                      ButtonPayload="book-slot-7")[0] == 200
    assert stack.wait_for_replies(sender, 2)[1] == (
        'echo: [The user tapped the option "Yes, book it" (option id: book-slot-7)]')


def test_a_quoted_reply_puts_the_quoted_answer_in_context(stack: Stack) -> None:
    sender = new_user()
    assert stack.send("Which documents?", sender)[0] == 200
    assert stack.wait_for_replies(sender, 1) == ["echo: Which documents?"]
    [ours] = [m for m in stack.twilio.client.messages() if m["to"] == sender]

    assert stack.send("and where?", sender, OriginalRepliedMessageSid=ours["sid"])[0] == 200

    assert stack.wait_for_replies(sender, 2)[1] == 'echo: [Replying to: "echo: Which documents?"]\nand where?'
