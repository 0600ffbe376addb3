"""Transcriber and image input through the real openai SDK, against the OpenAI stand-in over HTTP."""

from __future__ import annotations

import pytest

from localdev.standins.openai_api import last_user_images
from switchboard.clients.openai_client import CompletionClient, Transcriber
from switchboard.errors import PermanentError, TransientError
from switchboard.settings import Settings, load_settings
from tests.harness.standins import RunningStandin

PIXEL = "data:image/png;base64,iVBORw0KGgo="


def settings_for(openai_standin: RunningStandin, **overrides: object) -> Settings:
    return load_settings(**{
        "twilio_account_sid": "AC" + "c" * 32, "twilio_auth_token": "a1b2c3d4" * 4, "conversation_id_secret": "k" * 32,
        "openai_api_key": "sk-test", "openai_base_url": f"{openai_standin.base_url}/v1", "openai_timeout_seconds": 3,
        **overrides,
    })


@pytest.fixture
def transcriber(hermetic_env: pytest.MonkeyPatch, openai_standin: RunningStandin) -> Transcriber:
    return Transcriber.from_settings(settings_for(openai_standin, openai_transcription_model="whisper-1"))


def test_a_voice_note_is_transcribed_with_the_configured_model(
        transcriber: Transcriber, openai_standin: RunningStandin) -> None:
    text = transcriber.transcribe("voice-note-0.ogg", b"  When does registration open?\n", "audio/ogg")

    assert text == "When does registration open?"
    [upload] = openai_standin.client.transcriptions()
    assert (upload["model"], upload["filename"], upload["content_type"], upload["size"]) == (
        "whisper-1", "voice-note-0.ogg", "audio/ogg", 31)


def test_an_unavailable_transcription_is_transient_and_tried_once(
        transcriber: Transcriber, openai_standin: RunningStandin) -> None:
    openai_standin.client.fail(503, endpoint="transcribe")

    with pytest.raises(TransientError, match="OpenAI transcription"):
        transcriber.transcribe("voice-note-0.ogg", b"hello", "audio/ogg")
    assert len(openai_standin.client.transcriptions()) == 1  # the SDK's own retries are off


def test_a_file_openai_cannot_tell_the_format_of_is_permanent(transcriber: Transcriber) -> None:
    with pytest.raises(PermanentError, match="status 400"):
        transcriber.transcribe("voice-note", b"hello", "audio/ogg")


def test_a_completion_takes_a_user_turn_of_text_and_image_parts(
        hermetic_env: pytest.MonkeyPatch, openai_standin: RunningStandin) -> None:
    completions = CompletionClient.from_settings(settings_for(openai_standin))
    turn = {"role": "user", "content": [{"type": "text", "text": "What is on this form?"},
                                        {"type": "image_url", "image_url": {"url": PIXEL}}]}

    assert completions.complete([{"role": "system", "content": "Be brief."}, turn]) == \
        "echo: What is on this form? [1 image]"
    [request] = openai_standin.client.requests()
    assert last_user_images(request["messages"]) == [PIXEL]
