"""A real worker behind the SQS fault proxy reports a missing queue on /healthz and in Redis, then recovers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from localdev.moto_server import ExternalSqs, MotoServer
from localdev.polling import wait_for
from localdev.processes import free_port
from switchboard.clients.sqs_admin import queue_names
from switchboard.services import build_store
from tests.harness import sqs_faults
from tests.harness.pipeline import Stack
from tests.harness.sqs_proxy import SqsProxy

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(moto: MotoServer | ExternalSqs) -> Iterator[SqsProxy]:
    running = SqsProxy(moto.endpoint_url).start()
    yield running
    running.stop()


def health(port: int) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_worker_reports_a_missing_queue_until_it_answers_again_without_restarting(
        stack_factory: Callable[..., Stack], proxy: SqsProxy) -> None:
    port = free_port()
    stack = stack_factory(WORKER_METRICS_PORT=str(port))
    worker = stack.start_worker(sqs_endpoint_url=proxy.endpoint_url, concurrency=2)
    assert worker.proc is not None
    pid = worker.proc.pid
    store = build_store(stack.settings)
    intake = queue_names(stack.settings).in_sqs(queue_names(stack.settings).stage("intake"))
    wait_for(lambda: health(port)[0] == 200, timeout=30, message="a healthy worker", ignore=(OSError,))

    def unhealthy_naming_intake() -> dict[str, object] | None:
        # Each queue's poll meets the fault on its own schedule: wait until the intake queue's has.
        status, body = health(port)
        return body if status == 503 and intake in str(body.get("sqs_faults")) else None

    with proxy.injecting(sqs_faults.QUEUE_DOES_NOT_EXIST, ["ReceiveMessage"]):
        body = wait_for(unhealthy_naming_intake, timeout=30, message="/healthz naming the intake queue's fault")
        assert body["healthy"] is False
        assert f"'{intake}': 'QueueDoesNotExist on ReceiveMessage'" in str(body["sqs_faults"])
        wait_for(lambda: intake in store.sqs_faults(), timeout=15, message="the fault in Redis")

    wait_for(lambda: health(port)[0] == 200, timeout=30, message="health back once the queue answers")
    wait_for(lambda: store.sqs_faults() == {}, timeout=15, message="the Redis record cleared")
    assert worker.is_running() and worker.proc.pid == pid
    assert "Unrecoverable error" not in worker.run_output()
