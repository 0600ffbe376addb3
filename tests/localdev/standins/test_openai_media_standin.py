"""The OpenAI stand-in's audio transcription and image input, through the real openai SDK."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from localdev.standins.openai_api import last_user_images, last_user_text
from tests.harness.standins import RunningStandin

PIXEL = "data:image/png;base64,iVBORw0KGgo="


def test_it_transcribes_text_bytes_as_what_was_said_and_records_the_upload(
        sdk: openai.OpenAI, openai_standin: RunningStandin) -> None:
    result = sdk.audio.transcriptions.create(model="gpt-4o-mini-transcribe",
                                             file=("note.ogg", b"Is the office open?", "audio/ogg"))

    assert result.text == "Is the office open?"
    assert openai_standin.client.transcriptions() == [{"model": "gpt-4o-mini-transcribe", "filename": "note.ogg",
                                                       "content_type": "audio/ogg", "size": 19,
                                                       "response_format": None}]


def test_real_audio_is_heard_as_a_sentence_naming_its_size(sdk: openai.OpenAI) -> None:
    result = sdk.audio.transcriptions.create(model="whisper-1", file=("note.ogg", b"OggS\x00\x02\xff\xfe", "audio/ogg"))

    assert result.text == "(the stand-in heard 8 bytes of audio)"


def test_a_plain_text_answer_is_given_when_asked_for(sdk: openai.OpenAI) -> None:
    text = sdk.audio.transcriptions.create(model="whisper-1", file=("note.mp3", b"hello", "audio/mpeg"),
                                           response_format="text")

    assert text.strip() == "hello"


def test_a_file_name_without_a_supported_format_is_refused_as_openai_does(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="Invalid file format"):
        sdk.audio.transcriptions.create(model="whisper-1", file=("note", b"hello", "audio/ogg"))


def test_injected_faults_and_replies_apply_to_transcriptions(sdk: openai.OpenAI, openai_standin: RunningStandin) -> None:
    openai_standin.client.fail(503, endpoint="transcribe")
    openai_standin.client.add_fault(endpoint="transcribe", reply="misheard words")

    with pytest.raises(openai.InternalServerError):
        sdk.audio.transcriptions.create(model="whisper-1", file=("a.ogg", b"hello", "audio/ogg"))
    assert sdk.audio.transcriptions.create(model="whisper-1", file=("a.ogg", b"x", "audio/ogg")).text == "misheard words"
    assert sdk.audio.transcriptions.create(model="whisper-1", file=("a.ogg", b"hi", "audio/ogg")).text == "hi"


def test_a_chat_turn_with_images_is_echoed_with_their_count_and_recorded(
        sdk: openai.OpenAI, openai_standin: RunningStandin) -> None:
    turn: Any = {"role": "user", "content": [{"type": "text", "text": "Read this"},
                                             {"type": "image_url", "image_url": {"url": PIXEL}},
                                             {"type": "image_url", "image_url": {"url": PIXEL}}]}

    response = sdk.chat.completions.create(model="gpt-test", messages=[turn])

    assert response.choices[0].message.content == "echo: Read this [2 images]"
    [request] = openai_standin.client.requests()
    assert last_user_text(request["messages"]) == "Read this"
    assert last_user_images(request["messages"]) == [PIXEL, PIXEL]
