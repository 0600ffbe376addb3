"""The OpenAI stand-in's Models API, as the real openai SDK reads it: known models, 404s, added models, keys."""

from __future__ import annotations

import openai
import pytest
import requests

from localdev.standins.openai_api import create_openai_standin
from localdev.standins.serving import serve_in_thread
from tests.harness.standins import RunningStandin


def test_it_knows_switchboards_default_models_and_answers_404_in_openais_shape_for_others(
        sdk: openai.OpenAI) -> None:
    model = sdk.models.retrieve("gpt-4o-mini")
    assert (model.id, model.object, model.owned_by) == ("gpt-4o-mini", "model", "system")
    assert "gpt-4o-mini-transcribe" in [m.id for m in sdk.models.list()]

    with pytest.raises(openai.NotFoundError) as missing:
        sdk.models.retrieve("gpt-no-such-model")
    assert missing.value.code == "model_not_found"
    assert "gpt-no-such-model" in missing.value.message


def test_a_model_added_through_the_control_route_exists_until_a_reset(
        sdk: openai.OpenAI, openai_standin: RunningStandin) -> None:
    requests.post(f"{openai_standin.base_url}/_standin/models", json={"id": "gpt-test"}, timeout=5).raise_for_status()
    assert sdk.models.retrieve("gpt-test").id == "gpt-test"

    openai_standin.client.reset()

    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("gpt-test")


def test_a_stand_in_with_a_key_refuses_another_with_401() -> None:
    base_url, stop = serve_in_thread(create_openai_standin(api_key="sk-right"))
    try:
        wrong = openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-wrong", max_retries=0, timeout=5)
        with pytest.raises(openai.AuthenticationError) as refused:
            wrong.models.retrieve("gpt-4o-mini")
        assert refused.value.code == "invalid_api_key"
    finally:
        stop()
