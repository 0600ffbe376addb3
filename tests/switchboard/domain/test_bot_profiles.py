"""Bot profiles: each receiving number's prompt, knowledge and tools from BOTS_FILE, the settings for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.domain.bot_profiles import BotProfiles
from switchboard.settings import ConfigError, Settings, load_settings

REQUIRED = {
    "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
    "TWILIO_AUTH_TOKEN": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "OPENAI_API_KEY": "sk-test",
    "CONVERSATION_ID_SECRET": "s" * 32,
}
DESK = "whatsapp:+14155238886"


@pytest.fixture
def env(hermetic_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in REQUIRED.items():
        hermetic_env.setenv(name, value)
    return hermetic_env


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "knowledge" / "desk").mkdir(parents=True)
    (tmp_path / "knowledge" / "global").mkdir(parents=True)
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "desk.txt").write_text("  You are the registration desk.\n", encoding="utf-8")
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "desk.yaml").write_text("tools: []\n", encoding="utf-8")
    (tmp_path / "tools" / "global.yaml").write_text("tools: []\n", encoding="utf-8")
    return tmp_path


def settings_with(env: pytest.MonkeyPatch, folder: Path, bots: str | None, **variables: str) -> Settings:
    if bots is not None:
        (folder / "bots.yaml").write_text(bots, encoding="utf-8")
        env.setenv("BOTS_FILE", str(folder / "bots.yaml"))
    for name, value in variables.items():
        env.setenv(name, value)
    return load_settings()


def config_error(env: pytest.MonkeyPatch, folder: Path, bots: str, **variables: str) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_with(env, folder, bots, **variables)
    return str(caught.value)


def test_a_listed_number_gets_its_own_prompt_knowledge_contact_and_tools(env: pytest.MonkeyPatch,
                                                                          folder: Path) -> None:
    settings = settings_with(env, folder, f"""
bots:
  "{DESK}":
    name: Registration desk
    system_prompt_file: prompts/desk.txt
    knowledge_path: knowledge/desk
    knowledge_contact: "+1 555 0100"
    tools_file: tools/desk.yaml
""", SYSTEM_PROMPT="The global prompt.")

    desk = BotProfiles.from_settings(settings).for_number(DESK)

    assert desk.number == DESK
    assert desk.label == "Registration desk"
    assert desk.system_prompt == "You are the registration desk."
    assert desk.knowledge_path == folder / "knowledge" / "desk"
    assert desk.knowledge_contact == "+1 555 0100"
    assert desk.tools_file == folder / "tools" / "desk.yaml"


def test_fields_an_entry_leaves_out_come_from_the_settings(env: pytest.MonkeyPatch, folder: Path) -> None:
    settings = settings_with(env, folder, f"""
bots:
  "{DESK}":
    system_prompt: Only the prompt is the desk's own.
""", KNOWLEDGE_PATH=str(folder / "knowledge" / "global"), KNOWLEDGE_CONTACT="help@example.org",
        TOOLS_FILE=str(folder / "tools" / "global.yaml"))

    desk = BotProfiles.from_settings(settings).for_number(DESK)

    assert desk.system_prompt == "Only the prompt is the desk's own."
    assert desk.knowledge_path == folder / "knowledge" / "global"
    assert desk.knowledge_contact == "help@example.org"
    assert desk.tools_file == folder / "tools" / "global.yaml"


def test_null_turns_the_settings_knowledge_and_tools_off_for_one_bot(env: pytest.MonkeyPatch, folder: Path) -> None:
    settings = settings_with(env, folder, f"""
bots:
  "{DESK}":
    knowledge_path: null
    tools_file: null
""", KNOWLEDGE_PATH=str(folder / "knowledge" / "global"), TOOLS_FILE=str(folder / "tools" / "global.yaml"))

    desk = BotProfiles.from_settings(settings).for_number(DESK)

    assert (desk.knowledge_path, desk.tools_file) == (None, None)


def test_an_unlisted_number_and_the_sms_twin_of_a_listed_sender_get_the_settings_profile(
        env: pytest.MonkeyPatch, folder: Path) -> None:
    settings = settings_with(env, folder, f"""
bots:
  "{DESK}": {{system_prompt: The desk.}}
""", SYSTEM_PROMPT="The global prompt.")
    profiles = BotProfiles.from_settings(settings)

    assert profiles.for_number("whatsapp:+15550009999").system_prompt == "The global prompt."
    # The same digits without `whatsapp:` are an SMS number: another sender, so another bot.
    assert profiles.for_number("+14155238886").system_prompt == "The global prompt."
    assert profiles.for_number(DESK).system_prompt == "The desk."


def test_numbers_are_written_as_the_operator_likes_and_matched_as_twilio_sends_them(
        env: pytest.MonkeyPatch, folder: Path) -> None:
    settings = settings_with(env, folder, """
bots:
  "WhatsApp: +1 (415) 523-8886": {system_prompt: The desk.}
""")

    assert BotProfiles.from_settings(settings).for_number(DESK).system_prompt == "The desk."


def test_all_lists_the_bots_in_the_files_order_then_the_default(env: pytest.MonkeyPatch, folder: Path) -> None:
    settings = settings_with(env, folder, f"""
