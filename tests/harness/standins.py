"""Stand-ins served in-thread for a test session, each with its URL and a control client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import openai
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from localdev.standins.client import StandinClient
from localdev.standins.openai_api import create_openai_standin
from localdev.standins.serving import serve_in_thread
from localdev.standins.twilio_api import create_twilio_standin


@dataclass
class RunningStandin:
    """A stand-in on a background thread: `base_url` for the code under test, `client` for the test."""

    base_url: str
    client: StandinClient
    stop: Callable[[], None] = field(repr=False)
    account_sid: str = ""  # Twilio only
    auth_token: str = ""  # Twilio only


def start_twilio(account_sid: str, auth_token: str) -> RunningStandin:
    base_url, stop = serve_in_thread(create_twilio_standin(account_sid, auth_token))
    return RunningStandin(base_url, StandinClient(base_url), stop, account_sid, auth_token)


def start_openai(offline: bool = False) -> RunningStandin:
    base_url, stop = serve_in_thread(create_openai_standin(offline=offline))
    return RunningStandin(base_url, StandinClient(base_url), stop)


def twilio_sdk(standin: RunningStandin, auth_token: str | None = None, timeout: float | None = None) -> Client:
    """The real twilio SDK pointed at the stand-in, one try per call (as Switchboard's wrapper makes it)."""
    client = Client(
        standin.account_sid,
        auth_token or standin.auth_token,
        http_client=TwilioHttpClient(timeout=timeout, max_retries=0),
    )
    # Every Messages URL is built from this base; TWILIO_EDGE/TWILIO_REGION would still rewrite its host.
    client.api.base_url = standin.base_url
    return client


def openai_sdk(standin: RunningStandin, timeout: float = 2) -> openai.OpenAI:
    """The real openai SDK pointed at the stand-in, with its own retries off so every fault shows."""
    return openai.OpenAI(base_url=f"{standin.base_url}/v1", api_key="sk-test", max_retries=0, timeout=timeout)
