"""`switchboard status` shows the SQS configuration faults workers report, and is then not ready."""

from __future__ import annotations

import pytest

from switchboard.cli import main
from switchboard.services import build_store
from switchboard.settings import get_settings


def test_status_names_each_sqs_fault_a_worker_reports_and_exits_1(
        pipeline_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    store = build_store(get_settings())
    queue = f"{pipeline_env['SQS_QUEUE_PREFIX']}intake.fifo"
    store.record_sqs_fault(queue, "QueueDoesNotExist on ReceiveMessage", ttl_seconds=60)
    try:
        code = main(["status"])
    finally:
        store.clear_sqs_fault(queue)

    assert f"sqs fault {queue}: QueueDoesNotExist on ReceiveMessage" in capsys.readouterr().out
    assert code == 1
