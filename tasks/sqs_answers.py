"""What an SQS answer means to its caller: transient (retry later), configuration (fix the setup), rejected.

Every SQS failure our processes see goes through `answer_kind`, whichever layer raised it: botocore's
ClientError / BotoCoreError, a socket error, kombu's queue errors, Celery's OperationalError wrapping
one of those, or the `SqsAnswerError` that tasks/sqs_transport.py raises for an answer it could not use.
"""

from __future__ import annotations

import enum
import json
import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.parsers import ResponseParserError
from kombu.transport.SQS.exceptions import (
    AccessDeniedQueueException,
    DoesNotExistQueueException,
    UndefinedQueueException,
)


class AnswerKind(enum.Enum):
    TRANSIENT = "transient"  # the same call later will probably work: back off and retry
    CONFIGURATION = "configuration"  # missing queue, denied, bad credentials: an operator must act
    REJECTED = "rejected"  # the request itself is invalid: the same request will never work


class SqsAnswerError(Exception):
    """An SQS call that got no usable answer, already classified."""

    def __init__(self, action: str, queue: str | None, code: str, kind: AnswerKind, detail: str = "") -> None:
        self.action = action
        self.queue = queue
        self.code = code
        self.kind = kind
        self.detail = detail
        super().__init__(action, queue, code, kind, detail)

    def __str__(self) -> str:  # built when shown: the channel fills in the queue the async client lacks
        return f"{self.action} on {self.queue or '-'}: {self.code} ({self.kind.value}){': ' + self.detail if self.detail else ''}"


class QueueMissing(SqsAnswerError):
    """The queue is not there; we never create it ourselves (it would lack its dead-letter redrive)."""

    def __init__(self, action: str, queue: str) -> None:
        super().__init__(action, queue, "QueueDoesNotExist", AnswerKind.CONFIGURATION,
                         "run `switchboard queues init`")


_TRANSIENT_CODES = frozenset({
    "ThrottlingException", "Throttling", "RequestThrottled", "RequestThrottledException", "OverLimit",
    "TooManyRequestsException", "KmsThrottled", "InternalError", "InternalFailure", "ServiceUnavailable",
    "RequestTimeout", "RequestTimeoutException", "PurgeQueueInProgress", "QueueDeletedRecently",
    "RequestExpired", "EmptyAnswer", "GarbledAnswer", "ConnectionError",
})
_CONFIGURATION_CODES = frozenset({
    "QueueDoesNotExist", "NonExistentQueue", "AccessDenied", "AccessDeniedException",
    "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException",
    "SignatureDoesNotMatch", "IncompleteSignature", "InvalidAccessKeyId", "MissingAuthenticationToken",
    "OptInRequired", "InvalidSecurity", "KmsAccessDenied", "KmsDisabled", "KmsInvalidState",
    "KmsNotFound", "KmsOptInRequired", "KmsInvalidKeyUsage", "NoCredentials",
})
_REJECTED_CODES = frozenset({
    "InvalidParameterValue", "InvalidParameterCombination", "MissingParameter", "InvalidMessageContents",
    "InvalidAttributeName", "InvalidAttributeValue", "InvalidAddress", "InvalidIdFormat",
    "ReceiptHandleIsInvalid", "MessageNotInflight", "UnsupportedOperation", "TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct", "BatchRequestTooLong", "EmptyBatchRequest", "InvalidBatchEntryId",
    "ValidationError", "ValidationException", "MalformedQueryString", "InvalidAction",
    "InvalidQueryParameter", "QueueAlreadyExists", "QueueNameExists", "SerializationException",
})
_QUERY_PREFIX = "AWS.SimpleQueueService."
_XML_CODE = re.compile(rb"<Code>\s*([^<\s]+)\s*</Code>")


