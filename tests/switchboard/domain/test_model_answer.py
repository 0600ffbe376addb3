"""model_answer: the bot's prompt, its facts and its tools put before the model, for the pipeline and evals alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from switchboard.domain.bot_profiles import BotProfile
from switchboard.domain.model_answer import CalledTool, model_answer
from switchboard.domain.user_turn import UserTurn
from switchboard.knowledge import Knowledge
from switchboard.settings import Settings
from switchboard.tools import AssistantTurn, Identity, LocalTool, MemoryToolLedger, Toolbox
from tests.switchboard.tools.fakes import RecordingExecutor, ScriptedModel, calls

IDENTITY = Identity(user_id="15551234567", sender="whatsapp:+15551234567", conversation="c1",
                    message_sid="SM" + "1" * 32, bot_number="whatsapp:+14155238886")
NO_TOOLS = Toolbox()
STATUS = LocalTool(name="registration_status", description="The asker's registration status.",
                   parameters={"type": "object", "properties": {"season": {"type": "string"}}},
                   run=lambda arguments, identity: '{"status": "confirmed"}')


class Model(ScriptedModel):
    """Plays scripted tool turns, and answers a plain completion with `text`, recording each prompt."""

    def __init__(self, text: str = "An answer.", turns: Sequence[AssistantTurn] = ()) -> None:
        super().__init__(list(turns))
        self.text = text
        self.prompts: list[list[dict[str, Any]]] = []

    def complete(self, messages: Sequence[Mapping[str, Any]]) -> str:
        self.prompts.append([dict(message) for message in messages])
        return self.text


def profile(prompt: str = "You are the registration desk.", contact: str = "") -> BotProfile:
    return BotProfile(number="whatsapp:+14155238886", system_prompt=prompt, knowledge_path=None,
                      knowledge_contact=contact, tools_file=None)


@pytest.fixture
def knowledge(tmp_path: Path, settings: Settings) -> Knowledge:
    (tmp_path / "fees.md").write_text("# Fees\n\nRegistration costs $60 per player.\n", encoding="utf-8")
    return Knowledge.from_folder(tmp_path, settings)


@pytest.fixture
def settings(hermetic_env: pytest.MonkeyPatch) -> Settings:
    return Settings.model_validate({"twilio_account_sid": "AC" + "a" * 32, "openai_api_key": "sk-test",
                                    "twilio_auth_token": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                                    "conversation_id_secret": "s" * 32})


def answer(model: Model, knowledge: Knowledge, toolbox: Toolbox = NO_TOOLS, *, bot: BotProfile | None = None,
           history: Sequence[Mapping[str, str]] = (), name_line: str = "", ledger: MemoryToolLedger | None = None,
           executor: RecordingExecutor | None = None) -> Any:
    return model_answer(
        model, bot or profile(), knowledge, toolbox, history, [UserTurn("How much does it cost?")],  # type: ignore[arg-type]
        IDENTITY, executor=executor or RecordingExecutor({}), ledger=ledger or MemoryToolLedger(), max_rounds=3,
        history_max_tokens=3000, name_line=name_line)


def test_the_system_text_is_the_bots_prompt_then_its_facts_then_the_users_name(knowledge: Knowledge) -> None:
    model = Model()

    answer(model, knowledge, bot=profile(contact="+1 555 0100"), name_line='The user\'s name is "Ana".')

    system = model.prompts[0][0]["content"]
    assert system.startswith("You are the registration desk.\n\n")
    assert system.index("Registration costs $60") < system.index('"Ana"')  # the shared prefix comes first
    assert "+1 555 0100" in system  # the bot's own contact, whatever KNOWLEDGE_CONTACT says
    assert system.endswith('The user\'s name is "Ana".')


def test_without_knowledge_the_system_text_is_the_prompt_alone() -> None:
    model = Model()

    answer(model, Knowledge.empty())

    assert model.prompts[0][0] == {"role": "system", "content": "You are the registration desk."}


def test_the_history_and_the_new_turn_follow_the_system_text(knowledge: Knowledge) -> None:
    model = Model()
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]

    result = answer(model, knowledge, history=history)

    assert [m["content"] for m in model.prompts[0][1:]] == ["Hi", "Hello!", "How much does it cost?"]
    assert (result.text, result.tool_calls) == ("An answer.", ())


def test_with_tools_the_function_calling_loop_answers_and_the_calls_are_returned(knowledge: Knowledge) -> None:
    model = Model(turns=[calls(("registration_status", {"season": "spring"})), AssistantTurn("It is confirmed.")])

    result = answer(model, knowledge, Toolbox(local=[STATUS]))

    assert result.text == "It is confirmed."
    assert result.tool_calls == (CalledTool("registration_status", {"season": "spring"}),)
    assert model.prompts == []  # the plain completion is not used when there are tools
    offered = model.requests[0]
    assert [tool["function"]["name"] for tool in offered["tools"]] == ["registration_status"]
    assert "Registration costs $60" in offered["messages"][0]["content"]


def test_a_redelivered_answer_lists_the_replayed_calls_without_calling_again(knowledge: Knowledge) -> None:
    ledger = MemoryToolLedger()
    executor = RecordingExecutor({"lookup": '{"status": "confirmed"}'})
    toolbox = Toolbox(local=[LocalTool(name="lookup", description="d", parameters={"type": "object"},
                                       run=lambda arguments, identity: executor.execute("lookup", arguments, identity))])
    first = answer(Model(turns=[calls(("lookup", {})), AssistantTurn("Confirmed.")]), knowledge, toolbox,
                   ledger=ledger)

    again = answer(Model(), knowledge, toolbox, ledger=ledger)  # a script of no turns: the model is not asked

    assert again.text == first.text == "Confirmed."
    assert again.tool_calls == first.tool_calls == (CalledTool("lookup", {}),)
    assert len(executor.calls) == 1


def test_arguments_that_are_not_json_are_listed_as_none(knowledge: Knowledge) -> None:
    model = Model(turns=[calls(("registration_status", "{oops")), AssistantTurn("Sorry.")])

    result = answer(model, knowledge, Toolbox(local=[STATUS]))

    assert result.tool_calls == (CalledTool("registration_status", {}),)
    assert model.requests[1]["messages"][-1]["content"].startswith("error: the arguments are not valid JSON")
