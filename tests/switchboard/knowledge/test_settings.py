"""The knowledge settings' start-up check: the budget must fit the model's window beside the prompt and history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from switchboard.knowledge.instruction import knowledge_block
from switchboard.settings import ConfigError, Settings
from switchboard.settings.knowledge import KNOWLEDGE_INSTRUCTION_TOKENS
from switchboard.tokens import count_text


def test_a_budget_the_models_window_cannot_hold_is_named_at_start_up(
        folder: Path, make_settings: Callable[..., Settings]) -> None:
    # gpt-4's 8192 tokens: 6000 of knowledge, 3000 of history and 500 of output do not fit.
    with pytest.raises(ConfigError) as caught:
        make_settings(openai_model="gpt-4", knowledge_path=folder)

    assert "KNOWLEDGE_PROMPT_MAX_TOKENS: 6000" in str(caught.value)
    assert "OPENAI_MODEL gpt-4 (8192 tokens)" in str(caught.value)
    assert make_settings(openai_model="gpt-4", knowledge_path=folder, knowledge_prompt_max_tokens=4000)


def test_without_a_folder_the_budget_is_not_checked(make_settings: Callable[..., Settings]) -> None:
    assert make_settings(openai_model="gpt-4").knowledge_prompt_max_tokens == 6000


def test_a_missing_folder_is_named(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="KNOWLEDGE_PATH: .*no such folder"):
        make_settings(knowledge_path=tmp_path / "nowhere")


def test_the_instruction_with_a_long_contact_costs_no_more_than_the_check_allows() -> None:
    contact = "the registration office at 14 Station Road, +1 555 010 2030, registration@example.org, " * 2

    longest = max(count_text(knowledge_block("", contact, retrieved=retrieved)) for retrieved in (True, False))

    assert longest <= KNOWLEDGE_INSTRUCTION_TOKENS
