"""The WhatsApp delivery settings (issue 11): checked at start-up, with what Twilio would refuse named."""

from __future__ import annotations

import pytest

from switchboard.settings import ConfigError, load_settings
from tests.switchboard.test_settings import CONVERSATION_SECRET, REQUIRED, config_error


@pytest.fixture
def env(hermetic_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in {**REQUIRED, "CONVERSATION_ID_SECRET": CONVERSATION_SECRET}.items():
        hermetic_env.setenv(name, value)
    return hermetic_env


def test_the_defaults_show_typing_send_no_template_and_wait_for_parts(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.whatsapp_typing_indicator is True
    assert settings.whatsapp_template_content_sid is None
    assert settings.template_variables == {"1": "{answer}"}
    assert settings.part_order_wait_seconds == 30
    assert settings.messaging_base_url == "https://messaging.twilio.com"


def test_the_messaging_api_follows_a_stand_in_unless_set(env: pytest.MonkeyPatch) -> None:
    env.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:8901")
    assert load_settings().messaging_base_url == "http://127.0.0.1:8901"

    env.setenv("TWILIO_MESSAGING_BASE_URL", "https://messaging.example.test/")
    assert load_settings().messaging_base_url == "https://messaging.example.test"


def test_a_blank_template_sid_is_unset_and_a_malformed_one_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("WHATSAPP_TEMPLATE_CONTENT_SID", "")
    assert load_settings().whatsapp_template_content_sid is None

    assert "WHATSAPP_TEMPLATE_CONTENT_SID" in config_error(whatsapp_template_content_sid="MG" + "0" * 32)


@pytest.mark.parametrize(("variables", "reason"), [
    ("not json", "not JSON"),
    ("[]", "JSON object"),
    ("{}", "JSON object"),
    ('{"a key with spaces": "{answer}"}', "no spaces"),
    ('{"12345678901234567": "{answer}"}', "1 to 16 characters"),
    ('{"1": ""}', "non-empty"),
    ('{"1": 5}', "non-empty string"),
    ('{"1": "{question}"}', "only {answer} and {profile_name}"),
    ('{"1": "{answer"}', "literal brace"),
])
def test_template_variables_twilio_or_we_would_refuse_stop_the_start(
    env: pytest.MonkeyPatch, variables: str, reason: str
) -> None:
    env.setenv("WHATSAPP_TEMPLATE_VARIABLES", variables)

    with pytest.raises(ConfigError, match="WHATSAPP_TEMPLATE_VARIABLES") as caught:
        load_settings()
    assert reason in str(caught.value)


def test_plain_http_to_another_host_is_refused_for_the_messaging_api(env: pytest.MonkeyPatch) -> None:
    assert "plain http" in config_error(twilio_messaging_base_url="http://messaging.example.test")
