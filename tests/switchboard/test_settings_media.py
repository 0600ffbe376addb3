"""The media settings (issue 11): redirect hosts, content types, size cap, each checked at start-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from switchboard.clients.media_reader import MediaReader
from switchboard.settings import load_settings
from tests.switchboard.test_settings import CONVERSATION_SECRET, REQUIRED, config_error

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


@pytest.fixture
def env(hermetic_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in {**REQUIRED, "CONVERSATION_ID_SECRET": CONVERSATION_SECRET}.items():
        hermetic_env.setenv(name, value)
    return hermetic_env


def test_the_defaults_take_twilios_media_hosts_and_what_whatsapp_sends(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.media_redirect_hosts == ("*.twiliocdn.com", "s3-external-1.amazonaws.com")
    assert {"audio/ogg", "image/jpeg", "application/pdf"} <= settings.media_types
    assert (settings.media_max_bytes, settings.openai_transcription_model, settings.voice_echo_transcript) == (
        16 * 1024 * 1024, "gpt-4o-mini-transcribe", False)
    assert MediaReader.from_settings(settings) is not None
    assert MediaReader.from_settings(load_settings(media_enabled=False)) is None


def test_hosts_and_types_are_read_lowercased_and_trimmed(env: pytest.MonkeyPatch) -> None:
    settings = load_settings(twilio_media_redirect_hosts=" MMS.TwilioCDN.com , 127.0.0.1:8903,",
                             media_content_types="Audio/OGG, image/*")

    assert settings.media_redirect_hosts == ("mms.twiliocdn.com", "127.0.0.1:8903")
    assert settings.media_types == frozenset({"audio/ogg", "image/*"})


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("twilio_media_redirect_hosts", "https://mms.twiliocdn.com", "not a host"),
    ("twilio_media_redirect_hosts", "*", "not a host"),
    ("media_content_types", "audio", "not content types"),
    ("media_content_types", "*/*", "not content types"),
    ("media_max_bytes", 26 * 1024 * 1024, "MEDIA_MAX_BYTES"),
    ("media_timeout_seconds", 0, "MEDIA_TIMEOUT_SECONDS"),
])
def test_bad_media_settings_are_named(env: pytest.MonkeyPatch, name: str, value: object,
                                      reason: str) -> None:
    message = config_error(**{name: value})

    assert name.upper() in message and reason in message


def test_every_media_setting_is_documented_in_the_example_environment() -> None:
    documented = set(re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))

    assert {"MEDIA_ENABLED", "TWILIO_MEDIA_REDIRECT_HOSTS", "MEDIA_MAX_BYTES", "MEDIA_CONTENT_TYPES",
            "MEDIA_TIMEOUT_SECONDS", "OPENAI_TRANSCRIPTION_MODEL", "VOICE_ECHO_TRANSCRIPT"} <= documented
