"""`switchboard queues init`: the operator's one command that creates a deployment's queues, safely repeatable."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.processes import REPO_ROOT
from localdev.procfile import settings_for
from switchboard.clients.sqs_admin import STAGES, init_queues, queue_names
from tests.harness.pipeline import isolated_env
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


def all_queue_attributes(sqs: Any, urls: list[str]) -> dict[str, dict[str, str]]:
    return {url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] for url in urls}


def test_queues_init_makes_every_fifo_queue_high_throughput_and_encrypted_at_rest(
    fresh_env: dict[str, str],
) -> None:
    sqs = sqs_for(settings_for(fresh_env))

    urls = queues_init(fresh_env)

    for url, attributes in all_queue_attributes(sqs, urls).items():
        assert attributes["DeduplicationScope"] == "messageGroup", url
        assert attributes["FifoThroughputLimit"] == "perMessageGroupId", url
        assert attributes["SqsManagedSseEnabled"] == "true", url


def test_queues_init_brings_queues_made_without_high_throughput_or_encryption_up_to_date(
    fresh_env: dict[str, str],
) -> None:
    settings = settings_for(fresh_env)
    sqs, names = sqs_for(settings), queue_names(settings)
    # As an older `queues init` (or a hand) made them: normal FIFO mode, unencrypted, no redrive policy.
    made_before = sorted(
        sqs.create_queue(QueueName=names.in_sqs(name), Attributes={
            "FifoQueue": "true", "ContentBasedDeduplication": "false", "SqsManagedSseEnabled": "false",
        })["QueueUrl"]
        for stage in STAGES for name in (names.stage(stage), names.dead_letter(stage))
    )
    before = all_queue_attributes(sqs, made_before)
    assert {(a["DeduplicationScope"], a["FifoThroughputLimit"], a["SqsManagedSseEnabled"])
            for a in before.values()} == {("queue", "perQueue", "false")}

    urls = queues_init(fresh_env)

    assert sorted(urls) == made_before  # updated in place, not replaced
    after = all_queue_attributes(sqs, urls)
    assert {(a["DeduplicationScope"], a["FifoThroughputLimit"], a["SqsManagedSseEnabled"])
            for a in after.values()} == {("messageGroup", "perMessageGroupId", "true")}
    for stage in STAGES:
        url = sqs.get_queue_url(QueueName=names.in_sqs(names.stage(stage)))["QueueUrl"]
        assert "RedrivePolicy" in after[url]
        assert after[url]["VisibilityTimeout"] == "17"


def test_queues_init_keeps_a_kms_key_an_operator_chose_instead_of_switching_to_sqs_managed_keys(
    fresh_env: dict[str, str],
) -> None:
    settings = settings_for(fresh_env)
    sqs, names = sqs_for(settings), queue_names(settings)
    kms_queue = names.in_sqs(names.stage("reply"))
    sqs.create_queue(QueueName=kms_queue, Attributes={"FifoQueue": "true", "KmsMasterKeyId": "alias/switchboard"})
    updates: list[dict[str, Any]] = []
    sqs.meta.events.register("provide-client-params.sqs.SetQueueAttributes",
                             lambda params, **_: updates.append(params))

    init_queues(settings, sqs)

    url = sqs.get_queue_url(QueueName=kms_queue)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == "alias/switchboard"
    assert attributes["DeduplicationScope"] == "messageGroup"
    (update,) = [u for u in updates if u["QueueUrl"] == url]
    assert "SqsManagedSseEnabled" not in update["Attributes"]
