"""A local OpenAI Chat Completions API: deterministic answers in OpenAI's JSON, with recorded calls and faults."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from switchboard.standins.control import add_control_routes
from switchboard.standins.faults import Fault, FaultQueue

OFFLINE_PREFIX = "(offline mode: no OPENAI_API_KEY is set, so this is a canned answer) You said: "

# status -> (error type, error code, message) as OpenAI words them.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def openai_error(status: int, message: str | None = None, param: str | None = None) -> Response:
    """OpenAI's error body; the SDK maps the status to RateLimitError, InternalServerError, …"""
    kind, code, default = _ERRORS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None, ""))
    response = jsonify({"error": {"message": message or default, "type": kind, "param": param, "code": code}})
    response.status_code = status
    response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
    return response


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The newest user turn's text; content may be a string or a list of typed parts."""
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
            return str(content or "")
    return ""


def long_answer(length: int) -> str:
    """Exactly `length` characters of prose in sentences and paragraphs, to exercise reply splitting."""
    paragraphs, n, total = [], 0, 0
    while total < length:
        sentences = []
        for _ in range(4):
            n += 1
            sentences.append(f"Sentence {n} of the long answer says something moderately interesting.")
        paragraphs.append(" ".join(sentences))
        total += len(paragraphs[-1]) + 2
    text = "\n\n".join(paragraphs)[: max(length - 1, 0)].rstrip()
    # rstrip may have eaten a space or newline at the cut; pad back to the exact length with x's.
    text = text + "x" * (max(length - 1, 0) - len(text))
    return text + "." if length > 0 else ""


def chat_completion(model: str, content: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A non-streaming `chat.completion` object as the API returns it."""
    prompt_tokens = sum(len(str(m.get("content", ""))) for m in messages) // 4 + 1
    completion_tokens = len(content) // 4 + 1
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "service_tier": "default",
        "system_fingerprint": None,
    }


def _answer(fault: Fault | None, offline: bool, messages: list[dict[str, Any]]) -> str:
    if fault is not None and fault.reply is not None:
        return fault.reply
    if fault is not None and fault.reply_length is not None:
        return long_answer(fault.reply_length)
    said = last_user_text(messages)
    return OFFLINE_PREFIX + said if offline else f"echo: {said}"


def create_openai_standin(offline: bool = False, api_key: str | None = None) -> Flask:
    """A Flask app answering like api.openai.com/v1; any bearer key is accepted unless `api_key` is given."""
    app = Flask("openai_standin")
    lock = threading.Lock()
    faults = FaultQueue()
    recorded: list[dict[str, Any]] = []

    def reset() -> None:
        faults.clear()
        with lock:
            recorded.clear()

    def read() -> list[dict[str, Any]]:
        with lock:
            return list(recorded)

    @app.post("/v1/chat/completions")
    def create_completion() -> Response | tuple[Response, int]:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not key or (api_key is not None and key != api_key):
            return openai_error(401)
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            return openai_error(400, "We could not parse the JSON body of your request.")
        with lock:
            # Recorded on arrival, before any stall, so a test can wait until a stalled call is in flight.
            recorded.append(body)
        fault = faults.take("create")
        if faults.stall(fault):
            return openai_error(503, "stand-in was reset while this request stalled")
        if fault is not None and fault.status is not None:
            response = openai_error(fault.status, fault.message)
            if fault.retry_after is not None or fault.status == 429:
                response.headers["Retry-After"] = f"{fault.retry_after if fault.retry_after is not None else 1:g}"
            return response
        messages = body.get("messages")
        if not isinstance(body.get("model"), str) or not isinstance(messages, list) or not messages:
            return openai_error(400, "'model' and a non-empty 'messages' list are required.", "messages")
        if body.get("stream"):
            return openai_error(400, "The stand-in does not stream; call without stream=True.", "stream")
        response = jsonify(chat_completion(body["model"], _answer(fault, offline, messages), messages))
        response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
        return response, 200

    add_control_routes(app, faults=faults, reset=reset, records={"requests": read})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return openai_error(exc.code or 500, exc.description)

    return app
