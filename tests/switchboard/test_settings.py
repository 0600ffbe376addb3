"""load_settings: read from the environment, checked at start-up, one error naming every bad variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.settings import DEFAULT_SYSTEM_PROMPT, ConfigError, check_web_settings, get_settings, load_settings

REQUIRED = {
    "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
    "TWILIO_AUTH_TOKEN": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "OPENAI_API_KEY": "sk-test",
}
CONVERSATION_SECRET = "s" * 32  # required on AWS (no SQS_ENDPOINT_URL), as these tests' defaults are


@pytest.fixture
def env(hermetic_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in REQUIRED.items():
        hermetic_env.setenv(name, value)
    hermetic_env.setenv("CONVERSATION_ID_SECRET", CONVERSATION_SECRET)
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


# --- what a forged request or a mistaken setting could open (issue 9) ---------------------------------


@pytest.mark.parametrize("token", ["", "   ", "change-me", "CHANGE-ME", "your_auth_token", "0" * 32, "f" * 32])
def test_an_empty_or_placeholder_auth_token_stops_the_start(env: pytest.MonkeyPatch, token: str) -> None:
    env.setenv("TWILIO_AUTH_TOKEN", token)

    assert "TWILIO_AUTH_TOKEN" in config_error()


@pytest.mark.parametrize("token", ["token-" + "a" * 32, "0f1e2d3c4b5a69788796a5b4c3d2e1f", "0f1e2d3c4b5a69788796a5b4c3d2e1f0 ",
                                   "0F1E2D3C4B5A69788796A5B4C3D2E1F0", "local-dev-auth-token"])
def test_an_auth_token_not_in_the_shape_twilio_issues_stops_the_start(env: pytest.MonkeyPatch, token: str) -> None:
    env.setenv("TWILIO_AUTH_TOKEN", token)

    assert "TWILIO_AUTH_TOKEN: not an auth token Twilio issues" in config_error()


def test_the_test_token_override_works_only_against_local_stand_ins(env: pytest.MonkeyPatch) -> None:
    env.setenv("TWILIO_AUTH_TOKEN", "any-test-token")
    env.setenv("ALLOW_TEST_AUTH_TOKEN", "true")
    # On AWS, or with the real Twilio API, the override would matter: refused.
    assert "ALLOW_TEST_AUTH_TOKEN: only for tests" in config_error()
    env.setenv("SQS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert "ALLOW_TEST_AUTH_TOKEN: only for tests" in config_error()

    env.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:8901")
    assert load_settings().twilio_auth_token.get_secret_value() == "any-test-token"
    env.setenv("TWILIO_AUTH_TOKEN", "change-me")  # never a placeholder, override or not
    assert "TWILIO_AUTH_TOKEN" in config_error()


def test_the_claim_outlives_the_record_by_default(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.message_claim_ttl_seconds == 90 * 24 * 3600
    assert settings.message_ttl_seconds == 7 * 24 * 3600
    assert settings.history_ttl_seconds == 7 * 24 * 3600


def test_a_message_ttl_shorter_than_sqs_retention_plus_the_outbox_wait_stops_the_start(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("MESSAGE_TTL_SECONDS", str(4 * 24 * 3600))  # SQS's retention alone
    assert "MESSAGE_TTL_SECONDS: must be at least" in config_error()

    env.setenv("OUTBOX_MAX_WAIT_SECONDS", "0")
    assert load_settings().message_ttl_seconds == 4 * 24 * 3600


def test_a_claim_that_would_expire_before_the_record_stops_the_start(env: pytest.MonkeyPatch) -> None:
    env.setenv("MESSAGE_CLAIM_TTL_SECONDS", str(6 * 24 * 3600))

    assert "MESSAGE_CLAIM_TTL_SECONDS" in config_error()


def test_the_history_keeps_its_own_ttl_apart_from_the_message_record(env: pytest.MonkeyPatch) -> None:
    env.setenv("HISTORY_TTL_SECONDS", "3600")

    settings = load_settings()
    assert (settings.history_ttl_seconds, settings.message_ttl_seconds) == (3600, 7 * 24 * 3600)


def test_the_conversation_id_secret_is_required_on_aws_only(env: pytest.MonkeyPatch) -> None:
    env.delenv("CONVERSATION_ID_SECRET")
    assert "CONVERSATION_ID_SECRET: missing" in config_error()

    env.setenv("CONVERSATION_ID_SECRET", "short")
    assert "CONVERSATION_ID_SECRET: " in config_error()

    env.delenv("CONVERSATION_ID_SECRET")
    env.setenv("SQS_ENDPOINT_URL", "http://127.0.0.1:4566")
    settings = load_settings()
    assert settings.conversation_key() == REQUIRED["TWILIO_AUTH_TOKEN"].encode()  # off AWS, the token stands in


@pytest.mark.parametrize("name", ["TWILIO_API_BASE_URL", "OPENAI_BASE_URL"])
def test_plain_http_to_a_vendor_api_is_refused_unless_the_host_is_loopback(env: pytest.MonkeyPatch, name: str) -> None:
    env.setenv(name, "http://api.example.com")
    assert f"{name}: " in config_error()

    for local in ("http://127.0.0.1:8901", "http://localhost:8901/v1", "http://[::1]:8901", "https://api.example.com"):
        env.setenv(name, local)
        assert load_settings()


def test_a_redis_password_never_shows_in_a_repr_or_an_error(env: pytest.MonkeyPatch) -> None:
    env.setenv("REDIS_URL", "redis://:hunter2-redis-password@redis.internal:6379/0")
    settings = load_settings()

    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())
    env.setenv("OPENAI_MODEL", "")  # any error elsewhere: the report names variables, never values
    env.setenv("SQS_MAX_RECEIVE_COUNT", "lots")
    assert "hunter2" not in config_error()
    assert settings.redis_url.get_secret_value().endswith("@redis.internal:6379/0")


def test_the_web_on_aws_needs_a_public_base_url_or_an_explicit_number_of_proxy_hops(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL or TRUSTED_PROXY_HOPS"):
        check_web_settings(load_settings())

    check_web_settings(load_settings(public_base_url="https://bot.example.com"))
    check_web_settings(load_settings(trusted_proxy_hops=0))  # explicit: no proxy, the Host is ours
    assert load_settings(trusted_proxy_hops=1).proxy_hops == 1
    assert load_settings().proxy_hops == 0  # not set: X-Forwarded-* are not trusted
    check_web_settings(load_settings(sqs_endpoint_url="http://127.0.0.1:4566"))  # not on AWS


def test_blank_optional_security_settings_read_as_unset(env: pytest.MonkeyPatch) -> None:
    # As `.env.example` lists them, copied to .env and loaded by honcho.
    for name in ("TRUSTED_PROXY_HOPS", "TWILIO_WEBHOOK_SHARED_KEY_SECRET"):
        env.setenv(name, "")

    settings = load_settings()
    assert (settings.trusted_proxy_hops, settings.twilio_webhook_shared_key_secret) == (None, None)


# --- history budget (issue 11) -------------------------------------------------------------------------


def test_the_history_budget_defaults_to_tokens_with_no_character_bound(env: pytest.MonkeyPatch) -> None:
    env.setenv("HISTORY_MAX_CHARS", "")  # as `.env.example` lists it

    settings = load_settings()

    assert (settings.history_max_tokens, settings.history_max_chars, settings.history_summary) == (3000, None, True)


def test_a_history_budget_that_cannot_fit_the_models_context_window_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPENAI_MODEL", "gpt-4-0613")  # 8192 tokens
    env.setenv("HISTORY_MAX_TOKENS", "8000")

    message = config_error()

    assert "HISTORY_MAX_TOKENS: 8000" in message and "OPENAI_MODEL gpt-4-0613 (8192 tokens)" in message
    env.setenv("OPENAI_MODEL", "gpt-4o")
    assert load_settings().history_max_tokens == 8000


def test_an_unknown_model_is_held_to_a_conservative_window(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPENAI_MODEL", "my-local-llama")
    env.setenv("HISTORY_MAX_TOKENS", "10000")

    assert "assumed for a model" in config_error()


def test_the_system_prompt_counts_against_the_context_window(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPENAI_MODEL", "gpt-4")
    env.setenv("SYSTEM_PROMPT", "Be very thorough. " * 1500)  # about 6750 tokens

    assert "HISTORY_MAX_TOKENS" in config_error()


def test_the_summary_may_take_at_most_half_the_history_budget(env: pytest.MonkeyPatch) -> None:
    env.setenv("HISTORY_MAX_TOKENS", "1000")
    env.setenv("HISTORY_SUMMARY_MAX_TOKENS", "501")

    assert "HISTORY_SUMMARY_MAX_TOKENS: at most half" in config_error()
    env.setenv("HISTORY_SUMMARY_MAX_TOKENS", "500")
    assert load_settings().history_summary_max_tokens == 500


def test_receives_long_poll_20_s_on_aws_and_1_s_on_a_local_endpoint_unless_set(env: pytest.MonkeyPatch) -> None:
    assert load_settings().long_poll_seconds == 20

    env.setenv("SQS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert load_settings().long_poll_seconds == 1

    env.setenv("SQS_WAIT_TIME_SECONDS", "5")
    assert load_settings().long_poll_seconds == 5
    env.delenv("SQS_ENDPOINT_URL")
    assert load_settings().long_poll_seconds == 5

    env.setenv("SQS_WAIT_TIME_SECONDS", "21")
    assert "SQS_WAIT_TIME_SECONDS" in config_error()


def test_on_aws_a_handoff_webhook_without_a_signing_secret_refuses_to_start(env: pytest.MonkeyPatch) -> None:
    env.setenv("HANDOFF_WEBHOOK_URL", "https://desk.example.org/handoffs")

    assert "OPERATOR_SIGNING_SECRET: missing (required on AWS with HANDOFF_WEBHOOK_URL" in config_error()
    env.setenv("OPERATOR_SIGNING_SECRET", "k" * 32)
    assert load_settings().handoff_webhook_url == "https://desk.example.org/handoffs"
