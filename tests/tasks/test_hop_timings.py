"""Unit tests for the hop timings: the publish stamp, the run/publish split, the ack timed by the message."""

from __future__ import annotations

import time
from typing import Any

from celery.signals import after_task_publish, before_task_publish, task_postrun, task_prerun
from prometheus_client import REGISTRY

from tasks.hop_timings import PUBLISHED_AT_HEADER, HopTimedMessage


def count(stage: str, phase: str) -> float:
    return REGISTRY.get_sample_value("switchboard_hop_seconds_count", {"stage": stage, "phase": phase}) or 0.0


def publish(headers: dict[str, Any]) -> None:
    before_task_publish.send(sender="switchboard.complete", headers=headers, body=None)
    after_task_publish.send(sender="switchboard.complete", headers=headers, body=None)


class StepTask:
    """What the signals see of a task: its name and (PipelineTask's) stage."""

    def __init__(self, stage: str) -> None:
        self.name = f"switchboard.{stage}"
        self.stage = stage


def run_task(stage: str, publishes: int) -> None:
    task = StepTask(stage)
    task_prerun.send(sender=task, task_id="t", task=task)
    for _ in range(publishes):
        publish({})
    task_postrun.send(sender=task, task_id="t", task=task)


class RecordingChannel:
    no_ack_consumers = None

    def __init__(self) -> None:
        self.acked: list[str] = []

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        self.acked.append(delivery_tag)


def received(channel: RecordingChannel) -> HopTimedMessage:
    return HopTimedMessage({"properties": {"delivery_tag": "tag-1"}, "headers": {}}, channel=channel)


def test_every_publish_carries_the_time_it_began() -> None:
    headers: dict[str, Any] = {"id": "x"}
    earliest = time.time()
    publish(headers)
    assert earliest <= headers[PUBLISHED_AT_HEADER] <= time.time()


def test_a_pipeline_step_s_publishes_are_timed_apart_from_its_run() -> None:
    runs, publishes = count("intake", "run"), count("intake", "publish")

    run_task("intake", publishes=2)

    assert count("intake", "run") == runs + 1
    assert count("intake", "publish") == publishes + 1  # one observation: both publishes of the delivery


def test_a_step_that_publishes_nothing_has_no_publish_phase() -> None:
    publishes = count("reply", "publish")
    run_task("reply", publishes=0)
    assert count("reply", "publish") == publishes


def test_tasks_outside_the_pipeline_are_not_timed() -> None:
    before = {phase: count("summarize", phase) for phase in ("run", "publish")}
    run_task("summarize", publishes=1)
    assert {phase: count("summarize", phase) for phase in ("run", "publish")} == before


def test_the_ack_is_timed_once_from_the_moment_the_step_asked_for_it() -> None:
    channel = RecordingChannel()
    message = received(channel)
    acks = count("complete", "ack")
    message.hop_ack_asked = ("complete", time.monotonic())

    message.ack()

    assert channel.acked == ["tag-1"]
    assert count("complete", "ack") == acks + 1
    assert message.hop_ack_asked is None


def test_a_message_acked_without_a_pipeline_request_is_not_timed() -> None:
    channel = RecordingChannel()
    acks = count("complete", "ack")
    received(channel).ack()
    assert channel.acked == ["tag-1"]
    assert count("complete", "ack") == acks
