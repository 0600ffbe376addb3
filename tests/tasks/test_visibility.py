"""Unit tests for the visibility heartbeat's error handling: bounded calls, Failed entries, stalls."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from celery.worker import state
from prometheus_client import REGISTRY

from localdev.polling import wait_for
from switchboard.settings import load_settings
from tasks.sqs_faults import FaultReporter
from tasks.visibility import VisibilityHeartbeat, heartbeat_client


def held_request(handle: str, queue_url: str) -> SimpleNamespace:
    sqs_message = {"ReceiptHandle": handle, "Attributes": {"ApproximateReceiveCount": "1"}}
    return SimpleNamespace(message=SimpleNamespace(delivery_info={"sqs_message": sqs_message, "sqs_queue": queue_url}),
                           acknowledged=False)


@pytest.fixture
def held() -> Iterator[dict[str, Any]]:
    saved = dict(state.requests)
    state.requests.clear()
    yield state.requests  # type: ignore[misc]
    state.requests.clear()
    state.requests.update(saved)


def failed_count(code: str) -> float:
    return REGISTRY.get_sample_value("switchboard_sqs_visibility_failed_total", {"code": code}) or 0.0


class ScriptedSqs:
    """Answers each call with the next scripted answer: a dict, or an exception to raise."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def change_message_visibility_batch(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        answer = self.answers.pop(0) if self.answers else {"Successful": [{"Id": "0"}]}
        if isinstance(answer, BaseException):
            raise answer
        return answer


def settings(**overrides: Any) -> Any:
    return load_settings(twilio_account_sid="AC" + "0" * 32, twilio_auth_token="a1b2c3d4" * 4, openai_api_key="k",
                         conversation_id_secret="k" * 32, aws_access_key_id="testing",
                         aws_secret_access_key="testing", **overrides)


def test_the_heartbeats_client_has_short_timeouts_and_never_retries() -> None:
    config = heartbeat_client(settings(sqs_endpoint_url="http://127.0.0.1:9")).meta.config

    assert config.connect_timeout <= 2
    assert config.read_timeout <= 5
    assert config.retries["total_max_attempts"] == 1


def test_failed_entries_of_a_batch_answer_are_counted_and_logged(held: dict[str, Any],
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    held["a"], held["b"] = held_request("handle-a", "http://sqs/q"), held_request("handle-b", "http://sqs/q")
    before = failed_count("ReceiptHandleIsInvalid")
    sqs = ScriptedSqs({"Successful": [{"Id": "0"}],
                       "Failed": [{"Id": "1", "Code": "ReceiptHandleIsInvalid", "SenderFault": True,
                                   "Message": "The receipt handle has expired"}]})

    extended = VisibilityHeartbeat(sqs, 60, 900, faults=FaultReporter(None)).beat_once()

    assert extended == 1
    assert failed_count("ReceiptHandleIsInvalid") == before + 1
    assert "ReceiptHandleIsInvalid" in caplog.text


def test_an_empty_batch_answer_counts_every_entry_as_not_extended(held: dict[str, Any]) -> None:
    held["a"] = held_request("handle-a", "http://sqs/q")
    before = failed_count("NoAnswer")

    extended = VisibilityHeartbeat(ScriptedSqs({}), 60, 900, faults=FaultReporter(None)).beat_once()

    assert extended == 0
    assert failed_count("NoAnswer") == before + 1


def test_an_error_answer_is_counted_and_the_other_batches_still_go_out(held: dict[str, Any]) -> None:
    held["a"], held["b"] = held_request("handle-a", "http://sqs/one"), held_request("handle-b", "http://sqs/two")
    before = failed_count("ThrottlingException")
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                            "ChangeMessageVisibilityBatch")
    sqs = ScriptedSqs(throttled, {"Successful": [{"Id": "0"}]})

    extended = VisibilityHeartbeat(sqs, 60, 900, faults=FaultReporter(None)).beat_once()

    assert extended == 1
    assert len(sqs.calls) == 2
    assert failed_count("ThrottlingException") == before + 1


class StallingSqs(ScriptedSqs):
    """The first call never answers (until released); the others answer at once."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def change_message_visibility_batch(self, **kwargs: Any) -> Any:
        first = not self.calls
        answer = super().change_message_visibility_batch(**kwargs)
        if first:
            self.release.wait(30)
        return answer


def test_a_stalled_call_does_not_delay_the_next_beat(held: dict[str, Any]) -> None:
    held["a"] = held_request("handle-a", "http://sqs/q")
    sqs = StallingSqs()
    heartbeat = VisibilityHeartbeat(sqs, 60, 900, interval=0.05, faults=FaultReporter(None))
    heartbeat.start()
    try:
        wait_for(lambda: len(sqs.calls) >= 3, timeout=10, message="beats after the stalled call")
    finally:
        sqs.release.set()
        heartbeat.stop()


def test_against_an_endpoint_that_never_answers_the_beats_go_on_and_each_call_gives_up(
        held: dict[str, Any]) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:  # accepts every connection and never answers
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
    held["a"] = held_request("handle-a", f"{endpoint}/123456789012/q")
    before = failed_count("ReadTimeoutError")
    heartbeat = VisibilityHeartbeat(heartbeat_client(settings(sqs_endpoint_url=endpoint)), 60, 900, interval=0.2,
                                    faults=FaultReporter(None))
    heartbeat.start()
    try:
        wait_for(lambda: len(accepted) >= 2, timeout=10, message="a second beat while the first call hangs")
        wait_for(lambda: failed_count("ReadTimeoutError") > before, timeout=15, message="a call giving up")
    finally:
        heartbeat.stop()
        listener.close()
        for connection in accepted:
            connection.close()