bots:
  "{DESK}": {{name: desk}}
  "+15550001111": {{name: sms line}}
""")

    assert [profile.label for profile in BotProfiles.from_settings(settings).all()] == ["desk", "sms line", "default"]


def test_without_a_bots_file_every_number_gets_the_settings_profile(env: pytest.MonkeyPatch, folder: Path) -> None:
    settings = settings_with(env, folder, None, SYSTEM_PROMPT="The global prompt.")
    profiles = BotProfiles.from_settings(settings)

    assert [profile.system_prompt for profile in profiles.all()] == ["The global prompt."]
    assert profiles.for_number(DESK) is profiles.default


@pytest.mark.parametrize(("bots", "expected"), [
    ("bots: [\n", "cannot be read as YAML"),
    ("numbers: {}\n", "must be a mapping with one key, `bots`"),
    (f'bots:\n  "{DESK}": {{prompt: typo}}\n', f"entry '{DESK}': unknown key 'prompt'"),
    ('bots:\n  "+1415": {}\n  "4155238886": {}\n', "entry '4155238886': not an E.164 number"),
    ("bots:\n  +14155238886: {}\n", "must be a quoted string"),
    (f'bots:\n  "{DESK}": {{knowledge_path: knowledge/nowhere}}\n', "knowledge_path: no such folder"),
    (f'bots:\n  "{DESK}": {{tools_file: tools/nowhere.yaml}}\n', "tools_file: no such file"),
    (f'bots:\n  "{DESK}": {{system_prompt_file: prompts/nowhere.txt}}\n', "system_prompt_file: no such file"),
    (f'bots:\n  "{DESK}": {{system_prompt: a, system_prompt_file: prompts/desk.txt}}\n', "not both"),
    (f'bots:\n  "{DESK}": {{}}\n  "whatsapp:+1 415 523 8886": {{}}\n', "the same number as entry"),
])
def test_a_bad_bots_file_stops_start_up_naming_the_file_and_the_entry(
        env: pytest.MonkeyPatch, folder: Path, bots: str, expected: str) -> None:
    message = config_error(env, folder, bots)

    assert f"BOTS_FILE {folder / 'bots.yaml'}" in message
    assert expected in message


def test_every_bad_entry_is_named_in_the_one_error(env: pytest.MonkeyPatch, folder: Path) -> None:
    message = config_error(env, folder, f"""
bots:
  "{DESK}": {{prompt: typo}}
  "+15550001111": {{tools_file: tools/nowhere.yaml}}
""")

    assert f"entry '{DESK}'" in message
    assert "entry '+15550001111'" in message


def test_a_bots_prompt_and_knowledge_must_fit_the_models_context_window(env: pytest.MonkeyPatch,
                                                                          folder: Path) -> None:
    # gpt-4 has 8192 tokens: 3000 of history, 500 of answer and 6000 of knowledge do not fit beside any prompt.
    message = config_error(env, folder, f"""
bots:
  "{DESK}": {{knowledge_path: knowledge/desk}}
  "+15550001111": {{system_prompt: No knowledge here.}}
""", OPENAI_MODEL="gpt-4")

    assert f"entry '{DESK}': its system prompt" in message
    assert "KNOWLEDGE_PROMPT_MAX_TOKENS 6000 (and about 250 for the instruction" in message
    assert "context window of OPENAI_MODEL gpt-4 (8192 tokens)" in message
    assert "+15550001111" not in message  # without knowledge the same model has room


def test_a_bots_file_that_breaks_after_start_up_is_a_config_error(env: pytest.MonkeyPatch, folder: Path) -> None:
    settings = settings_with(env, folder, f'bots:\n  "{DESK}": {{}}\n')
    (folder / "bots.yaml").write_text("bots: [\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="BOTS_FILE"):
        BotProfiles.from_settings(settings)


def test_a_bots_tools_file_is_checked_as_tools_file_is(env: pytest.MonkeyPatch, folder: Path) -> None:
    (folder / "tools" / "broken.yaml").write_text("tools: [{name: status}]\n", encoding="utf-8")
    (folder / "tools" / "status.yaml").write_text(
        "tools: [{name: status, description: The status., url: 'https://api.example.org/status'}]\n", encoding="utf-8")

    message = config_error(env, folder, f"""
bots:
  "{DESK}": {{tools_file: tools/broken.yaml}}
  "+15550001111": {{tools_file: tools/status.yaml}}
""")

    assert f"entry '{DESK}': TOOLS_FILE {folder / 'tools' / 'broken.yaml'}: " in message
    assert "entry '+15550001111': OPERATOR_SIGNING_SECRET: missing" in message


def test_a_bots_declared_tools_start_with_the_signing_secret(env: pytest.MonkeyPatch, folder: Path) -> None:
    (folder / "tools" / "status.yaml").write_text(
        "tools: [{name: status, description: The status., url: 'https://api.example.org/status'}]\n", encoding="utf-8")

    settings = settings_with(env, folder, f'bots:\n  "{DESK}": {{tools_file: tools/status.yaml}}\n',
                             OPERATOR_SIGNING_SECRET="o" * 32)

    assert BotProfiles.from_settings(settings).for_number(DESK).tools_file == folder / "tools" / "status.yaml"
