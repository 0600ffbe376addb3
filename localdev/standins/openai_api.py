"""A local OpenAI API (completions, moderations, transcriptions): deterministic answers in OpenAI's JSON, recorded calls, faults."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from localdev.standins.control import add_control_routes
from localdev.standins.faults import Fault, FaultQueue
from localdev.standins.openai_audio import MAX_FILE_BYTES, format_refusal, transcript_of
from localdev.standins.openai_embeddings import add_embedding_routes
from localdev.standins.openai_grounding import grounded_answer
from localdev.standins.openai_models import add_model_routes
from localdev.standins.openai_tools import ToolTurns, add_tool_routes, tool_call_completion

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


def last_user_images(messages: list[dict[str, Any]]) -> list[str]:
    """The image URLs (data: URLs, as Switchboard sends them) of the newest user turn, in order."""
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if not isinstance(content, list):
                return []
            return [str((p.get("image_url") or {}).get("url", "")) for p in content
                    if isinstance(p, dict) and p.get("type") == "image_url"]
    return []


def user_said(messages: list[dict[str, Any]]) -> str:
    """What the echo answer repeats: the newest user turn's text, and how many images came with it."""
    images = len(last_user_images(messages))
    said = last_user_text(messages)
    if images:
        said += f" [{images} image{'s' if images > 1 else ''}]"
    return said


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


# The categories of OpenAI's moderation models (openai-python's `Categories`), as the wire names them.
MODERATION_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence",
    "violence/graphic",
)


def moderation_texts(value: Any) -> list[str]:
    """The texts one moderation request asks about: a string, a list of strings, or one list of typed parts."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        # Multi-modal input (text and image parts) is moderated as one item.
        return ["".join(str(p.get("text", "")) for p in value if p.get("type") == "text")]
    raise ValueError("'input' must be a string, a list of strings, or a list of content parts")


def moderation_result(text: str, flags: dict[str, str]) -> dict[str, Any]:
    """One `Moderation` object: flagged in a category when the text contains a phrase flagged for it."""
    lowered = text.lower()
    hit = {category for phrase, category in flags.items() if phrase in lowered}
    return {
        "flagged": bool(hit),
        "categories": {c: c in hit for c in MODERATION_CATEGORIES},
        "category_scores": {c: 0.98 if c in hit else 0.0001 for c in MODERATION_CATEGORIES},
        "category_applied_input_types": {c: ["text"] for c in MODERATION_CATEGORIES},
    }


def refused_completion(model: str, refusal: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A completion whose message carries a `refusal` instead of content, as the API sends a refusal."""
    body = chat_completion(model, "", messages)
    body["choices"][0]["message"].update(content=None, refusal=refusal)
    return body


def _answer(fault: Fault | None, offline: bool, messages: list[dict[str, Any]]) -> str:
    if fault is not None and fault.reply is not None:
        return fault.reply
    if fault is not None and fault.reply_length is not None:
        return long_answer(fault.reply_length)
    if fault is None and (grounded := grounded_answer(messages, last_user_text(messages))) is not None:
        return grounded  # a <knowledge> block in the system prompt: answered from it (openai_grounding.py)
    said = user_said(messages)
    return OFFLINE_PREFIX + said if offline else f"echo: {said}"