def normalise_code(code: str) -> str:
    """One spelling per error: the JSON protocol says `com.amazonaws.sqs#X`, the query one `AWS.SimpleQueueService.X`."""
    code = code.strip().rsplit("#", 1)[-1].split(":", 1)[0]
    if code.startswith(_QUERY_PREFIX):
        code = code[len(_QUERY_PREFIX):]
    return code


def code_kind(code: str, status: int | None = None) -> AnswerKind:
    """Classify an SQS error code (any spelling), falling back on the HTTP status for unknown codes."""
    code = normalise_code(code)
    if code in _CONFIGURATION_CODES:
        return AnswerKind.CONFIGURATION
    if code in _TRANSIENT_CODES or code.endswith("Throttled"):
        return AnswerKind.TRANSIENT
    if code in _REJECTED_CODES:
        return AnswerKind.REJECTED
    if status == 403:  # AWS answers 403 for unknown auth failures; OverLimit (also 403) is known above
        return AnswerKind.CONFIGURATION
    # An unknown code is retried (bounded by the caller), because giving up on it would lose a message.
    return AnswerKind.TRANSIENT


def answer_kind(exc: BaseException) -> AnswerKind:
    """Classify any exception an SQS call can raise, following `raise ... from` chains (Celery wraps them)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = _own_kind(current)
        if kind is not None:
            return kind
        current = current.__cause__ or current.__context__
    return AnswerKind.TRANSIENT


def _own_kind(exc: BaseException) -> AnswerKind | None:
    if isinstance(exc, SqsAnswerError):
        return exc.kind
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code_kind(str(error.get("Code", "")), status)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, NoRegionError)):
        return AnswerKind.CONFIGURATION
    if isinstance(exc, ParamValidationError):
        return AnswerKind.REJECTED
    if isinstance(exc, (BotoCoreError, ResponseParserError, OSError)):
        return AnswerKind.TRANSIENT  # connection refused/reset, timeouts, garbled bodies
    if isinstance(exc, (DoesNotExistQueueException, UndefinedQueueException, AccessDeniedQueueException)):
        return AnswerKind.CONFIGURATION
    return None


def as_answer_error(exc: BaseException, action: str, queue: str | None) -> SqsAnswerError:
    """The same failure as our own classified error (an SqsAnswerError is returned as it is)."""
    if isinstance(exc, SqsAnswerError):
        return exc
    code = type(exc).__name__
    if isinstance(exc, ClientError):
        code = normalise_code(str(exc.response.get("Error", {}).get("Code") or code))
    return SqsAnswerError(action, queue, code, answer_kind(exc), str(exc)[:200])


def error_from_answer(action: str, queue: str | None, status: int, body: bytes | str | None,
                      query_error: str | None = None) -> SqsAnswerError:
    """Build the classified error for a raw non-2xx HTTP answer (kombu's async client gives us only these)."""
    raw = body.encode() if isinstance(body, str) else (body or b"")
    code = _code_in(raw, query_error)
    if code is None:
        if status >= 500 or status in (408, 429, 599):
            code = f"HTTP{status}"
            return SqsAnswerError(action, queue, code, AnswerKind.TRANSIENT, _short(raw))
        code = "EmptyAnswer" if not raw.strip() else "GarbledAnswer"
        return SqsAnswerError(action, queue, code, AnswerKind.TRANSIENT, f"HTTP {status} {_short(raw)}")
    return SqsAnswerError(action, queue, code, code_kind(code, status), f"HTTP {status}")


def _code_in(raw: bytes, query_error: str | None) -> str | None:
    if query_error:  # x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender
        return normalise_code(query_error.split(";", 1)[0])
    try:
        parsed = json.loads(raw)
    except ValueError:
        match = _XML_CODE.search(raw)
        return normalise_code(match.group(1).decode("ascii", "replace")) if match else None
    if isinstance(parsed, dict):
        code = parsed.get("__type") or parsed.get("code") or parsed.get("Code")
        if isinstance(code, str) and code:
            return normalise_code(code)
    return None


def _short(raw: bytes) -> str:
    return raw[:120].decode("utf-8", "replace")
