"""kombu's SQS transport with one fix: a timed-out or 5xx ReceiveMessage is an empty batch, not a crash.

kombu 5.7 turns such a response into `[]` (to "prevent hanging the worker"), then reads it as a
dict, and the AttributeError stops the whole worker ("Unrecoverable error"). It happens when SQS
answers 5xx, when a long poll times out, and on warm shutdown while a poll is in flight.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import SQS


class Channel(SQS.Channel):
    def _on_messages_ready(self, queue: Any, qname: str, messages: Any) -> int:
        if not isinstance(messages, dict):
            return 0
        return int(super()._on_messages_ready(queue, qname, messages))


class Transport(SQS.Transport):
    Channel = Channel
