"""docs/deploy.md and docs/runbook.md name only settings that exist and stack parameters the template declares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localdev.processes import REPO_ROOT
from tests.deploy.cfn_template import load_template

DOCS = [REPO_ROOT / "docs" / "deploy.md", REPO_ROOT / "docs" / "runbook.md", REPO_ROOT / "deploy" / "README.md"]
# Upper-case words in the docs that are not our settings: CloudFormation's capability, shell variables of an example.
NOT_SETTINGS = {"CAPABILITY_IAM", "OLD_TOKEN", "NEW_TOKEN"}


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_setting_the_doc_names_is_in_env_example(doc: Path) -> None:
    declared = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (REPO_ROOT / ".env.example").read_text(), re.MULTILINE))
    # Flower's OAuth variables are read by Flower itself; .env.example names them in a comment.
    declared |= set(re.findall(r"\bFLOWER_[A-Z0-9_]+", (REPO_ROOT / ".env.example").read_text()))
    named = set(re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", doc.read_text())) - NOT_SETTINGS
    assert named - declared == set()


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_stack_parameter_the_doc_overrides_is_in_the_template(doc: Path) -> None:
    text = doc.read_text()
    commands = re.findall(r"--parameter-overrides(.*?)(?:\n\n|```|\n[^ \n])", text, re.DOTALL)
    overridden = {name for command in commands for name in re.findall(r"\b([A-Z][A-Za-z]+)=", command)}
    assert overridden, "no --parameter-overrides found: the pattern no longer matches the doc"
    assert overridden - set(load_template()["Parameters"]) == set()
