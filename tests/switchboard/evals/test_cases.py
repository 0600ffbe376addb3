"""The cases file: read into models, one expectation or a list, fixtures as text, every mistake named by place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard.evals.cases import DEFAULT_SENDER, CasesFileError, load_cases

SAMPLE = Path(__file__).resolve().parents[3] / "localdev" / "sample" / "evals.yaml"


def cases_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(CasesFileError) as caught:
        load_cases(cases_file(tmp_path, text))
    return str(caught.value)


def test_a_case_reads_with_its_turns_fixtures_and_expectations(tmp_path: Path) -> None:
    cases = load_cases(cases_file(tmp_path, """
bot: "whatsapp:+14155238886"
cases:
  - name: status
    sender: "whatsapp:+15551230000"
    tools: {registration_status: '{"status": "received"}'}
    turns:
      - user: Did my registration go through?
        tools: {registration_status: {status: confirmed}}
        expect: {tool_called: {name: registration_status, with: {season: spring}}, mentions: confirmed}
      - user: Thanks!
"""))

    assert cases.bot == "whatsapp:+14155238886"
    [case] = cases.cases
    assert (case.name, case.sender, case.tools) == ("status", "whatsapp:+15551230000",
                                                      {"registration_status": '{"status": "received"}'})
    first, second = case.turns
    assert json.loads(first.tools["registration_status"]) == {"status": "confirmed"}  # YAML data sent as JSON
    assert first.expect.mentions == ("confirmed",)  # one text is a list of one
    [called] = first.expect.tool_called
    assert (called.name, called.arguments) == ("registration_status", {"season": "spring"})
    assert second.expect.mentions == () and second.expect.says_it_does_not_know is None


def test_a_case_without_a_sender_asks_as_the_default_one(tmp_path: Path) -> None:
    cases = load_cases(cases_file(tmp_path, "cases:\n  - name: a\n    turns: [{user: Hi}]\n"))

    assert cases.cases[0].sender == DEFAULT_SENDER


def test_the_sample_cases_file_reads(tmp_path: Path) -> None:
    assert len(load_cases(SAMPLE).cases) >= 3


@pytest.mark.parametrize(("text", "expected"), [
    ("cases: [\n", "cannot be read as YAML"),
    ("cases: []\n", "cases: the file needs at least one case"),
    ("cases:\n  - name: a\n    turns: [{user: Hi, expect: {mention: x}}]\n", "cases.0.turns.0.expect.mention: unknown key"),
    ("cases:\n  - name: a\n    turns: []\n", "cases.0.turns: a case needs at least one turn"),
    ("cases:\n  - name: a\n    turns: [{user: Hi, expect: {tool_called: {with: {}}}}]\n",
     "cases.0.turns.0.expect.tool_called.0.name: Field required"),
    ("cases:\n  - {name: a, turns: [{user: Hi}]}\n  - {name: a, turns: [{user: Ho}]}\n", "case names must be unique"),
])
def test_a_bad_cases_file_is_an_error_naming_the_place(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, text)

    assert message.startswith(str(tmp_path / "cases.yaml"))
    assert expected in message
