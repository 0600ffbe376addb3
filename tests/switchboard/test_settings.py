"""load_settings: read from the environment, checked at start-up, one error naming every bad variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.settings import DEFAULT_SYSTEM_PROMPT, ConfigError, get_settings, load_settings

REQUIRED = {
    "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
    "TWILIO_AUTH_TOKEN": "token",
    "OPENAI_API_KEY": "sk-test",
}


@pytest.fixture
def env(hermetic_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in REQUIRED.items():
        hermetic_env.setenv(name, value)
    return hermetic_env


def config_error(**overrides: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    return str(caught.value)


def test_missing_required_variables_are_all_named_in_one_error(hermetic_env: pytest.MonkeyPatch) -> None:
    message = config_error()

    for name in REQUIRED:
        assert f"{name}: missing" in message


def test_bad_values_are_named(env: pytest.MonkeyPatch) -> None:
    env.setenv("SQS_ENDPOINT_URL", "not a url")
    env.setenv("TWILIO_ACCOUNT_SID", "XX")

    message = config_error()

    assert "SQS_ENDPOINT_URL" in message
    assert "TWILIO_ACCOUNT_SID" in message
    assert "OPENAI_API_KEY" not in message


def test_aws_keys_must_come_in_pairs(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_ACCESS_KEY_ID", "AKIA-only")
    assert "AWS_SECRET_ACCESS_KEY" in config_error()

    env.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert load_settings().aws_secret_access_key.get_secret_value() == "secret"  # type: ignore[union-attr]


def test_the_defaults_point_at_twilio_and_fifo_queues(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.twilio_api_base_url == "https://api.twilio.com"
    assert settings.sqs_fifo is True
    assert settings.sqs_endpoint_url is None
    assert settings.sqs_is_secure is True
    assert settings.system_prompt_text() == DEFAULT_SYSTEM_PROMPT


def test_sqs_fifo_can_be_turned_off(env: pytest.MonkeyPatch) -> None:
    env.setenv("SQS_FIFO", "false")

    assert load_settings().sqs_fifo is False


def test_the_system_prompt_file_wins_over_the_system_prompt(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    prompt_file = tmp_path / "prompt.txt"
    prompt_file.write_text("  From the file.\n", encoding="utf-8")
    env.setenv("SYSTEM_PROMPT", "From the variable.")
    assert load_settings().system_prompt_text() == "From the variable."

    env.setenv("SYSTEM_PROMPT_FILE", str(prompt_file))
    assert load_settings().system_prompt_text() == "From the file."


def test_a_system_prompt_file_that_does_not_exist_is_named(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("SYSTEM_PROMPT_FILE", str(tmp_path / "missing.txt"))

    assert "SYSTEM_PROMPT_FILE" in config_error()


def test_sqs_is_not_secure_for_an_http_endpoint(env: pytest.MonkeyPatch) -> None:
    env.setenv("SQS_ENDPOINT_URL", "http://127.0.0.1:5000/")
    settings = load_settings()

    assert settings.sqs_is_secure is False
    assert settings.sqs_endpoint_url == "http://127.0.0.1:5000"
    assert load_settings(sqs_endpoint_url="https://sqs.example").sqs_is_secure is True


def test_overrides_win_over_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPENAI_MODEL", "from-env")

    assert load_settings(openai_model="from-override").openai_model == "from-override"


def test_get_settings_reads_once_until_its_cache_is_cleared(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPENAI_MODEL", "first")
    first = get_settings()
    env.setenv("OPENAI_MODEL", "second")

    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().openai_model == "second"
