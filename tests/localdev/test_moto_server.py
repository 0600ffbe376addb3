"""MotoServer: a real SQS endpoint on loopback that tests can take down and bring back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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


def test_a_long_poll_gets_a_groups_next_message_once_the_one_before_is_deleted(server: MotoServer) -> None:
    # Amazon's behaviour, which plain moto 5.2 lacks (localdev/moto_fixes.py): the poll below begins while
    # the group has a message in flight; unpatched, it skipped the group until its 10 s wait was over and
    # came back empty.
    client = sqs(server.endpoint_url)
    url = client.create_queue(QueueName="next-in-group.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="first", MessageGroupId="g", MessageDeduplicationId="1")
    first = client.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"][0]
    client.send_message(QueueUrl=url, MessageBody="second", MessageGroupId="g", MessageDeduplicationId="2")
    poller = boto3.client(
        "sqs", endpoint_url=server.endpoint_url, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(read_timeout=30, retries={"max_attempts": 1}))
    polling = threading.Event()
    poller.meta.events.register("before-send.sqs.ReceiveMessage", lambda **_: polling.set())
    with ThreadPoolExecutor(max_workers=1) as pool:
        poll = pool.submit(poller.receive_message, QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=10)
        assert polling.wait(timeout=10)
        client.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
        assert [m["Body"] for m in poll.result(timeout=30).get("Messages", [])] == ["second"]


def test_one_receive_still_returns_several_messages_of_a_group_as_on_aws(server: MotoServer) -> None:
    client = sqs(server.endpoint_url)
    url = client.create_queue(QueueName="whole-group.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for n in range(3):
        client.send_message(QueueUrl=url, MessageBody=str(n), MessageGroupId="g", MessageDeduplicationId=str(n))
    answer = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    assert [m["Body"] for m in answer["Messages"]] == ["0", "1", "2"]
    # …and none of them again while they are in flight.
    assert client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
