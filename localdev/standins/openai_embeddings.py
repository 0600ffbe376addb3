"""OpenAI's Embeddings API on the stand-in: `POST /v1/embeddings` in the real wire format, deterministic vectors.

A vector is a hashed bag of the text's content words (openai_grounding.content_words), so texts sharing
words are near and unrelated ones are not, and the same text always gets the same vector. The SDK asks for
`encoding_format: base64` unless told otherwise (openai/lib/_parsing/_embeddings.py) and decodes the
little-endian float32 bytes; `float` gets JSON numbers. `GET /_standin/embeddings` lists the requests
(a reset forgets them), so a test can count what embedding a folder cost.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
import threading
import uuid
from typing import Any

from flask import Flask, Response, jsonify, request

from localdev.standins.openai_grounding import content_words

DEFAULT_DIMENSIONS = 256
MAX_INPUTS = 2048  # OpenAI's limit per request


def embedding_vector(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """A unit vector: +1 or -1 in a hashed dimension for each content word (every word, if none is one)."""
    words = sorted(content_words(text)) or text.lower().split()
    vector = [0.0] * dimensions
    for word in words:
        digest = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(digest[:4], "little") % dimensions] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(value * value for value in vector))
    if not norm:
        vector[0], norm = 1.0, 1.0
    return [value / norm for value in vector]


def encoded(vector: list[float], encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


def _error(status: int, message: str, param: str | None, code: str | None = None) -> Response:
    response = jsonify({"error": {"message": message, "type": "invalid_request_error", "param": param,
                                  "code": code}})
    response.status_code = status
    response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
    return response


def _inputs(value: Any) -> list[str] | str:
    """The texts of a request, or why they are refused (token arrays are not taken: the stand-in has no tokenizer)."""
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts or not all(isinstance(text, str) for text in texts):
        return "'input' must be a non-empty string or a non-empty list of strings (the stand-in takes no tokens)"
    if len(texts) > MAX_INPUTS:
        return f"'input' must have at most {MAX_INPUTS} items"
    if any(not text for text in texts):
        return "'input' cannot contain an empty string"
    return texts


def add_embedding_routes(app: Flask, api_key: str | None) -> None:
    """Serve the Embeddings API on the OpenAI stand-in `app`; any bearer key is accepted unless `api_key` is given."""
    lock = threading.Lock()
    recorded: list[dict[str, Any]] = []

    @app.post("/v1/embeddings")
    def create_embeddings() -> Response:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not key or (api_key is not None and key != api_key):
            return _error(401, "Incorrect API key provided.", None, "invalid_api_key")
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            return _error(400, "We could not parse the JSON body of your request.", None)
        with lock:
            recorded.append(body)
        texts = _inputs(body.get("input"))
        if isinstance(texts, str):
            return _error(400, texts, "input")
        model, encoding_format = body.get("model"), body.get("encoding_format", "float")
        dimensions = body.get("dimensions", DEFAULT_DIMENSIONS)
        if not isinstance(model, str) or not model:
            return _error(400, "'model' is a required property.", "model")
        if encoding_format not in ("float", "base64"):
            return _error(400, "'encoding_format' must be 'float' or 'base64'.", "encoding_format")
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 1 <= dimensions <= 3072:
            return _error(400, "'dimensions' must be an integer from 1 to 3072.", "dimensions")
        tokens = sum(len(text) // 4 + 1 for text in texts)
        response = jsonify({
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": encoded(embedding_vector(text, dimensions),
                                                                             encoding_format)}
                     for i, text in enumerate(texts)],
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })
        response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
        return response

    @app.get("/_standin/embeddings")
    def list_embedding_requests() -> Response:
        with lock:
            return jsonify({"requests": list(recorded)})

    @app.before_request
    def forget_on_reset() -> None:
        # The shared control routes own POST /_standin/reset; the recorded requests go with the rest.
        if request.method == "POST" and request.path == "/_standin/reset":
            with lock:
                recorded.clear()
