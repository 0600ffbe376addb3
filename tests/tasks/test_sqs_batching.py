"""Natural batching (tasks/sqs_batching.py) against a fake SQS client: who waits, what goes together, who sees what."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from kombu.transport import SQS

from localdev.polling import wait_for
from tasks.sqs_answers import AnswerKind, SqsAnswerError
from tasks.sqs_batch_actions import DELETE, MAX_PAYLOAD_BYTES, SEND, Request
from tasks.sqs_batching import Batchers, Entry, QueueBatcher, plan_round
from tasks.sqs_transport import Channel

URL = "http://sqs.test/000000000000/work.fifo"


@dataclass(frozen=True)
class Call:
    method: str
    kwargs: dict[str, Any]
    thread: str

    @property
    def tags(self) -> list[str]:
        entries = self.kwargs.get("Entries") or [self.kwargs]
        return [str(e.get("MessageBody") or e.get("ReceiptHandle")) for e in entries]


class FakeSqs:
    """A boto3 SQS client stand-in: records each call and the thread that made it, holds calls on request.

    Entries are told apart by their body (sends) or receipt handle (deletes), their "tag".
    """

    def __init__(self, endpoint_url: str = "http://sqs.test") -> None:
        self.meta = SimpleNamespace(endpoint_url=endpoint_url)
        self.calls: list[Call] = []
        self.returned = 0
        self.failed_entries: dict[str, str] = {}  # tag -> the error code its batch entry is answered with
        self.unproven: set[str] = set()  # tags answered as Successful but without a MessageId
        self.unanswered: set[str] = set()  # tags the batch answer leaves out
        self.batch_error: BaseException | None = None
        self.alone_errors: dict[str, BaseException] = {}
        self._gates: list[threading.Event] = []
        self._lock = threading.Lock()

    def hold(self) -> threading.Event:
        """The next call to start waits until the returned event is set."""
        gate = threading.Event()
        with self._lock:
            self._gates.append(gate)
        return gate

    def __getattr__(self, method: str) -> Any:
        if method not in {"send_message", "delete_message", "send_message_batch", "delete_message_batch"}:
            raise AttributeError(method)
        return lambda **kwargs: self._call(method, kwargs)

    def _call(self, method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(Call(method, copy.deepcopy(kwargs), threading.current_thread().name))
            gate = self._gates.pop(0) if self._gates else None
        try:
            if gate is not None:
                assert gate.wait(10), "a held call was never let go"
            return self._answer(method, kwargs)
        finally:
            with self._lock:
                self.returned += 1

    def _answer(self, method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        sends = method.startswith("send")
        if not method.endswith("_batch"):
            tag = Call(method, kwargs, "").tags[0]
            if tag in self.alone_errors:
                raise self.alone_errors[tag]
            return {"MessageId": f"id-{tag}"} if sends else {}
        if self.batch_error is not None:
            raise self.batch_error
        answer: dict[str, list[dict[str, Any]]] = {"Successful": [], "Failed": []}
        for entry, tag in zip(kwargs["Entries"], Call(method, kwargs, "").tags, strict=True):
            if tag in self.failed_entries:
                answer["Failed"].append({"Id": entry["Id"], "SenderFault": False, "Code": self.failed_entries[tag],
                                         "Message": "scripted"})
            elif tag not in self.unanswered:
                proven = sends and tag not in self.unproven
                answer["Successful"].append({"Id": entry["Id"], **({"MessageId": f"id-{tag}"} if proven else {})})
        return answer


class Caller(threading.Thread):
    """One caller of `submit` on its own thread, named after its entry's tag."""

    def __init__(self, batcher: QueueBatcher, client: FakeSqs, request: Request) -> None:
        self.tag = str(request.get("MessageBody") or request.get("ReceiptHandle"))
        super().__init__(name=f"caller-{self.tag}", daemon=True)
        self.batcher, self.client, self.request = batcher, client, request
        self.answer: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.answer = self.batcher.submit(self.client, self.request, "work.fifo")
        except BaseException as exc:  # noqa: BLE001 - the test reads what this caller saw
            self.error = exc

    def done(self) -> bool:
        return not self.is_alive()


