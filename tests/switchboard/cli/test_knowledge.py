"""`switchboard knowledge build` indexes every bot's folder into Redis; `knowledge show` prints what a question gets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from localdev.redis_server import redis_url_for_tests
from switchboard.cli import main
from switchboard.knowledge.folder import read_corpus
from switchboard.knowledge.index import fingerprint
from switchboard.services import build_store
from switchboard.settings import get_settings
from tests.switchboard.knowledge.conftest import SAMPLE


@pytest.fixture
def env(hermetic_env: pytest.MonkeyPatch, key_prefix: str, tmp_path: Path) -> pytest.MonkeyPatch:
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "knowledge"))
    for name, value in {
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "5f" * 16, "OPENAI_API_KEY": "sk-test",
        "CONVERSATION_ID_SECRET": "s" * 32, "SQS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "REDIS_URL": redis_url_for_tests(), "REDIS_KEY_PREFIX": key_prefix,
        "KNOWLEDGE_PATH": str(folder), "KNOWLEDGE_CONTACT": "the club office",
    }.items():
        hermetic_env.setenv(name, value)
    return hermetic_env


def test_build_indexes_knowledge_path_and_every_bots_folder_and_says_what_each_holds(
        env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desk = tmp_path / "bots" / "desk"
    desk.mkdir(parents=True)
    (desk / "hours.md").write_text("# Hours\n\nThe desk opens at 9.")
    (desk / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "bots" / "bots.yaml").write_text('bots:\n  "+15550001111":\n    knowledge_path: desk\n')
    env.setenv("BOTS_FILE", str(tmp_path / "bots" / "bots.yaml"))

    code = main(["knowledge", "build"])

    out = capsys.readouterr().out
    assert code == 0
    assert f"{desk}: 1 file(s), 1 passage(s)" in out and "  left out logo.png: not a .md, .txt or .pdf file" in out
    assert f"{tmp_path / 'knowledge'}: 3 file(s), 10 passage(s)" in out and "whole in the prompt" in out
    store = build_store(get_settings())
    for folder in (desk, tmp_path / "knowledge"):
        assert store.load_knowledge_index(fingerprint(read_corpus(folder), None)) is not None


def test_show_prints_the_block_the_model_gets_with_the_retrieved_passage(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("KNOWLEDGE_PROMPT_MAX_TOKENS", "150")

    code = main(["knowledge", "show", "How much does registration cost?"])

    shown = capsys.readouterr()
    assert code == 0
    assert "retrieved by bm25: fees.md > Registration fees, spring season 2026 > What registration costs" in shown.err
    assert "Registration costs $60 per player" in shown.out and "birth certificate" not in shown.out
    assert shown.out.rstrip().endswith("</knowledge>")
    assert "Contact for anything the reference text does not cover: the club office" in shown.out


def test_build_without_any_folder_says_so_and_fails(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.delenv("KNOWLEDGE_PATH")

    assert main(["knowledge", "build"]) == 1
    assert "no knowledge folder to build" in capsys.readouterr().err
