"""`switchboard eval` end to end: the real OpenAI SDK against the OpenAI stand-in over HTTP, the table, the exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.cli import main
from tests.harness.standins import RunningStandin

SAMPLE = Path(__file__).resolve().parents[3] / "localdev" / "sample"
REQUIRED = {
    "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
    "TWILIO_AUTH_TOKEN": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "OPENAI_API_KEY": "sk-test",
    "CONVERSATION_ID_SECRET": "s" * 32,
    "OPERATOR_SIGNING_SECRET": "o" * 32,
    "SAMPLE_API_URL": "http://127.0.0.1:9",  # the sample tool's URL: never called, fixtures answer
    "HANDOFF_WEBHOOK_URL": "http://127.0.0.1:9/handoff",  # offers hand_off_to_person; nobody is told in an eval
}
ONE_PASSING_ONE_FAILING = """
cases:
  - name: the fee comes from the knowledge
    turns:
      - user: How much does it cost to play this spring?
        expect: {mentions: ["$60"], says_it_does_not_know: false}
      - user: Did my registration go through?
        tools: {registration_status: {status: confirmed}}
        expect: {tool_called: {name: registration_status}, mentions: [confirmed]}
  - name: dogs are promised
    turns:
      - user: Can I bring my dog to the matches?
        expect: {mentions: ["dogs are welcome"], says_it_does_not_know: false}
"""


@pytest.fixture
def env(hermetic_env: pytest.MonkeyPatch, openai_standin: RunningStandin) -> pytest.MonkeyPatch:
    for name, value in REQUIRED.items():
        hermetic_env.setenv(name, value)
    hermetic_env.setenv("OPENAI_BASE_URL", f"{openai_standin.base_url}/v1")
    hermetic_env.setenv("KNOWLEDGE_PATH", str(SAMPLE / "knowledge"))
    hermetic_env.setenv("KNOWLEDGE_CONTACT", "+1 555 010 2030")
    hermetic_env.setenv("TOOLS_FILE", str(SAMPLE / "tools.yaml"))
    return hermetic_env


def table_rows(output: str) -> list[tuple[str, str, str, str]]:
    """(case, turn, check, result) of each row, cut at the heading's column starts."""
    lines = output.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.startswith("case "))
    starts = [lines[heading].index(column) for column in ("turn", "check", "result", "excerpt")]
    rows = []
    for line in lines[heading + 2:]:
        if line.startswith(tuple("0123456789")):  # the summary line
            break
        cells = [line[:starts[0]], *(line[a:b] for a, b in zip(starts, starts[1:], strict=False))]
        rows.append(tuple(cell.strip() for cell in cells))
    return rows  # type: ignore[return-value]


def run(tmp_path: Path, text: str, *args: str) -> int:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    return main(["eval", str(path), *args])


def test_a_failing_case_exits_1_and_the_table_shows_each_check(
        env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(tmp_path, ONE_PASSING_ONE_FAILING)

    output = capsys.readouterr().out
    assert code == 1
    assert table_rows(output) == [
        ("the fee comes from the knowledge", "1", "mentions '$60'", "pass"),
        ("the fee comes from the knowledge", "1", "says_it_does_not_know false", "pass"),
        ("the fee comes from the knowledge", "2", "mentions 'confirmed'", "pass"),
        ("the fee comes from the knowledge", "2", "tool_called registration_status", "pass"),
        ("dogs are promised", "1", "mentions 'dogs are welcome'", "FAIL"),
        ("dogs are promised", "1", "says_it_does_not_know false", "FAIL"),
    ]
    assert "it said it does not know: I don't know that from the information I have." in output
    assert output.rstrip().endswith("4 of 6 checks passed; 1 of 2 cases passed")


def test_the_sample_evals_pass_against_the_stand_in(env: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", str(SAMPLE / "evals.yaml")])

    output = capsys.readouterr().out
    assert "FAIL" not in output
    assert code == 0


def test_a_model_error_fails_its_case_with_the_error_shown(
        env: pytest.MonkeyPatch, tmp_path: Path, openai_standin: RunningStandin,
        capsys: pytest.CaptureFixture[str]) -> None:
    openai_standin.client.fail(400)

    code = run(tmp_path, ONE_PASSING_ONE_FAILING.replace("dogs are welcome", "I don't know").replace(
        "says_it_does_not_know: false}", "says_it_does_not_know: true}", 2))

    output = capsys.readouterr().out
    assert code == 1
    assert table_rows(output)[0] == ("the fee comes from the knowledge", "1", "answered", "FAIL")
    assert "PermanentError: OpenAI refused the request: status 400" in output
    assert [row[3] for row in table_rows(output)[1:]] == ["pass", "pass"]  # the next case still ran


def test_a_bad_cases_file_exits_2_naming_the_place(env: pytest.MonkeyPatch, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = run(tmp_path, "cases:\n  - name: a\n    turns: [{user: Hi, expect: {mention: x}}]\n")

    assert code == 2
    assert "cases.0.turns.0.expect.mention: unknown key" in capsys.readouterr().err


def test_a_bot_the_bots_file_does_not_list_exits_2(env: pytest.MonkeyPatch, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = run(tmp_path, ONE_PASSING_ONE_FAILING, "--bot", "whatsapp:+15550009999")

    assert code == 2
    assert "bot whatsapp:+15550009999: BOTS_FILE does not list it" in capsys.readouterr().err
