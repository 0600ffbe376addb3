"""The emulator's ceiling: how many messages/s a plain boto3 loop pushes through the chain's 3 hops.

Each loop thread takes a message through three FIFO queues the way the chain does, one request at a
time: SendMessage, ReceiveMessage, DeleteMessage per hop (9 requests per message), with its own
message group, reusing one client. The result is what the same moto server can do for a 3-hop
message with nothing else in the way: the most replies/s the pipeline could hope for here.

moto's requests get slower as a queue grows (it scans the queue's messages for each send, receive
and delete), so the loop also runs with a backlog: `depth` messages parked in each hop queue, in a
message group held in flight so no receive returns them. That is what a burst does to the pipeline.

`one_at_a_time` is the low-load floor instead: the same 3 hops for one message after another, each
message timed from its first SendMessage to its last DeleteMessage. A message the pipeline carries
alone cannot beat it on the same server; what it takes beyond it is the pipeline's own overhead.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from bench.metrics import distribution

HOPS = 3


def create_hop_queues(sqs: Any, prefix: str, depth: int = 0) -> list[str]:
    """Three new FIFO queues, each holding `depth` messages that no receive will return."""
    urls = [sqs.create_queue(QueueName=f"{prefix}ceiling-d{depth}-{hop}.fifo",
                             Attributes={"FifoQueue": "true", "VisibilityTimeout": "60"})["QueueUrl"]
            for hop in range(HOPS)]
    for url in urls:
        for _ in range(depth):
            sqs.send_message(QueueUrl=url, MessageBody="x" * 1500, MessageGroupId="backlog",
                             MessageDeduplicationId=uuid.uuid4().hex)
        if depth:  # the group's first message in flight for 10 minutes: FIFO holds back the rest
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=600)
    return urls


def measure(make_client: Any, queue_urls: list[str], threads: int, seconds: float, depth: int = 0) -> dict[str, Any]:
    """Messages/s through all hops with `threads` loops running for about `seconds`."""
    done = [0] * threads
    errors = [0] * threads
    deadline = time.monotonic() + seconds
    clients = [make_client() for _ in range(threads)]
    for client in clients:  # connect and load botocore's model before the clock starts
        client.get_queue_attributes(QueueUrl=queue_urls[0], AttributeNames=["QueueArn"])

    def loop(index: int) -> None:
        sqs = clients[index]
        group = f"ceiling-{index}-{uuid.uuid4().hex[:6]}"
        while time.monotonic() < deadline:
            if _one_message(sqs, queue_urls, group):
                done[index] += 1
            else:
                errors[index] += 1

    workers = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 60)
    elapsed = time.monotonic() - started
    total = sum(done)
    return {"threads": threads, "backlog_per_queue": depth, "seconds": round(elapsed, 2), "messages": total, "misses": sum(errors),
            "messages_per_s": round(total / elapsed, 2), "requests_per_s": round(total * 3 * HOPS / elapsed, 1)}


def one_at_a_time(make_client: Any, queue_urls: list[str], count: int) -> dict[str, Any]:
    """`count` messages through the 3 hops one after another, each timed end to end (ms)."""
    sqs = make_client()
    group = f"bare-{uuid.uuid4().hex[:6]}"
    _one_message(sqs, queue_urls, group)  # connect and load botocore's model before the clock starts
    samples, misses = [], 0
    for _ in range(count):
        began = time.perf_counter()
        if _one_message(sqs, queue_urls, group):
            samples.append(time.perf_counter() - began)
        else:
            misses += 1
    return {"messages": count, "misses": misses, "latency_ms": distribution(samples),
            "samples_ms": sorted(round(s * 1000, 2) for s in samples)}


def _one_message(sqs: Any, queue_urls: list[str], group: str) -> bool:
    for url in queue_urls:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1500, MessageGroupId=group,
                         MessageDeduplicationId=uuid.uuid4().hex)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        if not got:
            return False  # should not happen: the message was just sent and nobody else reads this queue
        for message in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return True
