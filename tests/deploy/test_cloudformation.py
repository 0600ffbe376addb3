"""deploy/cloudformation/switchboard-queues.yaml: lint-clean, and deployed through moto it makes queues the worker accepts.

moto's CloudFormation creates the SQS queues and the IAM managed policies. It has no
AWS::CloudWatch::Alarm or AWS::Logs::MetricFilter: it skips them (reporting them CREATE_COMPLETE
without a type) and creates nothing. So the alarms are checked only as template text and by cfn-lint.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from localdev.moto_server import ExternalSqs, MotoServer
from localdev.polling import wait_for
from switchboard.clients.sqs_admin import STAGES, sqs_client
from switchboard.settings import Settings, load_settings
from tasks.startup_check import check_queues, inspect_queues
from tests.deploy.cfn_template import TEMPLATE, load_template

pytestmark = pytest.mark.integration

CFN_LINT = Path(sys.executable).parent / "cfn-lint"
REGION = "us-east-1"
Deploy = Callable[..., dict[str, Any]]


def _resource_prefix(stage: str) -> str:
    return stage.capitalize()  # intake -> IntakeQueue, IntakeDeadLetterQueue, IntakeQueueArn, …


def _client(service: str, endpoint_url: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint_url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _settings(endpoint_url: str, prefix: str, **overrides: Any) -> Settings:
    return load_settings(
        twilio_account_sid="AC" + "0" * 32, twilio_auth_token="a1b2c3d4" * 4, openai_api_key="k",
        sqs_endpoint_url=endpoint_url, aws_region=REGION, aws_access_key_id="testing",
        aws_secret_access_key="testing", sqs_queue_prefix=prefix, sqs_fifo=True, **overrides,
    )


@pytest.fixture
def deploy(moto: MotoServer | ExternalSqs) -> Iterator[Deploy]:
    """Create stacks from the template (a fresh QueuePrefix each) and wait for them; deleted after the test."""
    cloudformation = _client("cloudformation", moto.endpoint_url)
    sqs = _client("sqs", moto.endpoint_url)
    stacks: list[str] = []

    def create(**parameters: str) -> dict[str, Any]:
        name = "cfn" + uuid.uuid4().hex[:6]
        parameters = {"QueuePrefix": f"{name}-", **parameters}
        cloudformation.create_stack(
            StackName=name, TemplateBody=TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
        )
        stacks.append(name)

        def settled() -> dict[str, Any] | None:
            stack: dict[str, Any] = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
            return None if stack["StackStatus"].endswith("_IN_PROGRESS") else stack

        stack = wait_for(settled, timeout=30, interval=0.2, message=f"stack {name} to settle")
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        return {**stack, "QueuePrefix": parameters["QueuePrefix"],
                "OutputsByKey": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}}

    yield create
    for name in stacks:
        cloudformation.delete_stack(StackName=name)
        # The template retains its queues on stack deletion.
        for url in sqs.list_queues(QueueNamePrefix=f"{name}-").get("QueueUrls", []):
            sqs.delete_queue(QueueUrl=url)


def test_cfn_lint_passes_on_the_template() -> None:
    assert CFN_LINT.exists(), f"{CFN_LINT} missing: install the dev extras (pip install -e '.[dev]')"
    result = subprocess.run([str(CFN_LINT), str(TEMPLATE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_stack_creates_the_queues_the_app_expects(moto: MotoServer | ExternalSqs, deploy: Deploy) -> None:
    # Not the defaults, so the test sees the parameters reach the queues; every optional parameter set
    # (moto skips the scaling resources, tests/deploy/test_worker_scaling.py reads them).
    stack = deploy(
        VisibilityTimeoutSeconds="45", MaxReceiveCount="3", VisibleMessagesThreshold="10",
        OldestMessageAgeSeconds="120", AlarmTopicArn="arn:aws:sns:us-east-1:123456789012:switchboard-alerts",
        WorkerLogGroupName="/switchboard/test/worker", WorkerLogFormat="json", FailureMetricNamespace="Switchboard/test",
        WorkerEcsClusterName="switchboard", WorkerEcsServiceName="switchboard-worker",
        WorkerAutoScalingGroupName="switchboard-workers", WorkerMinCount="2", WorkerMaxCount="20",
        BacklogPerWorkerTarget="150",
    )
    prefix, outputs = stack["QueuePrefix"], stack["OutputsByKey"]
    sqs = _client("sqs", moto.endpoint_url)

    for stage in STAGES:
        queue_url = sqs.get_queue_url(QueueName=f"{prefix}{stage}.fifo")["QueueUrl"]
        dlq_url = sqs.get_queue_url(QueueName=f"{prefix}{stage}-dlq.fifo")["QueueUrl"]
        queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]

        assert (queue["FifoQueue"], queue["ContentBasedDeduplication"]) == ("true", "false")
        assert (dlq["FifoQueue"], dlq["ContentBasedDeduplication"]) == ("true", "false")
        assert queue["VisibilityTimeout"] == "45"
        assert (queue["MessageRetentionPeriod"], dlq["MessageRetentionPeriod"]) == (str(4 * 86400), str(14 * 86400))
        redrive = json.loads(queue["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == 3
        assert "RedrivePolicy" not in dlq
        for attributes in (queue, dlq):
            assert (attributes["DeduplicationScope"], attributes["FifoThroughputLimit"]) == (
                "messageGroup", "perMessageGroupId")
            assert attributes["SqsManagedSseEnabled"] == "true"

        name = _resource_prefix(stage)
        assert outputs[f"{name}QueueArn"] == queue["QueueArn"]
        assert outputs[f"{name}DeadLetterQueueArn"] == dlq["QueueArn"]
        assert outputs[f"{name}QueueUrl"].endswith(f"/{prefix}{stage}.fifo")
        assert outputs[f"{name}DeadLetterQueueUrl"].endswith(f"/{prefix}{stage}-dlq.fifo")


def test_the_worker_safety_check_accepts_the_stacks_queues(moto: MotoServer | ExternalSqs, deploy: Deploy) -> None:
    stack = deploy(VisibilityTimeoutSeconds="45", MaxReceiveCount="3")
    settings = _settings(moto.endpoint_url, stack["QueuePrefix"], sqs_visibility_timeout=45, sqs_max_receive_count=3)
    assert inspect_queues(sqs_client(settings), settings) == ([], [])  # no problem, and no warning either

    # The same check sees a mismatch, so the empty list above is not vacuous.
    other = _settings(moto.endpoint_url, stack["QueuePrefix"], sqs_visibility_timeout=45, sqs_max_receive_count=4)
    assert len(check_queues(sqs_client(other), other)) == len(STAGES)


def test_the_template_defaults_match_the_settings_defaults(
    moto: MotoServer | ExternalSqs, deploy: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The session's pipeline environment (tests/conftest.py) sets a short visibility timeout; the defaults are meant.
    monkeypatch.delenv("SQS_VISIBILITY_TIMEOUT", raising=False)
    monkeypatch.delenv("SQS_MAX_RECEIVE_COUNT", raising=False)
    stack = deploy()
    settings = _settings(moto.endpoint_url, stack["QueuePrefix"])
    assert (settings.sqs_visibility_timeout, settings.sqs_max_receive_count) == (60, 5)
    assert check_queues(sqs_client(settings), settings) == []


def test_the_policies_are_scoped_to_the_stacks_queues(moto: MotoServer | ExternalSqs, deploy: Deploy) -> None:
    stack = deploy()
    outputs = stack["OutputsByKey"]
    iam = _client("iam", moto.endpoint_url)
    stage_arns = {outputs[f"{_resource_prefix(s)}QueueArn"] for s in STAGES}
    dlq_arns = {outputs[f"{_resource_prefix(s)}DeadLetterQueueArn"] for s in STAGES}

    def statements(output_key: str) -> dict[str, dict[str, Any]]:
        arn = outputs[output_key]
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        if isinstance(document, str):
            document = json.loads(document)
        return {s["Sid"]: s for s in document["Statement"]}

    def resources(statement: dict[str, Any]) -> set[str]:
        value = statement["Resource"]
        return {value} if isinstance(value, str) else set(value)

    web = statements("WebPolicyArn")
    assert resources(web["PublishToIntake"]) == {outputs["IntakeQueueArn"]}
    assert set(web["PublishToIntake"]["Action"]) == {"sqs:SendMessage", "sqs:GetQueueUrl"}
    assert resources(web["ReadQueueDepthsForReadyzAndMetrics"]) == stage_arns | dlq_arns
    assert set(web["ReadQueueDepthsForReadyzAndMetrics"]["Action"]) == {"sqs:GetQueueUrl", "sqs:GetQueueAttributes"}

    worker = statements("WorkerPolicyArn")
    assert resources(worker["ConsumeAndPublishStageQueues"]) == stage_arns
    assert not any(resources(s) & dlq_arns for s in worker.values())

    operator = statements("OperatorPolicyArn")
    assert resources(operator["ReadAndDeleteDeadLetters"]) == dlq_arns
    assert resources(operator["RedriveToStageQueues"]) == stage_arns
    assert "sqs:ReceiveMessage" not in operator["RedriveToStageQueues"]["Action"]

    # Only ListQueues (which IAM cannot scope to queues) is granted on every resource.
    for statement in [*web.values(), *worker.values(), *operator.values()]:
        if "*" in resources(statement):
            assert statement["Action"] in ("sqs:ListQueues", ["sqs:ListQueues"]), statement


def test_every_queue_in_the_template_is_encrypted_at_rest_and_fifo_ones_are_high_throughput() -> None:
    """Template text: moto reports SqsManagedSseEnabled true for any queue, and checkov skips CKV_AWS_27 on
    the word of the template's comment, so this is what keeps that comment true."""
    queues = {name: r["Properties"] for name, r in load_template()["Resources"].items()
              if r["Type"] == "AWS::SQS::Queue"}
    assert len(queues) == 2 * len(STAGES)
    for name, queue in queues.items():
        assert queue.get("SqsManagedSseEnabled") is True or queue.get("KmsMasterKeyId"), name
        if queue.get("FifoQueue"):
            assert (queue["DeduplicationScope"], queue["FifoThroughputLimit"]) == (
                "messageGroup", "perMessageGroupId"), name