def send(body: str, group: str | None = None, size: int = 0) -> Request:
    request: Request = {"MessageBody": body + "x" * size}
    if group is not None:
        request["MessageGroupId"] = group
    return request


@pytest.fixture
def sqs() -> FakeSqs:
    return FakeSqs()


@pytest.fixture
def sends() -> QueueBatcher:
    return QueueBatcher(SEND, URL)


@pytest.fixture
def callers() -> Iterator[list[Caller]]:
    started: list[Caller] = []
    yield started
    for caller in started:
        caller.join(10)
    assert not any(caller.is_alive() for caller in started), "a caller never got its outcome"


def arrive(callers: list[Caller], batcher: QueueBatcher, client: FakeSqs, *requests: Request) -> list[Caller]:
    """Start one caller per request, each only once the one before it is waiting (or making the first call)."""
    new = []
    for request in requests:
        caller = Caller(batcher, client, request)
        callers.append(caller)
        new.append(caller)
        _start_and_wait(caller, batcher, client)
    return new


def _start_and_wait(caller: Caller, batcher: QueueBatcher, client: FakeSqs) -> None:
    waiting, calls = batcher.waiting, len(client.calls)
    caller.start()
    wait_for(lambda: batcher.waiting > waiting or len(client.calls) > calls or caller.done(),
             message=f"{caller.tag} to arrive")


def in_flight(callers: list[Caller], batcher: QueueBatcher, client: FakeSqs, tag: str = "first") -> threading.Event:
    """A first caller whose call SQS holds; returns the gate that lets it go."""
    gate = client.hold()
    arrive(callers, batcher, client, send(tag))
    wait_for(lambda: len(client.calls) == 1, message="the first call in flight")
    return gate


def finish(callers: list[Caller]) -> None:
    for caller in callers:
        wait_for(caller.done, message=f"{caller.tag} to get its outcome")


def test_a_lone_call_goes_at_once_as_the_plain_call(sqs: FakeSqs, sends: QueueBatcher) -> None:
    answer = sends.submit(sqs, send("hello", "g"), "work.fifo")

    assert answer == {"MessageId": "id-hello"}
    assert [(c.method, c.kwargs) for c in sqs.calls] == [
        ("send_message", {"QueueUrl": URL, "MessageBody": "hello", "MessageGroupId": "g"})]


def test_callers_that_meet_a_call_in_flight_go_together_once_it_returns(
        sqs: FakeSqs, sends: QueueBatcher, callers: list[Caller]) -> None:
    gate = in_flight(callers, sends, sqs)
    waiting = arrive(callers, sends, sqs, *(send(f"m{i}", f"g{i}") for i in range(5)))
    assert len(sqs.calls) == 1 and sends.waiting == 5  # nobody else goes while the first call is out

    gate.set()
    finish(callers)

    assert [c.method for c in sqs.calls] == ["send_message", "send_message_batch"]
    assert sqs.calls[1].tags == ["m0", "m1", "m2", "m3", "m4"]
    assert [(c.answer or {}).get("MessageId") for c in waiting] == [f"id-m{i}" for i in range(5)]


def test_the_caller_whose_call_returned_does_not_wait_for_the_next_call(
        sqs: FakeSqs, sends: QueueBatcher, callers: list[Caller]) -> None:
    gate = in_flight(callers, sends, sqs)
    first = callers[0]
    waiting = arrive(callers, sends, sqs, send("a"), send("b"))
    second_gate = sqs.hold()

    gate.set()
    wait_for(first.done, message="the first caller to return")
    wait_for(lambda: len(sqs.calls) == 2, message="the next call")

    assert sqs.returned == 1  # the next call is still out, without it
    assert sqs.calls[1].thread == "caller-a"  # made by the first waiter, on its own thread
    assert not any(c.done() for c in waiting)
    second_gate.set()
    finish(waiting)
    assert [c.error for c in waiting] == [None, None]


