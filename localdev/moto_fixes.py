"""Where moto's SQS differs from Amazon's in a way that costs every conversation time, made faithful.

moto 5.2's ReceiveMessage takes a snapshot of the FIFO message groups that have a message in flight
when a long poll starts, and skips those groups until the poll ends, even after their message was
deleted (moto/sqs/models.py, `receive_message`: `currently_pending_groups = deepcopy(...)`). Real
SQS hands a group's next message to a waiting poll as soon as the one before it is deleted. On the
emulator every hop of a sender's next message waited out a poll that began while their previous
message was being handled: 3.8x a new sender's latency (issue 13).

The fix keeps moto's own code and changes what its snapshot means: a group stays skipped only while
it is still pending. Groups that become pending during the same call (this call's own receipts) are
not in the snapshot, so one receive may still return several messages of one group, as on AWS.
"""

from __future__ import annotations

from typing import Any


class _PendingGroups(set[str]):
    """What `Queue.pending_message_groups` returns: a plain set whose deep copy stays live."""

    def __init__(self, groups: set[str], queue: Any) -> None:
        super().__init__(groups)
        self._queue = queue

    def __deepcopy__(self, memo: dict[int, Any]) -> _StillPending:
        return _StillPending(set(self), self._queue)


class _StillPending(set[str]):
    """The snapshot a poll keeps: a group in it counts only while one of its messages is still in flight."""

    def __init__(self, groups: set[str], queue: Any) -> None:
        super().__init__(groups)
        self._queue = queue

    def __contains__(self, group: object) -> bool:
        return super().__contains__(group) and group in _groups_in_flight(self._queue)


def _groups_in_flight(queue: Any) -> set[str]:
    return {m.group_id for m in queue._pending_messages if m.group_id is not None}


def apply() -> None:
    """Patch moto's SQS Queue in this process (the one that runs the server). Idempotent."""
    from moto.sqs.models import Queue

    if getattr(Queue, "_switchboard_live_groups", False):
        return
    Queue.pending_message_groups = property(  # type: ignore[method-assign,assignment]
        lambda queue: _PendingGroups(_groups_in_flight(queue), queue))
    Queue._switchboard_live_groups = True  # type: ignore[attr-defined]
