"""OpenAI: the key is taken and every configured model exists, asked of the stand-in by the real SDK."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from localdev.processes import free_port
from localdev.standins.openai_api import create_openai_standin
from localdev.standins.serving import serve_in_thread
from switchboard.clients.openai_models import ModelCatalog
from switchboard.operations.doctor.openai_checks import check_openai
from switchboard.operations.doctor.results import Status
from switchboard.settings import Settings


@pytest.fixture
def keyed_standin() -> Iterator[str]:
    """An OpenAI stand-in that takes only the key sk-right; its base URL."""
    base_url, stop = serve_in_thread(create_openai_standin(api_key="sk-right"))
    yield f"{base_url}/v1"
    stop()


def run(settings: Settings) -> dict[str, tuple[Status, str]]:
    return {r.check: (r.status, r.detail) for r in check_openai(ModelCatalog.from_settings(settings), settings)}


def test_a_taken_key_and_existing_models_pass_each_in_a_row(
        make_settings: Callable[..., Settings], keyed_standin: str) -> None:
    results = run(make_settings(openai_api_key="sk-right", openai_base_url=keyed_standin, openai_moderation=True))

    assert results == {
        "openai key": (Status.OK, "accepted"),
        "OPENAI_MODEL": (Status.OK, "gpt-4o-mini exists"),
        "OPENAI_TRANSCRIPTION_MODEL": (Status.OK, "gpt-4o-mini-transcribe exists"),
        "OPENAI_MODERATION_MODEL": (Status.OK, "omni-moderation-latest exists"),
    }


def test_a_model_openai_lacks_fails_naming_its_variable(
        make_settings: Callable[..., Settings], keyed_standin: str) -> None:
    results = run(make_settings(openai_api_key="sk-right", openai_base_url=keyed_standin, media_enabled=False,
                                openai_model="gpt-no-such-model"))

    # Media off: no voice note is transcribed, so the transcription model is not asked about.
    assert results == {"openai key": (Status.OK, "accepted"),
                       "OPENAI_MODEL": (Status.FAIL, "OpenAI has no model gpt-no-such-model for this key (404)")}


def test_a_refused_key_or_an_unreachable_openai_fails_in_one_row(
        make_settings: Callable[..., Settings], keyed_standin: str) -> None:
    refused = run(make_settings(openai_api_key="sk-wrong", openai_base_url=keyed_standin))
    unreachable = run(make_settings(openai_base_url=f"http://127.0.0.1:{free_port()}/v1"))

    assert refused == {"openai key": (Status.FAIL, "OpenAI refused OPENAI_API_KEY (HTTP 401)")}
    assert unreachable == {"openai": (Status.FAIL, "OpenAI unreachable: APIConnectionError")}
