"""Flower on an SQS broker: tasks and workers show up, read back through Flower's HTTP API."""

from __future__ import annotations

import base64
import json
import sys
import urllib.request
from typing import Any

import boto3
import pytest

from localdev.polling import wait_for
from localdev.processes import ManagedProcess, free_port
from tests.harness.pipeline import Stack, new_user

pytestmark = pytest.mark.integration

FLOWER_AUTH = "ops:secret"


def flower_json(port: int, path: str) -> Any:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    request.add_header("Authorization", "Basic " + base64.b64encode(FLOWER_AUTH.encode()).decode())
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_flower_lists_every_task_of_a_message_with_its_state_and_worker(stack: Stack) -> None:
    port = free_port()
    flower = ManagedProcess(
        "flower", [sys.executable, "-m", "celery", "-A", "tasks", "flower"],
        {**stack.env, "FLOWER_PORT": str(port), "FLOWER_BASIC_AUTH": FLOWER_AUTH}, stack.log_dir / "flower.log",
    ).start()
    try:
        wait_for(lambda: isinstance(flower_json(port, "/api/tasks"), dict), timeout=30, ignore=(OSError,),
                 message="Flower's API to answer")

        def chain_seen() -> list[dict[str, Any]] | None:
            # Events travel over Redis pub/sub: those sent before Flower's receiver subscribed are
            # gone, so each look that finds nothing sends one more message.
            user = new_user()
            assert stack.send("hello flower", user)[0] == 200
            stack.wait_for_replies(user, 1)
            tasks = [t for t in flower_json(port, "/api/tasks").values() if t.get("state") == "SUCCESS"]
            names = {t["name"] for t in tasks}
            wanted = {"switchboard.intake", "switchboard.complete", "switchboard.reply"}
            return tasks if wanted <= names else None

        tasks = wait_for(chain_seen, timeout=60, interval=1, message="intake, complete and reply in Flower")
        assert all(t["worker"] and t["runtime"] is not None for t in tasks)
        workers = flower_json(port, "/api/workers?refresh=0&status=1")
        assert any(online for online in workers.values())
    finally:
        flower.stop()


def test_monitoring_leaves_no_event_queues_in_sqs(stack: Stack) -> None:
    user = new_user()
    assert stack.send("hello", user)[0] == 200
    stack.wait_for_replies(user, 1)
    sqs = boto3.client("sqs", endpoint_url=stack.settings.sqs_endpoint_url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    names = [url.rsplit("/", 1)[1] for url in sqs.list_queues().get("QueueUrls", [])]
    assert not [name for name in names if "celeryev" in name or "pidbox" in name]
    assert any(name.startswith(stack.settings.sqs_queue_prefix) for name in names)
