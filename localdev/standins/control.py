"""The `/_standin/` control API both stand-ins share: read what was recorded, inject faults, reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request

from localdev.standins.faults import Fault, FaultQueue


def add_control_routes(
    app: Flask,
    *,
    faults: FaultQueue,
    reset: Callable[[], None],
    records: dict[str, Callable[[], list[dict[str, Any]]]],
    endpoints: tuple[str, ...] = ("create",),
) -> None:
    """`GET /_standin/<name>` for each record list, `GET|POST /_standin/faults`, `POST /_standin/reset`."""

    for name, read in records.items():
        # Bind name/read now; a closure over the loop variables would serve the last record everywhere.
        def show(name: str = name, read: Callable[[], list[dict[str, Any]]] = read) -> Response:
            return jsonify({name: read()})

        app.add_url_rule(f"/_standin/{name}", f"standin_{name}", show, methods=["GET"])

    @app.get("/_standin/faults")
    def pending_faults() -> Response:
        return jsonify({"faults": faults.pending()})

    @app.post("/_standin/faults")
    def add_fault() -> tuple[Response, int]:
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict):
            return jsonify({"error": "expected a JSON object"}), 400
        try:
            faults.add(Fault.from_json(data, endpoints))
        except (TypeError, ValueError) as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify({"faults": faults.pending()}), 201

    @app.post("/_standin/reset")
    def reset_state() -> Response:
        reset()
        return jsonify({"reset": True})
