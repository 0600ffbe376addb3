"""kombu's async SQS client, changed to hand a failed answer to its caller instead of raising it.

kombu 5.7's client raises a bare `Exception` for any non-2xx answer that is not a 5xx or timeout
(e.g. `400 ThrottlingException`, `QueueDoesNotExist`). It is raised inside the worker's event loop,
where Celery reads it as "Unrecoverable error" and the whole worker exits. Here every answer that is
not a parsable 200 becomes a classified `SqsAnswerError`, passed on as the call's result; the
channel (tasks/sqs_transport.py) decides what to do with it.
"""

from __future__ import annotations

from typing import Any

from botocore.parsers import ResponseParserError
from kombu.asynchronous.aws.connection import AsyncHTTPSConnection
from kombu.asynchronous.aws.sqs.connection import AsyncSQSConnection

from tasks.sqs_answers import AnswerKind, SqsAnswerError, error_from_answer


class AnswerSafeSQSConnection(AsyncSQSConnection):
    def __init__(self, *args: Any, http_timeout: float = 20.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # kombu's default is 20 s per request whatever the long-poll wait; a hang costs only this.
        self.http_timeout = http_timeout

    def get_http_connection(self) -> AsyncHTTPSConnection:
        return AsyncHTTPSConnection(http_client=self._httpclient, timeout=self.http_timeout)

    def _on_list_ready(self, parent: Any, markers: Any, operation: str, response: Any) -> Any:
        return self._answer(super()._on_list_ready, operation, response, parent, markers, operation)

    def _on_obj_ready(self, parent: Any, operation: str, response: Any) -> Any:
        return self._answer(super()._on_obj_ready, operation, response, parent, operation)

    def _on_status_ready(self, parent: Any, operation: str, response: Any) -> Any:
        return self._answer(super()._on_status_ready, operation, response, parent, operation)

    def _answer(self, parse: Any, operation: str, response: Any, *args: Any) -> Any:
        if response.status != self.STATUS_CODE_OK:
            return error_from_answer(operation, None, int(response.status), response.read(),
                                     response.getheader("x-amzn-query-error"))
        try:
            return parse(*args, response)
        except (ResponseParserError, ValueError, KeyError) as exc:
            return SqsAnswerError(operation, None, "GarbledAnswer", AnswerKind.TRANSIENT, str(exc)[:120])