def test_each_caller_sees_only_its_own_failed_entry(sqs: FakeSqs, sends: QueueBatcher,
                                                    callers: list[Caller]) -> None:
    sqs.failed_entries = {"b": "ThrottlingException", "c": "InvalidMessageContents"}
    gate = in_flight(callers, sends, sqs)
    a, b, c, d = arrive(callers, sends, sqs, send("a"), send("b"), send("c"), send("d"))

    gate.set()
    finish(callers)

    assert a.error is None and d.error is None
    assert isinstance(b.error, SqsAnswerError) and isinstance(c.error, SqsAnswerError)
    assert (b.error.action, b.error.queue, b.error.code, b.error.kind) == (
        "SendMessage", "work.fifo", "ThrottlingException", AnswerKind.TRANSIENT)
    assert (c.error.code, c.error.kind) == ("InvalidMessageContents", AnswerKind.REJECTED)
    assert "SendMessageBatch" in c.error.detail


def test_a_batch_entry_without_a_message_id_is_no_proof_of_a_send(sqs: FakeSqs, sends: QueueBatcher,
                                                                  callers: list[Caller]) -> None:
    sqs.unproven, sqs.unanswered = {"a"}, {"b"}
    gate = in_flight(callers, sends, sqs)
    a, b, c = arrive(callers, sends, sqs, send("a"), send("b"), send("c"))

    gate.set()
    finish(callers)

    for unsure in (a, b):
        assert isinstance(unsure.error, SqsAnswerError)
        assert (unsure.error.code, unsure.error.kind) == ("EmptyAnswer", AnswerKind.TRANSIENT)
    assert c.error is None


def test_a_lone_send_answered_without_a_message_id_raises(sqs: FakeSqs, sends: QueueBatcher) -> None:
    class Empty(FakeSqs):
        def _answer(self, method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
            return {}

    with pytest.raises(SqsAnswerError) as raised:
        sends.submit(Empty(), send("a"), "work.fifo")

    assert (raised.value.action, raised.value.code) == ("SendMessage", "EmptyAnswer")


def throttled() -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, "SendMessageBatch")


def test_a_failed_batch_call_fails_every_caller_in_it_each_with_its_own_error(
        sqs: FakeSqs, sends: QueueBatcher, callers: list[Caller]) -> None:
    sqs.batch_error = throttled()
    gate = in_flight(callers, sends, sqs)
    batched = arrive(callers, sends, sqs, send("a"), send("b"), send("c"))

    gate.set()
    finish(callers)

    assert callers[0].error is None  # its own call was fine
    errors = [c.error for c in batched]
    assert all(isinstance(e, SqsAnswerError) and e.code == "ThrottlingException" for e in errors)
    assert all(e is not None and e.__cause__ is sqs.batch_error for e in errors)
    assert len({id(e) for e in errors}) == 3  # raised on three threads: never one shared object


