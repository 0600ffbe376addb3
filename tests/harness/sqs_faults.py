"""What the SQS fault proxy can answer instead of SQS: error answers as AWS writes them, drops, hangs, bad bodies."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorAnswer:
    """An error SQS (or the AWS front end before it) sends, in either protocol.

    `json_type` is the `__type` of the JSON protocol and `query_code` the `<Code>` of the query
    protocol; AWS sends the latter in the JSON answer's `x-amzn-query-error` header too, and
    botocore (awsQueryCompatible) reports it as the error's Code, with the modeled name as
    QueryErrorCode, which is what `client.exceptions.<Name>` matches on.
    """

    status: int
    json_type: str
    query_code: str
    message: str
    sender_fault: bool = True

    @property
    def name(self) -> str:
        return self.json_type.rsplit("#", 1)[-1]

    def json_body(self) -> bytes:
        return json.dumps({"__type": self.json_type, "message": self.message}).encode()

    def json_headers(self) -> dict[str, str]:
        fault = "Sender" if self.sender_fault else "Receiver"
        return {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-error": f"{self.query_code};{fault}",
                "x-amzn-RequestId": str(uuid.uuid4())}

    def query_body(self) -> bytes:
        fault = "Sender" if self.sender_fault else "Receiver"
        return (
            '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
            f"<Error><Type>{fault}</Type><Code>{self.query_code}</Code><Message>{self.message}</Message>"
            f"<Detail/></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        ).encode()


# The answers issue 8 lists, spelled as AWS spells them.
THROTTLING = ErrorAnswer(400, "com.amazon.coral.availability#ThrottlingException", "ThrottlingException",
                         "Rate exceeded")
REQUEST_THROTTLED = ErrorAnswer(400, "com.amazonaws.sqs#RequestThrottled", "RequestThrottled",
                                "Request is throttled.")
OVER_LIMIT = ErrorAnswer(403, "com.amazonaws.sqs#OverLimit", "OverLimit",
                         "Too many messages in flight.")
INTERNAL_ERROR = ErrorAnswer(500, "com.amazon.coral.service#InternalFailure", "InternalError",
                             "We encountered an internal error. Please try again.", sender_fault=False)
SERVICE_UNAVAILABLE = ErrorAnswer(503, "com.amazon.coral.availability#ServiceUnavailableException",
                                  "ServiceUnavailable", "Service is unavailable. Try again later.",
                                  sender_fault=False)
QUEUE_DOES_NOT_EXIST = ErrorAnswer(400, "com.amazonaws.sqs#QueueDoesNotExist",
                                   "AWS.SimpleQueueService.NonExistentQueue",
                                   "The specified queue does not exist.")
ACCESS_DENIED = ErrorAnswer(403, "com.amazon.coral.service#AccessDeniedException", "AccessDenied",
                            "User is not authorized to perform this action.")
INVALID_CLIENT_TOKEN_ID = ErrorAnswer(403, "com.amazon.coral.service#UnrecognizedClientException",
                                      "InvalidClientTokenId",
                                      "The security token included in the request is invalid.")
EXPIRED_TOKEN = ErrorAnswer(403, "com.amazon.coral.service#ExpiredTokenException", "ExpiredToken",
                            "The security token included in the request is expired.")


@dataclass(frozen=True)
class DropConnection:
    """Forward the call, then send the status line, headers and half the body and reset the connection."""


@dataclass(frozen=True)
class Hang:
    """Hold the call for `seconds` (None: until the rule is switched off), then forward it as usual."""

    seconds: float | None = None


@dataclass(frozen=True)
class EmptyBody:
    """A 200 with no body at all. `forward`: SQS did the call and only its answer was lost.

    Without forwarding, botocore reads such an answer to SendMessage as a success with no
    MessageId: the caller cannot tell that nothing was sent.
    """

    forward: bool = True


@dataclass(frozen=True)
class GarbledBody:
    """A 200 whose body is cut-off JSON (or XML); `forward` as for EmptyBody."""

    forward: bool = True


@dataclass(frozen=True)
class FailEntry:
    """Answer a batch call's entry at `index` in `Failed` (SQS never sees it); the call's other entries go on.

    The JSON protocol only (what boto3 and kombu speak); a call without that entry goes through untouched.
    """

    index: int = 0
    code: str = "InternalError"
    sender_fault: bool = False
    message: str = "We encountered an internal error. Please try again."

    def entry(self, entry_id: str) -> dict[str, object]:
        return {"Id": entry_id, "SenderFault": self.sender_fault, "Code": self.code, "Message": self.message}


Fault = ErrorAnswer | DropConnection | Hang | EmptyBody | GarbledBody | FailEntry
