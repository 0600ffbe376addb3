"""MotoServer: a real SQS endpoint on loopback that tests can take down and bring back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from localdev.moto_server import MotoServer

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MotoServer]:
    # Its own server, not the session's: these tests stop it.
    moto = MotoServer(tmp_path / "moto.log").start()
    yield moto
    moto.kill()


def sqs(endpoint_url: str) -> Any:
    # One attempt and short timeouts, so "down" shows as an error at once rather than after retries.
    config = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1, "mode": "standard"})
    return boto3.client(
        "sqs", endpoint_url=endpoint_url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing", config=config,
    )


def test_it_serves_sqs_until_stopped_and_again_after_a_restart(server: MotoServer) -> None:
    client = sqs(server.endpoint_url)
    url = client.create_queue(QueueName="harness-check.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    assert url in client.list_queues()["QueueUrls"]

    server.stop()
    with pytest.raises(EndpointConnectionError):
        client.list_queues()

    server.start()
    assert client.list_queues().get("QueueUrls", []) == []  # moto keeps state in memory only


def test_kill_takes_it_down_at_once(server: MotoServer) -> None:
    server.kill()

    assert not server.is_running()
    with pytest.raises(EndpointConnectionError):
        sqs(server.endpoint_url).list_queues()
