"""Unit tests for tasks.sqs_answers: every SQS failure a caller can see gets one of three kinds."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError
from kombu.exceptions import OperationalError
from kombu.transport.SQS.exceptions import DoesNotExistQueueException

from tasks.sqs_answers import (
    AnswerKind,
    QueueMissing,
    SqsAnswerError,
    answer_kind,
    as_answer_error,
    error_from_answer,
)

T, C, R = AnswerKind.TRANSIENT, AnswerKind.CONFIGURATION, AnswerKind.REJECTED


def client_error(code: str, status: int = 400, action: str = "ReceiveMessage") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, action)


@pytest.mark.parametrize(("code", "status", "kind"), [
    ("ThrottlingException", 400, T),
    ("RequestThrottled", 403, T),
    ("OverLimit", 403, T),
    ("AWS.SimpleQueueService.OverLimit", 403, T),
    ("InternalError", 500, T),
    ("ServiceUnavailable", 503, T),
    ("KmsThrottled", 400, T),
    ("QueueDoesNotExist", 400, C),
    ("AWS.SimpleQueueService.NonExistentQueue", 400, C),
    ("com.amazonaws.sqs#QueueDoesNotExist", 400, C),
    ("AccessDenied", 403, C),
    ("AccessDeniedException", 400, C),
    ("InvalidClientTokenId", 403, C),
    ("ExpiredToken", 400, C),
    ("UnrecognizedClientException", 400, C),
    ("SignatureDoesNotMatch", 403, C),
    ("SomethingNewButForbidden", 403, C),
    ("InvalidParameterValue", 400, R),
    ("MissingParameter", 400, R),
    ("InvalidMessageContents", 400, R),
    ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400, R),
    ("SomethingNobodyHasSeen", 400, T),
])
def test_client_errors_are_classified_by_their_code_in_every_spelling(code: str, status: int,
                                                                       kind: AnswerKind) -> None:
    assert answer_kind(client_error(code, status)) is kind


@pytest.mark.parametrize(("exc", "kind"), [
    (EndpointConnectionError(endpoint_url="http://x"), T),
    (ConnectionClosedError(endpoint_url="http://x"), T),
    (ReadTimeoutError(endpoint_url="http://x"), T),
    (ResponseParserError("garbled"), T),
    (ConnectionResetError(104, "reset"), T),
    (TimeoutError("timed out"), T),
    (NoCredentialsError(), C),
    (ParamValidationError(report="bad"), R),
    (DoesNotExistQueueException("gone"), C),
    (QueueMissing("SendMessage", "switchboard-intake.fifo"), C),
])
def test_transport_and_library_errors_are_classified(exc: BaseException, kind: AnswerKind) -> None:
    assert answer_kind(exc) is kind


def test_a_wrapped_error_is_classified_by_its_cause() -> None:
    # Celery's publish re-raises a broker connection error as kombu's OperationalError "from" it.
    try:
        try:
            raise SqsAnswerError("SendMessage", "q", "AccessDenied", C)
        except SqsAnswerError as exc:
            raise OperationalError("publish failed") from exc
    except OperationalError as wrapped:
        assert answer_kind(wrapped) is C


def test_an_error_with_no_sqs_meaning_counts_as_transient() -> None:
    assert answer_kind(RuntimeError("?")) is T


@pytest.mark.parametrize(("status", "body", "header", "code", "kind"), [
    (400, b'{"__type":"com.amazonaws.sqs#ThrottlingException","message":"slow down"}', None,
     "ThrottlingException", T),
    (400, b'{"__type":"com.amazonaws.sqs#QueueDoesNotExist"}', "AWS.SimpleQueueService.NonExistentQueue;Sender",
     "NonExistentQueue", C),
    (403, b"<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>", None,
     "InvalidClientTokenId", C),
    (400, b'{"__type":"InvalidParameterValue"}', None, "InvalidParameterValue", R),
    (503, b"", None, "HTTP503", T),
    (400, b"", None, "EmptyAnswer", T),
    (400, b"\x00\xffnot an answer", None, "GarbledAnswer", T),
])
def test_a_raw_http_answer_becomes_a_classified_error(status: int, body: bytes, header: str | None,
                                                       code: str, kind: AnswerKind) -> None:
    error = error_from_answer("ReceiveMessage", "switchboard-intake.fifo", status, body, header)

    assert (error.code, error.kind, error.action, error.queue) == (code, kind, "ReceiveMessage",
                                                                   "switchboard-intake.fifo")
    assert answer_kind(error) is kind


def test_any_failure_converts_to_our_error_with_one_spelling_of_its_code() -> None:
    converted = as_answer_error(client_error("AWS.SimpleQueueService.NonExistentQueue"), "SendMessage", "q")

    assert (converted.action, converted.queue, converted.code, converted.kind) == ("SendMessage", "q",
                                                                                   "NonExistentQueue", C)
    assert as_answer_error(ConnectionResetError(), "DeleteMessage", None).code == "ConnectionResetError"
