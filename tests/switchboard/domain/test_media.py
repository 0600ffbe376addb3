"""read_media on real Redis, with media served by the Twilio stand-in and transcribed by the OpenAI stand-in."""

from __future__ import annotations

import base64
import time
import uuid

import pytest

from switchboard.clients.media_reader import MediaReader
from switchboard.clients.openai_client import Transcriber
from switchboard.clients.twilio_media import MediaFetcher
from switchboard.domain.inbound import InboundMessage, Media
from switchboard.domain.media import DEFAULT_READABLE, PDF_MAX_CHARS, MediaContent, can_read, read_media
from switchboard.errors import TransientError
from switchboard.settings import Settings
from switchboard.store import ConversationStore, StoredMessage
from tests.harness.standins import RunningStandin, openai_sdk


def make_pdf(text: str) -> bytes:
    """A one-page PDF whose page shows `text` in Helvetica: enough for a text extractor."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               "/Resources << /Font << /F1 5 0 R >> >> >>",
               f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    table = "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    out += (f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n{table}"
            f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{len(out)}\n%%EOF\n").encode()
    return out


@pytest.fixture
def reader(twilio_standin: RunningStandin, openai_standin: RunningStandin) -> MediaReader:
    fetcher = MediaFetcher(twilio_standin.base_url, twilio_standin.account_sid, twilio_standin.auth_token,
                           (twilio_standin.client.media_host(),), 64 * 1024, DEFAULT_READABLE, timeout_seconds=3)
    return MediaReader(fetcher, Transcriber(openai_sdk(openai_standin), "gpt-4o-mini-transcribe"), DEFAULT_READABLE)


def stored(store: ConversationStore, twilio: RunningStandin, *files: tuple[bytes, str], **upload: str | int
           ) -> StoredMessage:
    """A message accepted into the store whose media are `files` (bytes, content type), uploaded to the stand-in."""
    sid = "MM" + uuid.uuid4().hex
    media = tuple(Media(twilio.client.upload_media(data, kind, message_sid=sid, **upload)["url"], kind)
                  for data, kind in files)
    inbound = InboundMessage(message_sid=sid, account_sid=twilio.account_sid, sender="whatsapp:+15551230000",
                             recipient="whatsapp:+15550000000", body="", user_id="15551230000", num_media=len(media),
                             received_at=time.time(), media=media)
    store.accept(inbound)
    message = store.load(sid)
    assert message is not None
    return message


def fetched(twilio: RunningStandin, message: StoredMessage) -> int:
    paths = [m.url.split("/Media/", 1)[1] for m in message.inbound.media]
    return sum(1 for f in twilio.client.media_fetches() if f["media_sid"] in paths)


@pytest.mark.parametrize(("content_type", "readable"), [
    ("audio/ogg", True), ("Audio/OGG; codecs=opus", True), ("image/jpeg", True), ("application/pdf", True),
    ("video/mp4", False), ("image/gif", False), ("text/vcard", False), ("application/msword", False), ("", False),
])
def test_the_bot_reads_voice_notes_images_and_pdfs_and_nothing_else(content_type: str, readable: bool) -> None:
    assert can_read(content_type, DEFAULT_READABLE) is readable


def test_a_wildcard_type_allows_a_whole_kind_and_the_default_setting_is_the_default_set() -> None:
    assert can_read("video/mp4", frozenset({"video/*"})) and not can_read("audio/ogg", frozenset({"video/*"}))
    default = Settings.model_fields["media_content_types"].default
    assert frozenset(default.split(",")) == DEFAULT_READABLE


def test_a_voice_note_is_transcribed_once_and_a_second_read_reuses_the_transcript(
        store: ConversationStore, twilio_standin: RunningStandin, openai_standin: RunningStandin,
        reader: MediaReader) -> None:
    message = stored(store, twilio_standin, (b"Where do I register?", "audio/ogg"))

    first = read_media(store, message, reader, give_up_on_failure=False)
    again = store.load(message.inbound.message_sid)
    assert again is not None and again.transcripts == {0: "Where do I register?"}
    second = read_media(store, again, reader, give_up_on_failure=False)

    assert first == second == MediaContent(text="Where do I register?", heard="Where do I register?")
    [upload] = openai_standin.client.transcriptions()
    assert (upload["filename"], upload["content_type"], upload["model"]) == (
        "voice-note-0.ogg", "audio/ogg", "gpt-4o-mini-transcribe")
    assert fetched(twilio_standin, message) == 2  # the API host and the media host, once


def test_a_silent_voice_note_says_so(store: ConversationStore, twilio_standin: RunningStandin,
                                     reader: MediaReader) -> None:
    message = stored(store, twilio_standin, (b"   ", "audio/ogg"))

    content = read_media(store, message, reader, give_up_on_failure=False)

    assert content == MediaContent(text="[The user sent a voice note with no words in it]")


def test_every_image_becomes_a_data_url_in_order(store: ConversationStore, twilio_standin: RunningStandin,
                                                 reader: MediaReader) -> None:
    message = stored(store, twilio_standin, (b"\xff\xd8first", "image/jpeg"), (b"\x89PNGsecond", "image/png"))

    content = read_media(store, message, reader, give_up_on_failure=False)

    assert [url.split(",", 1)[0] for url in content.images] == ["data:image/jpeg;base64", "data:image/png;base64"]
    assert [base64.b64decode(url.split(",", 1)[1]) for url in content.images] == [b"\xff\xd8first", b"\x89PNGsecond"]
    assert content.text == "[The user sent a photo]\n[The user sent a photo]" and content.heard == ""


def test_a_pdf_adds_its_text_and_a_long_one_is_cut(store: ConversationStore, twilio_standin: RunningStandin,
                                                    reader: MediaReader) -> None:
    short = stored(store, twilio_standin, (make_pdf("Registration form for Ward 7"), "application/pdf"))
    long = stored(store, twilio_standin, (make_pdf("a" * (PDF_MAX_CHARS + 500)), "application/pdf"))

    assert read_media(store, short, reader, give_up_on_failure=False).text == (
        "[The user sent a PDF; its text follows]\nRegistration form for Ward 7")
    cut = read_media(store, long, reader, give_up_on_failure=False).text
    assert cut.startswith("[The user sent a PDF; its text (the beginning) follows]\naaa") and cut.endswith("a…")
    assert len(cut) < PDF_MAX_CHARS + 100


def test_a_damaged_pdf_becomes_a_note(store: ConversationStore, twilio_standin: RunningStandin,
                                      reader: MediaReader) -> None:
    message = stored(store, twilio_standin, (b"%PDF-1.4 this is not really a PDF", "application/pdf"))

    assert read_media(store, message, reader, give_up_on_failure=False).text == (
        "[The user sent a PDF that could not be read: the file is damaged or not a PDF]")


def test_a_transient_failure_is_raised_for_a_retry_and_becomes_a_note_on_the_last_attempt(
        store: ConversationStore, twilio_standin: RunningStandin, reader: MediaReader) -> None:
    message = stored(store, twilio_standin, (b"hello", "audio/ogg"), fail_status=503, fail_times=2)

    with pytest.raises(TransientError):
        read_media(store, message, reader, give_up_on_failure=False)
    content = read_media(store, message, reader, give_up_on_failure=True)

    assert content.text == "[The user sent a voice note that could not be played: it could not be downloaded in time]"
    assert store.load(message.inbound.message_sid).transcripts == {}  # type: ignore[union-attr]


def test_a_transcription_that_fails_for_now_is_retried_not_paid_for_twice(
        store: ConversationStore, twilio_standin: RunningStandin, openai_standin: RunningStandin,
        reader: MediaReader) -> None:
    message = stored(store, twilio_standin, (b"hello", "audio/ogg"))
    openai_standin.client.fail(503, endpoint="transcribe")

    with pytest.raises(TransientError):
        read_media(store, message, reader, give_up_on_failure=False)
    assert read_media(store, message, reader, give_up_on_failure=False).text == "hello"


def test_a_permanent_failure_becomes_a_note_with_its_reason_at_once(
        store: ConversationStore, twilio_standin: RunningStandin, reader: MediaReader) -> None:
    message = stored(store, twilio_standin, (b"x" * (64 * 1024 + 1), "audio/ogg"), (b"ok", "image/jpeg"))

    content = read_media(store, message, reader, give_up_on_failure=False)

    assert content.text == "[The user sent a voice note that could not be played: too large]\n[The user sent a photo]"
    assert len(content.images) == 1


def test_media_of_a_kind_the_bot_does_not_read_is_noted_and_never_downloaded(
        store: ConversationStore, twilio_standin: RunningStandin, reader: MediaReader) -> None:
    message = stored(store, twilio_standin, (b"video", "video/mp4"), (b"BEGIN:VCARD", "text/vcard"))

    content = read_media(store, message, reader, give_up_on_failure=False)

    assert content.text == ("[The user sent a video (video/mp4), which this assistant cannot open]\n"
                            "[The user sent a file (text/vcard), which this assistant cannot open]")
    assert fetched(twilio_standin, message) == 0


def test_with_media_off_nothing_is_downloaded_and_the_model_is_told(
        store: ConversationStore, twilio_standin: RunningStandin) -> None:
    message = stored(store, twilio_standin, (b"hello", "audio/ogg"), (b"\xff\xd8", "image/jpeg"))

    content = read_media(store, message, None, give_up_on_failure=False)

    assert content == MediaContent(text="[The user sent a voice note, but media cannot be opened here at the moment]\n"
                                        "[The user sent a photo, but media cannot be opened here at the moment]")
    assert fetched(twilio_standin, message) == 0
