"""`switchboard queues init`: the operator's one command that creates a deployment's queues, safely repeatable."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.queues import STAGES, queue_names
from tests.harness.pipeline import isolated_env, settings_for
from tests.harness.processes import REPO_ROOT
from tests.integration.observing import sqs_for

pytestmark = pytest.mark.integration

SWITCHBOARD = Path(sys.executable).parent / "switchboard"


@pytest.fixture
def fresh_env(pipeline_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A deployment whose queues do not exist yet, with a visibility timeout unlike the session's."""
    env = isolated_env(pipeline_env, SQS_VISIBILITY_TIMEOUT="17")
    yield env
    sqs = sqs_for(settings_for(env))
    for url in sqs.list_queues(QueueNamePrefix=env["SQS_QUEUE_PREFIX"]).get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)


def queues_init(env: dict[str, str]) -> list[str]:
    done = subprocess.run([str(SWITCHBOARD), "queues", "init"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_queues_init_creates_three_stages_with_dead_letter_queues_and_can_run_again(
    fresh_env: dict[str, str],
) -> None:
    settings = settings_for(fresh_env)
    sqs, names = sqs_for(settings), queue_names(settings)

    first = queues_init(fresh_env)
    second = queues_init(fresh_env)

    assert first == second and len(set(first)) == 6
    listed = sqs.list_queues(QueueNamePrefix=names.prefix)["QueueUrls"]
    assert sorted(listed) == sorted(first)
    for stage in STAGES:
        url = sqs.get_queue_url(QueueName=names.in_sqs(names.stage(stage)))["QueueUrl"]
        dlq_url = sqs.get_queue_url(QueueName=names.in_sqs(names.dead_letter(stage)))["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq_arn
        assert int(redrive["maxReceiveCount"]) == settings.sqs_max_receive_count
        assert attributes["VisibilityTimeout"] == "17"
        assert attributes["FifoQueue"] == "true"
