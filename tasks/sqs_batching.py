"""Natural batching of SQS calls, process-wide: a lone call goes out at once, calls that meet one in flight go together.

A group commit per (action, SQS endpoint, queue URL). Unlike AWS's buffered SQS client and Kafka's
producer, which linger to fill a batch, it never holds a call back: batches form only from calls
that would otherwise have waited for SQS anyway.
- A caller that finds no call to its queue in flight sends its request at once, alone, as the plain
  call (SendMessage, DeleteMessage, ChangeMessageVisibility): light traffic sees no change.
- A caller that finds a call in flight waits. When every call in flight has returned, everything
  waiting goes out in the next round: up to 10 entries and 256 KiB of payload per call, as
  SendMessageBatch / DeleteMessageBatch / ChangeMessageVisibilityBatch (a call of one entry is the
  plain call), as many calls at once as it takes. A caller waits for at most one round it is not in
  (the one in flight when it arrived), unless more than a call's worth of its FIFO group waits with it.
- Leadership is handed on: the first caller of each call makes it, on its own thread. A caller whose
  call returned starts the next round and returns; it never makes another caller's call.
- Each caller blocks only for its own entry and sees its own failure: an entry in `Failed` is that
  caller's classified SqsAnswerError, a failed call is every one of its callers' (each raises its own
  copy). A batch SQS refuses as a request (kind `rejected`: one entry's bad contents, an emulator
  without the batch action) is sent again entry by entry, alone, so one bad request fails no other.
- Process-wide, not per channel: the webhook's publisher threads and the worker's pool threads use
  different pooled connections, and their calls to one queue batch together. Any of the callers'
  boto3 clients may make the call (they are thread-safe, and share the endpoint and credentials).

Order. Waiting entries are planned in the order their callers arrived. Entries with the same key (a
FIFO MessageGroupId) go in one call, in that order (SQS keeps a batch's order within a group), or,
once that call is full, in a later round with every later entry of their group; two calls of one
round never share a group. So SQS sees each group's entries in arrival order, and a publish that
returned before another began is always ahead of it. One thing batching cannot keep: when an earlier
entry of a group fails in a batch and a later one of the group succeeds, the failed one, published
again later (an owed link, the outbox), lands behind it. Without batching the same happens to two
concurrent publishes of a group; it is safe here because order per user comes from the sequence
numbers, not from SQS (docs/reliability.md, "Order per user"): `complete` for message n waits until
n-1 has an answer and `reply` until n-1's reply is finished, and FIFO does not serialise execution
anyway (one receive hands several messages of a group to concurrent threads).

A call that hangs holds its queue's next round until the client gives up (its read timeout): group
commit trades that for the fewer calls. The webhook's publish is bounded by its own timeout anyway
(tasks/publishing.py), and the outbox keeps the message.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from tasks.sqs_answers import AnswerKind, SqsAnswerError, answer_kind
from tasks.sqs_batch_actions import CALL_ERRORS, MAX_ENTRIES, MAX_PAYLOAD_BYTES, Action, Answer, Request


class Entry:
    """One caller's request and, once known, its outcome; `call` is set when this caller is to make a call."""

    def __init__(self, client: Any, request: Request, queue: str | None, action: Action) -> None:
        self.client, self.request, self.queue = client, request, queue
        self.key = action.key(request)
        self.payload_bytes = action.payload_bytes(request)
        self.alone = False  # set when its batch was refused as a request: it goes by itself from then on
        self.call: list[Entry] | None = None
        self.answer: Answer | None = None
        self.error: BaseException | None = None
        self.cause: BaseException | None = None
        self._turn = threading.Event()

    @property
    def settled(self) -> bool:
        return self.answer is not None or self.error is not None

    def lead(self, call: list[Entry]) -> None:
        self.call = call
        self._turn.set()

    def settle(self, answer: Answer | None = None, error: BaseException | None = None,
               cause: BaseException | None = None) -> None:
        self.answer, self.error, self.cause = answer, error, cause

    def wake(self) -> None:
        self._turn.set()

    def wait_for_turn(self) -> None:
        self._turn.wait()
        self._turn.clear()  # before anything that could set it again (a re-lead after a refused batch)

    def result(self) -> Answer:
        if self.error is not None:
            raise self.error from self.cause
        assert self.answer is not None
        return self.answer


def plan_round(waiting: Sequence[Entry], keys_share_a_call: bool, max_entries: int = MAX_ENTRIES,
               max_payload_bytes: int = MAX_PAYLOAD_BYTES) -> tuple[list[list[Entry]], list[Entry]]:
    """Split the waiting entries into this round's calls (first fit, arrival order) and those left for the next.

    An entry whose key is already in a call goes into that call or, if it cannot, waits for the next
    round together with every later entry of its key. An entry over the payload limit goes alone.
    """
    calls: list[list[Entry]] = []
    payloads: list[int] = []
    home: dict[str, int] = {}  # key -> the call holding that key's entries this round
    held: set[str] = set()  # keys whose next entry waits for the next round
    left: list[Entry] = []

    def fits(i: int, entry: Entry) -> bool:
        return (not entry.alone and not calls[i][0].alone and len(calls[i]) < max_entries
                and payloads[i] + entry.payload_bytes <= max_payload_bytes)

    for entry in waiting:
        key = entry.key
        if key is not None and (key in held or (key in home and not (keys_share_a_call and fits(home[key], entry)))):
            held.add(key)
            left.append(entry)
            continue
        if key is not None and key in home:
            i = home[key]
        else:
            i = next((i for i in range(len(calls)) if fits(i, entry)), len(calls))
            if i == len(calls):
                calls.append([])
                payloads.append(0)
        calls[i].append(entry)
        payloads[i] += entry.payload_bytes
        if key is not None:
            home[key] = i
    return calls, left


