"""Keeps one queue short while a run sends to it, at the least cost to moto: receive 10, delete 10.

moto's FIFO SendMessage gets slower as its queue grows (it scans the queue for the deduplication id:
about 5 ms at 0 messages, 16 ms at 200 on this machine), so a floor measured against a queue that
only fills would rise through the run. In production someone consumes the queue; here the drainer
does, with two requests per ten messages, and throws the messages away.
"""

from __future__ import annotations

import threading
from typing import Any


class QueueDrainer:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.drained = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-drainer", daemon=True)

    def start(self) -> QueueDrainer:
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(10)
        return self.drained

    def _run(self) -> None:
        while not self._stop.is_set():
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", [])
            if got:
                self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
                self.drained += len(got)
