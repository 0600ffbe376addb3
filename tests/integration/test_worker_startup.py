"""A worker refuses to start on queues that could lose or double-process messages, and says why."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from localdev.polling import wait_for
from localdev.processes import ManagedProcess
from switchboard.clients.sqs_admin import STAGES, queue_names
from tasks.startup_check import inspect_queues
from tests.harness.pipeline import Stack
from tests.integration.observing import sqs_for

pytestmark = pytest.mark.integration


def run_worker_until_it_exits(env: dict[str, str], log_dir: Path) -> tuple[int, str]:
    argv = [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--loglevel=INFO", "-P", "threads", "-c", "2",
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
    worker = ManagedProcess("unsafe-worker", argv, env, log_dir / f"unsafe-worker-{uuid.uuid4().hex[:6]}.log")
    with worker.start():
        wait_for(lambda: not worker.is_running(), timeout=30, message="the worker to refuse and exit")
        return worker.stop(), worker.run_output()


def test_a_worker_whose_visibility_timeout_differs_from_the_queues_refuses_to_start(
    stack_factory: Callable[..., Stack], log_dir: Path,
) -> None:
    stack = stack_factory()  # queues created with SQS_VISIBILITY_TIMEOUT=12

    code, log = run_worker_until_it_exits({**stack.env, "SQS_VISIBILITY_TIMEOUT": "30"}, log_dir)

    assert code != 0, log
    assert "unsafe worker configuration" in log
    assert "VisibilityTimeout 12s, SQS_VISIBILITY_TIMEOUT says 30s" in log
    assert "ready." not in log


def test_a_worker_on_queues_nobody_created_refuses_to_start_and_says_to_run_queues_init(
    stack_factory: Callable[..., Stack], log_dir: Path,
) -> None:
    stack = stack_factory()
    env = {**stack.env, "SQS_QUEUE_PREFIX": f"never-{uuid.uuid4().hex[:8]}-"}

    code, log = run_worker_until_it_exits(env, log_dir)

    assert code != 0, log
    assert "unsafe worker configuration" in log
    assert "does not exist: run `switchboard queues init`" in log
    assert "ready." not in log
    # Refusing must not leave half-made queues behind (no dead-letter queue, no redrive policy).
    sqs = sqs_for(stack.settings)
    assert sqs.list_queues(QueueNamePrefix=env["SQS_QUEUE_PREFIX"]).get("QueueUrls", []) == []


def test_a_worker_starts_on_queues_in_normal_fifo_mode_or_unencrypted_and_warns_about_each(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory()
    sqs, names = sqs_for(stack.settings), queue_names(stack.settings)
    assert inspect_queues(sqs, stack.settings) == ([], [])
    for stage in STAGES:  # as queues made before high-throughput mode and encryption by default are
        url = sqs.get_queue_url(QueueName=names.in_sqs(names.stage(stage)))["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={
            "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue", "SqsManagedSseEnabled": "false"})

    worker = stack.start_worker(concurrency=1)  # returns once it has logged "ready."

    log = worker.run_output()
    for stage in STAGES:
        name = names.in_sqs(names.stage(stage))
        assert f"queue {name} is not in high-throughput FIFO mode" in log
        assert f"queue {name} is not encrypted at rest" in log
    assert "unsafe worker configuration" not in log
