"""The template's optional worker scaling: present only when asked for, on backlog per worker, in shapes the APIs accept.

Template text resolved for given parameters (tests/deploy/cfn_template.py): moto's CloudFormation
skips Application Auto Scaling and EC2 Auto Scaling policies, so what they would create is read from
the template and checked against botocore's own models of the two APIs.
"""

from __future__ import annotations

import re
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from switchboard.clients.sqs_admin import STAGES
from tests.deploy.cfn_template import Stack, load_template

SCALING_TYPES = ("AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy",
                 "AWS::AutoScaling::ScalingPolicy")
ECS = {"WorkerEcsClusterName": "switchboard", "WorkerEcsServiceName": "switchboard-worker"}
EC2 = {"WorkerAutoScalingGroupName": "switchboard-workers"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _scaling(stack: Stack) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in stack.resources().items() if r["Type"] in SCALING_TYPES}


def _metrics(policy: dict[str, Any]) -> list[dict[str, Any]]:
    properties = policy["Properties"]
    configuration = (properties.get("TargetTrackingScalingPolicyConfiguration")
                     or properties["TargetTrackingConfiguration"])
    metrics: list[dict[str, Any]] = configuration["CustomizedMetricSpecification"]["Metrics"]
    return metrics


def _backlog_per_worker(metrics: list[dict[str, Any]], values: dict[str, float]) -> float:
    """The returned expression's value when each metric query has the value given for its id."""
    (returned,) = [m for m in metrics if m.get("ReturnData")]
    expression = returned["Expression"]
    assert re.fullmatch(r"[A-Za-z0-9_ +\-*/().]+", expression), expression  # arithmetic on ids only
    assert set(re.findall(r"[A-Za-z_]\w*", expression)) == set(values), expression
    result: float = eval(expression, {"__builtins__": {}}, values)  # noqa: S307 - checked above: ids and operators
    return result


def test_without_worker_names_the_stack_creates_no_scaling(template: dict[str, Any]) -> None:
    stack = Stack(template)
    assert stack.rules_hold()
    assert _scaling(stack) == {}
    # Every scaling resource is behind a condition, so none slips into a stack that did not ask.
    declared = [r for r in template["Resources"].values() if r["Type"] in SCALING_TYPES]
    assert len(declared) == 3 and all("Condition" in r for r in declared)


def test_an_ecs_cluster_and_service_get_a_scalable_target_and_a_backlog_policy(template: dict[str, Any]) -> None:
    stack = Stack(template, WorkerMinCount="2", WorkerMaxCount="40", BacklogPerWorkerTarget="150", **ECS)
    assert stack.rules_hold()
    scaling = _scaling(stack)
    assert {r["Type"] for r in scaling.values()} == set(SCALING_TYPES[:2])
    target = scaling["WorkerScalableTarget"]["Properties"]
    assert target == {"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
                      "ResourceId": "service/switchboard/switchboard-worker", "MinCapacity": 2, "MaxCapacity": 40}
    policy = scaling["WorkerBacklogScalingPolicy"]["Properties"]
    assert policy["ScalingTargetId"] == "<WorkerScalableTarget>"
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 150


def test_an_auto_scaling_group_gets_a_backlog_policy_of_its_own(template: dict[str, Any]) -> None:
    stack = Stack(template, BacklogPerWorkerTarget="80", **EC2)
    scaling = _scaling(stack)
    assert list(scaling) == ["WorkerGroupBacklogScalingPolicy"]
    policy = scaling["WorkerGroupBacklogScalingPolicy"]["Properties"]
    assert policy["AutoScalingGroupName"] == "switchboard-workers"
    assert policy["TargetTrackingConfiguration"]["TargetValue"] == 80


@pytest.mark.parametrize("half", [{"WorkerEcsClusterName": "switchboard"}, {"WorkerEcsServiceName": "worker"}])
def test_a_cluster_without_a_service_or_the_reverse_is_refused(template: dict[str, Any], half: dict[str, str]) -> None:
    stack = Stack(template, **half)
    assert not stack.rules_hold()
    assert _scaling(stack) == {}  # and would scale nothing if CloudFormation let it through


@pytest.mark.parametrize(("policy_name", "parameters", "divisor"), [
    ("WorkerBacklogScalingPolicy", ECS, ("ECS/ContainerInsights", "RunningTaskCount",
                                         {"ClusterName": "switchboard", "ServiceName": "switchboard-worker"})),
    ("WorkerGroupBacklogScalingPolicy", EC2, ("AWS/AutoScaling", "GroupInServiceInstances",
                                              {"AutoScalingGroupName": "switchboard-workers"})),
])
def test_the_backlog_is_the_three_stage_queues_visible_messages_over_the_running_workers(
    template: dict[str, Any], policy_name: str, parameters: dict[str, str], divisor: tuple[str, str, dict[str, str]],
) -> None:
    stack = Stack(template, QueuePrefix="prod-", **parameters)
    metrics = _metrics(stack.resources()[policy_name])
    stats = {m["Id"]: m["MetricStat"] for m in metrics if "MetricStat" in m}

    queues = {stat["Metric"]["Dimensions"][0]["Value"]: query_id for query_id, stat in stats.items()
              if stat["Metric"]["Namespace"] == "AWS/SQS"}
    assert set(queues) == {f"prod-{stage}.fifo" for stage in STAGES}  # the stage queues, no dead-letter queue
    for query_id in queues.values():
        assert stats[query_id]["Metric"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert stats[query_id]["Stat"] == "Sum"
    (workers,) = set(stats) - set(queues.values())
    namespace, metric_name, dimensions = divisor
    assert (stats[workers]["Metric"]["Namespace"], stats[workers]["Metric"]["MetricName"]) == (namespace, metric_name)
    assert {d["Name"]: d["Value"] for d in stats[workers]["Metric"]["Dimensions"]} == dimensions

    # 30 + 50 + 70 messages waiting, 3 workers: 50 each. Different numbers per queue, so a queue counted
    # twice or left out changes the answer.
    values = {queues["prod-intake.fifo"]: 30.0, queues["prod-complete.fifo"]: 50.0,
              queues["prod-reply.fifo"]: 70.0, workers: 3.0}
    assert _backlog_per_worker(metrics, values) == pytest.approx(50.0)
    assert sum(1 for m in metrics if m.get("ReturnData")) == 1


def test_the_policies_are_requests_the_scaling_apis_accept(template: dict[str, Any]) -> None:
    """botocore's models of PutScalingPolicy and RegisterScalableTarget: names, nesting and types as sent."""
    resources = Stack(template, **ECS, **EC2).resources()
    session = botocore.session.get_session()

    def problems(service: str, operation: str, params: dict[str, Any]) -> str:
        shape = session.get_service_model(service).operation_model(operation).input_shape
        report = ParamValidator().validate(params, shape)
        return report.generate_report() if report.has_errors() else ""

    target = resources["WorkerScalableTarget"]["Properties"]
    assert problems("application-autoscaling", "RegisterScalableTarget", target) == ""
    ecs_policy = {key: value for key, value in resources["WorkerBacklogScalingPolicy"]["Properties"].items()
                  if key != "ScalingTargetId"}  # CloudFormation's link; the API names the target itself
    ecs_policy |= {key: target[key] for key in ("ServiceNamespace", "ScalableDimension", "ResourceId")}
    assert problems("application-autoscaling", "PutScalingPolicy", ecs_policy) == ""
    group_policy = {"PolicyName": "sb-worker-backlog", **resources["WorkerGroupBacklogScalingPolicy"]["Properties"]}
    assert problems("autoscaling", "PutScalingPolicy", group_policy) == ""
