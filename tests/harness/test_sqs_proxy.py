"""SqsProxy: boto3 through the proxy to moto sees exactly the faults the test switched on, and only those."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from botocore.parsers import QueryParser

from localdev.moto_server import ExternalSqs, MotoServer
from localdev.polling import wait_for
from tests.harness import sqs_faults
from tests.harness.sqs_proxy import SqsProxy

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(moto: MotoServer | ExternalSqs) -> Iterator[SqsProxy]:
    running = SqsProxy(moto.endpoint_url, seed=1).start()
    yield running
    running.stop()


def sqs(endpoint_url: str, read_timeout: float = 5) -> Any:
    # One attempt: every fault the proxy answers reaches the test as it is.
    return boto3.client(
        "sqs", endpoint_url=endpoint_url, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=2, read_timeout=read_timeout, retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def client(proxy: SqsProxy) -> Any:
    return sqs(proxy.endpoint_url)


@pytest.fixture
def queue_url(client: Any) -> str:
    url: str = client.create_queue(QueueName=f"proxy-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return url


def error_code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def test_calls_without_a_rule_reach_moto_and_queue_urls_point_back_at_the_proxy(
    proxy: SqsProxy, client: Any, queue_url: str
) -> None:
    client.send_message(QueueUrl=queue_url, MessageBody="hello")

    received = client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]

    assert [message["Body"] for message in received] == ["hello"]
    assert queue_url.startswith(proxy.endpoint_url)
    assert proxy.seen()[("json", "SendMessage")] == 1
    assert not proxy.faulted()


@pytest.mark.parametrize(("answer", "code"), [
    (sqs_faults.THROTTLING, "ThrottlingException"),
    (sqs_faults.REQUEST_THROTTLED, "RequestThrottled"),
    (sqs_faults.OVER_LIMIT, "OverLimit"),
    (sqs_faults.INTERNAL_ERROR, "InternalError"),
    (sqs_faults.SERVICE_UNAVAILABLE, "ServiceUnavailable"),
    (sqs_faults.ACCESS_DENIED, "AccessDenied"),
    (sqs_faults.INVALID_CLIENT_TOKEN_ID, "InvalidClientTokenId"),
    (sqs_faults.EXPIRED_TOKEN, "ExpiredToken"),
    (sqs_faults.QUEUE_DOES_NOT_EXIST, "AWS.SimpleQueueService.NonExistentQueue"),
])
def test_error_answers_reach_botocore_with_the_code_aws_gives_them(
    proxy: SqsProxy, client: Any, queue_url: str, answer: sqs_faults.ErrorAnswer, code: str
) -> None:
    proxy.inject(answer, ["SendMessage"])

    with pytest.raises(ClientError) as raised:
        client.send_message(QueueUrl=queue_url, MessageBody="x")

    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == answer.status


def test_queue_does_not_exist_is_botocores_modeled_exception(proxy: SqsProxy, client: Any, queue_url: str) -> None:
    proxy.inject(sqs_faults.QUEUE_DOES_NOT_EXIST)

    with pytest.raises(client.exceptions.QueueDoesNotExist):
        client.get_queue_url(QueueName="anything")


def test_query_protocol_errors_are_xml_that_botocores_query_parser_reads(proxy: SqsProxy) -> None:
    proxy.inject(sqs_faults.OVER_LIMIT, ["ReceiveMessage"])
    request = urllib.request.Request(proxy.endpoint_url, data=b"Action=ReceiveMessage&Version=2012-11-05",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)

    body = raised.value.read()
    parsed = QueryParser().parse({"status_code": raised.value.code, "headers": {}, "body": body}, None)
    assert parsed["Error"]["Code"] == "OverLimit"
    assert proxy.seen()[("query", "ReceiveMessage")] == 1


def test_a_rule_touches_only_its_actions(proxy: SqsProxy, client: Any, queue_url: str) -> None:
    proxy.inject(sqs_faults.THROTTLING, ["DeleteMessage"])

    client.send_message(QueueUrl=queue_url, MessageBody="x")
    handle = client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"][0]["ReceiptHandle"]

    assert error_code(lambda: client.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)) == "ThrottlingException"
    assert proxy.faulted() == {("DeleteMessage", "ErrorAnswer"): 1}


def test_a_rate_faults_about_that_share_of_calls(proxy: SqsProxy, client: Any, queue_url: str) -> None:
    rule = proxy.inject(sqs_faults.THROTTLING, ["GetQueueAttributes"], rate=1 / 3)
    failures = 0
    for _ in range(60):
        try:
            client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])
        except ClientError:
            failures += 1

    assert failures == rule.hits
    assert 8 <= failures <= 35  # seeded: the exact count is stable, the bound says "about a third"


def test_rules_switch_on_and_off_while_traffic_flows(proxy: SqsProxy, client: Any, queue_url: str) -> None:
    outcomes: list[str] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            try:
                client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])
                outcomes.append("ok")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])

    thread = threading.Thread(target=traffic, daemon=True)
    thread.start()
    try:
        wait_for(lambda: "ok" in outcomes, message="calls through the proxy")
        rule = proxy.inject(sqs_faults.SERVICE_UNAVAILABLE)
        wait_for(lambda: "ServiceUnavailable" in outcomes, message="the fault to show")
        proxy.remove(rule)
        switched_off_at = len(outcomes)
        wait_for(lambda: outcomes[switched_off_at + 1:].count("ok") >= 3, message="calls to succeed again")
    finally:
        stop.set()
        thread.join(10)
    assert rule.hits > 0


def test_a_hang_holds_the_call_until_switched_off_then_forwards_it(
    proxy: SqsProxy, queue_url: str
) -> None:
    slow_client = sqs(proxy.endpoint_url, read_timeout=20)
    rule = proxy.inject(sqs_faults.Hang(), ["SendMessage"])
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(slow_client.send_message(QueueUrl=queue_url,
                                                                                     MessageBody="late")))
    thread.start()
    wait_for(lambda: rule.hits == 1, message="the call to be held")
    assert "MessageId" not in result

    proxy.remove(rule)
    thread.join(15)

    assert "MessageId" in result


def test_a_hang_outlasting_the_read_timeout_is_a_timeout_for_the_caller(proxy: SqsProxy, queue_url: str) -> None:
    proxy.inject(sqs_faults.Hang(seconds=5), ["GetQueueAttributes"])

    with pytest.raises(ReadTimeoutError):
        sqs(proxy.endpoint_url, read_timeout=1).get_queue_attributes(QueueUrl=queue_url)


def test_a_dropped_connection_is_a_connection_error_after_sqs_did_the_call(
    proxy: SqsProxy, client: Any, queue_url: str
) -> None:
    proxy.inject(sqs_faults.DropConnection(), ["SendMessage"])

    with pytest.raises(ConnectionClosedError):
        client.send_message(QueueUrl=queue_url, MessageBody="sent anyway")

    assert [m["Body"] for m in client.receive_message(QueueUrl=queue_url)["Messages"]] == ["sent anyway"]


def test_an_empty_body_reads_as_success_to_botocore_even_when_nothing_was_sent(
    proxy: SqsProxy, client: Any, queue_url: str
) -> None:
    # Recorded because it matters to callers: botocore cannot tell this answer from a real send.
    proxy.inject(sqs_faults.EmptyBody(forward=False), ["SendMessage"])

    answer = client.send_message(QueueUrl=queue_url, MessageBody="lost")

    assert "MessageId" not in answer
    assert client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_garbled_receive_answer_hides_the_message_until_its_visibility_timeout(
    proxy: SqsProxy, client: Any, queue_url: str
) -> None:
    client.send_message(QueueUrl=queue_url, MessageBody="x")
    proxy.inject(sqs_faults.GarbledBody(), ["ReceiveMessage"])

    answer = client.receive_message(QueueUrl=queue_url, VisibilityTimeout=30)

    assert "Messages" not in answer
    in_flight = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert in_flight["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_a_failed_batch_entry_is_answered_in_failed_and_never_reaches_sqs(
    proxy: SqsProxy, client: Any, queue_url: str
) -> None:
    proxy.inject(sqs_faults.FailEntry(index=1, code="InternalError"), ["SendMessageBatch"])

    answer = client.send_message_batch(QueueUrl=queue_url, Entries=[
        {"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "two"}, {"Id": "c", "MessageBody": "three"}])

    assert sorted(entry["Id"] for entry in answer["Successful"]) == ["a", "c"]
    assert [(entry["Id"], entry["Code"], entry["SenderFault"]) for entry in answer["Failed"]] == [
        ("b", "InternalError", False)]
    received = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert sorted(m["Body"] for m in received) == ["one", "three"]
    assert proxy.faulted() == {("SendMessageBatch", "FailEntry"): 1}