def test_a_batch_refused_as_a_request_is_sent_again_entry_by_entry(
        sqs: FakeSqs, sends: QueueBatcher, callers: list[Caller]) -> None:
    refused = ClientError({"Error": {"Code": "InvalidMessageContents"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                          "SendMessageBatch")
    sqs.batch_error = refused
    sqs.alone_errors = {"bad": refused}
    gate = in_flight(callers, sends, sqs)
    good, bad, other = arrive(callers, sends, sqs, send("good", "g"), send("bad", "g"), send("other", "h"))

    gate.set()
    finish(callers)

    assert good.error is None and other.error is None
    assert isinstance(bad.error, SqsAnswerError) and bad.error.kind is AnswerKind.REJECTED
    assert [c.method for c in sqs.calls] == ["send_message", "send_message_batch"] + ["send_message"] * 3
    alone = [c.tags[0] for c in sqs.calls[2:]]
    assert alone.index("good") < alone.index("bad")  # one group's entries still go in their order


def test_an_unexpected_error_in_a_call_never_strands_its_callers(sqs: FakeSqs, sends: QueueBatcher,
                                                                 callers: list[Caller]) -> None:
    sqs.batch_error = TypeError("a bug")
    gate = in_flight(callers, sends, sqs)
    leader, other = arrive(callers, sends, sqs, send("a"), send("b"))

    gate.set()
    finish(callers)

    assert isinstance(leader.error, TypeError)  # the thread that made the call sees the bug itself
    assert isinstance(other.error, RuntimeError) and other.error.__cause__ is sqs.batch_error


def test_entries_of_a_fifo_group_keep_the_order_their_callers_arrived_in(
        sqs: FakeSqs, sends: QueueBatcher, callers: list[Caller]) -> None:
    gate = in_flight(callers, sends, sqs)
    order = [("g", "g1"), ("h", "h1"), ("g", "g2"), ("g", "g3"), ("h", "h2"), ("g", "g4")]
    arrive(callers, sends, sqs, *(send(body, group) for group, body in order))

    gate.set()
    finish(callers)

    assert sqs.calls[1].tags == [body for _, body in order]


def test_a_group_that_overflows_a_call_waits_for_the_next_round_in_order(
        sqs: FakeSqs, sends: QueueBatcher, callers: list[Caller]) -> None:
    gate = in_flight(callers, sends, sqs)
    arrive(callers, sends, sqs, *(send(f"g{i:02}", "g") for i in range(13)), send("h0", "h"))

    gate.set()
    finish(callers)

    # Round two: g's first ten in one call, h beside it; round three: the rest of g.
    assert sorted(len(c.tags) for c in sqs.calls[1:3]) == [1, 10]
    assert sqs.calls[3].tags == ["g10", "g11", "g12"]
    group_g = [tag for call in sqs.calls[1:] for tag in call.tags if tag.startswith("g")]
    assert group_g == [f"g{i:02}" for i in range(13)]


def test_a_call_takes_at_most_10_entries_and_the_rest_go_in_the_same_round(
        sqs: FakeSqs, sends: QueueBatcher, callers: list[Caller]) -> None:
    gate = in_flight(callers, sends, sqs)
    arrive(callers, sends, sqs, *(send(f"m{i:02}", f"g{i}") for i in range(23)))
    gates = [sqs.hold() for _ in range(3)]

    gate.set()
    # All three calls are out at once: nobody waits for a call it is not in beyond the first.
    wait_for(lambda: len(sqs.calls) == 4, message="three calls in flight together")
    assert sqs.returned == 1
    for held in gates:
        held.set()
    finish(callers)

    assert sorted(len(c.tags) for c in sqs.calls[1:]) == [3, 10, 10]
    assert sorted(tag for c in sqs.calls[1:] for tag in c.tags) == [f"m{i:02}" for i in range(23)]


def test_a_call_stays_under_the_payload_limit_and_an_oversized_message_goes_alone(
        sqs: FakeSqs, sends: QueueBatcher, callers: list[Caller]) -> None:
    gate = in_flight(callers, sends, sqs)
    arrive(callers, sends, sqs, *(send(f"m{i}-", size=100 * 1024) for i in range(5)),
           send("huge-", size=MAX_PAYLOAD_BYTES + 1))

    gate.set()
    finish(callers)

    batches = [sum(len(tag) for tag in c.tags) for c in sqs.calls[1:] if c.method == "send_message_batch"]
    alone = [len(c.tags[0]) for c in sqs.calls[1:] if c.method == "send_message"]
    assert len(batches) == 2 and all(size <= MAX_PAYLOAD_BYTES for size in batches)  # two of 2 x 100 KiB
    assert sorted(alone) == [100 * 1024 + 3, MAX_PAYLOAD_BYTES + 6]  # the fifth 100 KiB one, and the huge one


def test_concurrent_deletes_go_as_one_batch_and_a_repeated_handle_waits_its_turn(
        sqs: FakeSqs, callers: list[Caller]) -> None:
    deletes = QueueBatcher(DELETE, URL)
    gate = sqs.hold()
    arrive(callers, deletes, sqs, {"ReceiptHandle": "h0"})
    arrive(callers, deletes, sqs, {"ReceiptHandle": "h1"}, {"ReceiptHandle": "h2"}, {"ReceiptHandle": "h1"})

    gate.set()
    finish(callers)

    assert [(c.method, c.tags) for c in sqs.calls] == [
        ("delete_message", ["h0"]), ("delete_message_batch", ["h1", "h2"]), ("delete_message", ["h1"])]
    assert all(c.error is None for c in callers)


def test_one_batcher_per_endpoint_and_queue_and_any_callers_client_makes_the_call(callers: list[Caller]) -> None:
    batchers = Batchers()
    mine, theirs, elsewhere = FakeSqs(), FakeSqs(), FakeSqs("http://other.test")
    batcher = batchers.for_queue(SEND, mine, URL)
    assert batchers.for_queue(SEND, theirs, URL) is batcher
    assert batchers.for_queue(SEND, elsewhere, URL) is not batcher
    assert batchers.for_queue(DELETE, mine, URL) is not batcher

    gate = in_flight(callers, batcher, mine)
    arrive(callers, batcher, theirs, send("a"))
    arrive(callers, batcher, mine, send("b"))
    gate.set()
    finish(callers)

    assert [c.method for c in mine.calls] == ["send_message"]
    assert [(c.method, c.tags) for c in theirs.calls] == [("send_message_batch", ["a", "b"])]


def entries(*specs: tuple[str | None, int]) -> list[Entry]:
    return [Entry(None, send(f"e{i}", group, size), None, SEND) for i, (group, size) in enumerate(specs)]


def tags(calls: list[list[Entry]]) -> list[list[str]]:
    return [[str(e.request["MessageBody"]).rstrip("x") for e in call] for call in calls]


def test_the_plan_fills_calls_first_fit_and_keeps_a_group_in_one_call() -> None:
    calls, left = plan_round(entries(("g", 0), (None, 0), ("h", 0), ("g", 0)), keys_share_a_call=True, max_entries=2)

    assert tags(calls) == [["e0", "e1"], ["e2"]]
    assert tags([left]) == [["e3"]]  # g's call is full: it waits for the next round


def test_the_plan_leaves_every_later_entry_of_a_held_group_for_the_next_round() -> None:
    calls, left = plan_round(entries(("g", 0), ("g", 0), ("g", 0), ("h", 0)), keys_share_a_call=True, max_entries=2)

    assert tags(calls) == [["e0", "e1"], ["e3"]]
    assert tags([left]) == [["e2"]]


def test_the_plan_never_puts_one_key_twice_in_a_call_when_keys_may_not_share() -> None:
    calls, left = plan_round(entries(("k", 0), ("k", 0), (None, 0)), keys_share_a_call=False)

    assert tags(calls) == [["e0", "e2"]]
    assert tags([left]) == [["e1"]]


def test_the_plan_counts_payload_bytes() -> None:
    calls, left = plan_round(entries((None, 60), (None, 60), (None, 10)), keys_share_a_call=True,
                             max_payload_bytes=100)

    assert tags(calls) == [["e0", "e2"], ["e1"]] and left == []


# --- the channel's publish request is kombu's own ---------------------------------------------------

MESSAGES = {
    "fifo with group and dedup id": ("work.fifo", {"MessageGroupId": "g", "MessageDeduplicationId": "d"}),
    "fifo without either": ("work.fifo", {}),
    "fifo with a delay (dropped)": ("work.fifo", {"MessageGroupId": "g", "delay_seconds": 5}),
    "standard with a delay": ("work", {"DelaySeconds": 7}),
    "standard with attributes": ("work", {"message_attributes": {"a": {"DataType": "String", "StringValue": "v"}}}),
    "standard, nothing": ("work", {}),
}


@pytest.mark.parametrize("base64", [True, False], ids=["base64", "plain-json"])
@pytest.mark.parametrize(("queue", "properties"), MESSAGES.values(), ids=MESSAGES.keys())
def test_the_channel_builds_the_send_request_kombus_put_would(
        monkeypatch: pytest.MonkeyPatch, queue: str, properties: dict[str, Any], base64: bool) -> None:
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=7))
    channel = Channel.__new__(Channel)
    channel.__dict__.update(sqs_base64_encoding=base64, queue_name_prefix="")
    message = {"body": "x", "properties": {"delivery_tag": "t", **properties}}
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(channel, "_new_queue", lambda name, **_: URL)
    monkeypatch.setattr(channel, "sqs", lambda queue=None: SimpleNamespace(send_message=lambda **kw: sent.append(kw)))

    SQS.Channel._put(channel, queue, copy.deepcopy(message))
    ours = channel._send_request(queue, copy.deepcopy(message))

    assert {"QueueUrl": URL, **ours} == sent[0]