def test_the_template_declares_an_alarm_for_each_queue_and_for_task_failures() -> None:
    """Template text only: moto cannot create CloudWatch alarms or metric filters (see the module docstring)."""
    resources = load_template()["Resources"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]

    def sqs_alarms(queue_resource: str) -> dict[str, dict[str, Any]]:
        return {
            a["MetricName"]: a for a in alarms
            if a["Namespace"] == "AWS/SQS"
            and a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_resource, "QueueName"]}}]
        }

    for stage in STAGES:
        name = _resource_prefix(stage)
        stage_alarms = sqs_alarms(f"{name}Queue")
        assert stage_alarms["ApproximateNumberOfMessagesVisible"]["Threshold"] == {"Ref": "VisibleMessagesThreshold"}
        assert stage_alarms["ApproximateAgeOfOldestMessage"]["Threshold"] == {"Ref": "OldestMessageAgeSeconds"}
        dead_letters = sqs_alarms(f"{name}DeadLetterQueue")["ApproximateNumberOfMessagesVisible"]
        assert (dead_letters["Threshold"], dead_letters["ComparisonOperator"]) == (0, "GreaterThanThreshold")

    failures = [a for a in alarms if a["MetricName"] == "TaskFailures"]
    assert len(failures) == 1
    assert (failures[0]["Statistic"], failures[0]["Period"], failures[0]["Threshold"]) == ("Sum", 300, 0)
    metric_filter = resources["TaskFailuresMetricFilter"]["Properties"]["MetricTransformations"][0]
    assert (metric_filter["MetricName"], metric_filter["MetricNamespace"]) == (
        "TaskFailures", {"Ref": "FailureMetricNamespace"})
