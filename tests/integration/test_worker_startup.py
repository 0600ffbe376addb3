"""A worker refuses to start on queues that could lose or double-process messages, and says why."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness.pipeline import Stack
from tests.harness.polling import wait_for
from tests.harness.processes import ManagedProcess
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