def create_openai_standin(offline: bool = False, api_key: str | None = None) -> Flask:
    """A Flask app answering like api.openai.com/v1; any bearer key is accepted unless `api_key` is given."""
    app = Flask("openai_standin")
    lock = threading.Lock()
    faults = FaultQueue()
    recorded: list[dict[str, Any]] = []
    moderated: list[dict[str, Any]] = []
    transcribed: list[dict[str, Any]] = []  # model, filename, content_type, size of each upload
    flags: dict[str, str] = {}  # lowercase phrase -> the moderation category it is flagged in
    refusals: list[str] = []  # the next completions refuse with these texts, one each
    tool_turns = ToolTurns()  # function calling (issue 14, openai_tools.py)

    def reset() -> None:
        faults.clear()
        with lock:
            recorded.clear()
            moderated.clear()
            transcribed.clear()
            flags.clear()
            refusals.clear()

    def read() -> list[dict[str, Any]]:
        with lock:
            return list(recorded)

    def read_moderations() -> list[dict[str, Any]]:
        with lock:
            return list(moderated)

    def read_transcriptions() -> list[dict[str, Any]]:
        with lock:
            return list(transcribed)

    def authorised() -> bool:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return bool(key) and (api_key is None or key == api_key)

    @app.post("/v1/chat/completions")
    def create_completion() -> Response | tuple[Response, int]:
        if not authorised():
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
        with lock:
            refusal = refusals.pop(0) if refusals and fault is None else None
        # Tool calls to make, or a text answer from tool results (issue 14); None: answer as without tools.
        turn = tool_turns.reply(body, messages) if refusal is None and fault is None else None
        if refusal is not None:
            answer = refused_completion(body["model"], refusal, messages)
        elif isinstance(turn, list):
            answer = tool_call_completion(body["model"], turn, messages)
        else:
            answer = chat_completion(body["model"], turn or _answer(fault, offline, messages), messages)
        response = jsonify(answer)
        response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
        return response, 200

    @app.post("/v1/moderations")
    def create_moderation() -> Response | tuple[Response, int]:
        if not authorised():
            return openai_error(401)
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict) or "input" not in body:
            return openai_error(400, "'input' is a required property.", "input")
        with lock:
            moderated.append(body)
        fault = faults.take("moderate")
        if faults.stall(fault):
            return openai_error(503, "stand-in was reset while this request stalled")
        if fault is not None and fault.status is not None:
            return openai_error(fault.status, fault.message)
        try:
            texts = moderation_texts(body["input"])
        except ValueError as exc:
            return openai_error(400, str(exc), "input")
        with lock:
            current = dict(flags)
        response = jsonify({
            "id": f"modr-{uuid.uuid4().hex}",
            "model": body.get("model") or "omni-moderation-latest",
            "results": [moderation_result(text, current) for text in texts],
        })
        response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
        return response, 200

    @app.post("/v1/audio/transcriptions")
    def create_transcription() -> Response | tuple[Response, int]:
        """multipart/form-data with `file` and `model`, as the SDK sends it; answers {"text": ...}."""
        if not authorised():
            return openai_error(401)
        upload, model = request.files.get("file"), request.form.get("model")
        if upload is None:
            return openai_error(400, "'file' is a required property.", "file")
        data = upload.read()
        with lock:
            transcribed.append({"model": model, "filename": upload.filename, "content_type": upload.mimetype,
                                "size": len(data), "response_format": request.form.get("response_format")})
        fault = faults.take("transcribe")
        if faults.stall(fault):
            return openai_error(503, "stand-in was reset while this request stalled")
        if fault is not None and fault.status is not None:
            return openai_error(fault.status, fault.message)
        if not model:
            return openai_error(400, "'model' is a required property.", "model")
        if len(data) > MAX_FILE_BYTES:
            return openai_error(413, f"Maximum content size limit ({MAX_FILE_BYTES}) exceeded.")
        refused = format_refusal(upload.filename or "")
        if refused is not None:
            return openai_error(400, refused, "file")
        text = fault.reply if fault is not None and fault.reply is not None else transcript_of(data)
        if request.form.get("response_format") in ("text", "srt", "vtt"):
            response = Response(text + "\n", mimetype="text/plain")
        else:
            response = jsonify({"text": text, "usage": {"type": "duration", "seconds": max(1, len(data) // 4000)}})
        response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
        return response, 200

    # Test controls beside the shared ones: flag a phrase for moderation, make completions refuse.
    @app.post("/_standin/flag")
    def flag_phrase() -> tuple[Response, int]:
        data = request.get_json(force=True, silent=True) or {}
        phrase, category = data.get("phrase"), data.get("category", "harassment")
        if not isinstance(phrase, str) or not phrase or category not in MODERATION_CATEGORIES:
            return jsonify({"error": f"expected a non-empty 'phrase' and a category of {MODERATION_CATEGORIES}"}), 400
        with lock:
            flags[phrase.lower()] = category
        return jsonify({"flags": dict(flags)}), 201

    @app.post("/_standin/refuse")
    def refuse_next() -> tuple[Response, int]:
        data = request.get_json(force=True, silent=True) or {}
        text, times = data.get("refusal", "I'm sorry, but I can't help with that."), data.get("times", 1)
        if not isinstance(text, str) or not text or not isinstance(times, int) or times < 1:
            return jsonify({"error": "expected a non-empty 'refusal' and a positive 'times'"}), 400
        with lock:
            refusals.extend([text] * times)
        return jsonify({"refusals": len(refusals)}), 201

    add_control_routes(app, faults=faults, reset=reset,
                       records={"requests": read, "moderations": read_moderations,
                                "transcriptions": read_transcriptions},
                       endpoints=("create", "moderate", "transcribe"))
    add_model_routes(app, api_key)  # GET /v1/models/{model}, for `switchboard doctor` (issue 12)
    add_embedding_routes(app, api_key)  # POST /v1/embeddings, for KNOWLEDGE_EMBEDDING_MODEL (issue 14)
    add_tool_routes(app, tool_turns)  # POST /_standin/openai/next-tool-calls (issue 14)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return openai_error(exc.code or 500, exc.description)

    return app
