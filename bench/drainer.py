"""Keeps one queue short while a run sends to it, at the least cost to moto: receive 10, delete 10.

moto's FIFO SendMessage gets slower as its queue grows (it scans the queue for the deduplication id:
about 5 ms at 0 messages, 16 ms at 200 on this machine), so a floor measured against a queue that
only fills would rise through the run. In production someone consumes the queue; here the drainer
does, with two requests per ten messages, and throws the messages away.

`finish` empties the queue before it stops (a run without a worker must not leave messages for the
next run's worker): drained, not purged, because SQS and moto allow one PurgeQueue per queue a minute.
"""

from __future__ import annotations

import threading
import time
from typing import Any


class QueueDrainer:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.drained = 0
        self.largest_body_bytes = 0  # the largest message seen: what a request's payload weighs (billing)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-drainer", daemon=True)

    def start(self) -> QueueDrainer:
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(10)
        return self.drained

    def finish(self, timeout: float = 60.0) -> int:
        """Stop, after the queue is empty: nothing visible, nothing in flight, and a receive found nothing."""
        self.stop()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # short polls: nobody sends any more, and _is_empty has the last word
            if not self._drain_once(wait_seconds=0) and self._is_empty():
                break
        return self.drained

    def _run(self) -> None:
        while not self._stop.is_set():
            self._drain_once()

    def _drain_once(self, wait_seconds: int = 1) -> int:
        got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=wait_seconds).get("Messages", [])
        if got:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
            self.drained += len(got)
            self.largest_body_bytes = max([self.largest_body_bytes] + [len(m["Body"].encode()) for m in got])
        return len(got)

    def _is_empty(self) -> bool:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)["Attributes"]
        return all(int(attributes.get(name, 0)) == 0 for name in names)
