"""OpenAI's Models API on the stand-in: `GET /v1/models` and `GET /v1/models/{model}` (404 for one it lacks).

It knows the models Switchboard's defaults name; `POST /_standin/models` {"id": …} adds one (a reset
forgets what was added), so a test can make a configured model exist or not.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from flask import Flask, Response, jsonify, request

# Switchboard's defaults (OPENAI_MODEL, OPENAI_TRANSCRIPTION_MODEL, OPENAI_MODERATION_MODEL) and their usual alternatives.
KNOWN_MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4o-mini-transcribe", "gpt-4o-transcribe",
                "whisper-1", "omni-moderation-latest")


def model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 1715367049, "owned_by": "system"}


def _error(status: int, message: str, code: str) -> Response:
    response = jsonify({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}})
    response.status_code = status
    response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
    return response


def add_model_routes(app: Flask, api_key: str | None) -> None:
    """Serve the Models API on the OpenAI stand-in `app`; any bearer key is accepted unless `api_key` is given."""
    lock = threading.Lock()
    added: list[str] = []

    def refused() -> Response | None:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if key and (api_key is None or key == api_key):
            return None
        return _error(401, "Incorrect API key provided. You can find your API key at "
                           "https://platform.openai.com/account/api-keys.", "invalid_api_key")

    def known() -> list[str]:
        with lock:
            return [*KNOWN_MODELS, *added]

    @app.get("/v1/models")
    def list_models() -> Response:
        if (early := refused()) is not None:
            return early
        return jsonify({"object": "list", "data": [model_object(model) for model in known()]})

    @app.get("/v1/models/<path:model>")
    def retrieve_model(model: str) -> Response:
        if (early := refused()) is not None:
            return early
        if model not in known():
            return _error(404, f"The model `{model}` does not exist or you do not have access to it.",
                          "model_not_found")
        return jsonify(model_object(model))

    @app.post("/_standin/models")
    def add_model() -> tuple[Response, int]:
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
            return jsonify({"error": "expected a JSON object with a non-empty 'id'"}), 400
        with lock:
            added.append(data["id"])
        return jsonify(model_object(data["id"])), 201

    @app.before_request
    def forget_on_reset() -> None:
        # The shared control routes own POST /_standin/reset; models added since are forgotten with the rest.
        if request.method == "POST" and request.path == "/_standin/reset":
            with lock:
                added.clear()