class QueueBatcher:
    """The group commit for one action on one queue."""

    def __init__(self, action: Action, queue_url: str) -> None:
        self.action = action
        self.queue_url = queue_url
        self._lock = threading.Lock()
        self._waiting: list[Entry] = []
        self._in_flight = 0  # calls of the current round not yet returned

    @property
    def waiting(self) -> int:
        """Callers waiting for the next round (for tests and diagnostics)."""
        with self._lock:
            return len(self._waiting)

    def submit(self, client: Any, request: Request, queue: str | None = None) -> Answer:
        """Send `request` (alone or batched); its answer, or its own `SqsAnswerError` raised from the cause."""
        entry = Entry(client, request, queue, self.action)
        with self._lock:
            self._waiting.append(entry)
            if not self._in_flight:
                self._start_round()  # no call in flight: the waiting list was empty, so it goes alone
        while not entry.settled:
            entry.wait_for_turn()
            call, entry.call = entry.call, None
            if call is not None:
                self._make(call)
        return entry.result()

    def _start_round(self) -> None:  # under self._lock
        calls, self._waiting = plan_round(self._waiting, self.action.keys_share_a_call)
        self._in_flight = len(calls)
        for call in calls:
            call[0].lead(call)

    def _make(self, call: list[Entry]) -> None:
        """Make one call on this thread, settle every entry of it, then hand the next round on."""
        refused: list[Entry] = []
        try:
            if len(call) == 1:
                self._alone(call[0])
            else:
                refused = self._together(call)
        except BaseException as exc:  # noqa: BLE001 - not an SQS answer (a bug, an interrupt): never strand a waiter
            for entry in call:
                if not entry.settled:
                    entry.settle(error=RuntimeError(f"the {self.action.batch_name} call carrying this entry "
                                                    f"failed: {exc!r}"), cause=exc)
            raise
        finally:
            with self._lock:
                self._waiting[:0] = refused  # they arrived before anything waiting now
                self._in_flight -= 1
                if not self._in_flight and self._waiting:
                    self._start_round()
            for entry in call[1:]:
                if entry.settled:
                    entry.wake()

    def _alone(self, entry: Entry) -> None:
        try:
            entry.settle(answer=self.action.send_alone(entry.client, self.queue_url, entry.request, entry.queue))
        except SqsAnswerError as exc:
            entry.settle(error=exc, cause=exc.__cause__)

    def _together(self, call: list[Entry]) -> list[Entry]:
        """Settle each entry from the batch's answer; returns the entries to send again alone, if refused."""
        client, queue = call[0].client, call[0].queue
        try:
            outcomes = self.action.send_together(client, self.queue_url, [e.request for e in call], queue)
        except CALL_ERRORS as exc:
            if answer_kind(exc) is AnswerKind.REJECTED:
                for entry in call:
                    entry.alone = True
                return call
            for entry in call:
                entry.settle(error=self.action.call_failed(exc, entry.queue, batch=True), cause=exc)
            return []
        for entry, outcome in zip(call, outcomes, strict=True):
            if isinstance(outcome, SqsAnswerError):
                outcome.queue = entry.queue or outcome.queue
                entry.settle(error=outcome)
            else:
                entry.settle(answer=outcome)
        return []


class Batchers:
    """This process's batchers, one per (action, SQS endpoint, queue URL), made on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batchers: dict[tuple[str, str, str], QueueBatcher] = {}

    def for_queue(self, action: Action, client: Any, queue_url: str) -> QueueBatcher:
        key = (action.name, str(client.meta.endpoint_url), queue_url)
        with self._lock:
            batcher = self._batchers.get(key)
            if batcher is None:
                batcher = self._batchers[key] = QueueBatcher(action, queue_url)
            return batcher

    def submit(self, action: Action, client: Any, queue_url: str, request: Request,
               queue: str | None = None) -> Answer:
        return self.for_queue(action, client, queue_url).submit(client, request, queue)


_batchers: Batchers | None = None
_batchers_lock = threading.Lock()


def process_batchers() -> Batchers:
    """The batchers every channel of this process shares."""
    global _batchers
    with _batchers_lock:
        if _batchers is None:
            _batchers = Batchers()
        return _batchers


def _forget_in_child() -> None:
    # A forked child inherits the parent's batchers mid-call (a lock held, a round never ending); start afresh.
    global _batchers, _batchers_lock
    _batchers, _batchers_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)
