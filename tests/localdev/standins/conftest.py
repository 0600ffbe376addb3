"""Fixtures for the stand-in tests: the real SDKs, pointed at the session's stand-ins."""

from __future__ import annotations

import openai
import pytest
from twilio.rest import Client

from tests.harness.standins import RunningStandin, openai_sdk, twilio_sdk


@pytest.fixture
def twilio(twilio_standin: RunningStandin) -> Client:
    return twilio_sdk(twilio_standin)


@pytest.fixture
def sdk(openai_standin: RunningStandin) -> openai.OpenAI:
    return openai_sdk(openai_standin)
