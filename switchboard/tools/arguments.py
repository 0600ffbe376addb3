"""The model's arguments for a tool, checked against the tool's schema before anything is called."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

MOST_PROBLEMS = 3  # enough for the model to correct its call, short enough to read


def parsed_arguments(text: str) -> dict[str, Any] | str:
    """The arguments a model wrote (a JSON object), or the error text the model is given instead."""
    try:
        value = json.loads(text or "{}")
    except ValueError as exc:
        return f"error: the arguments are not valid JSON ({exc}); call the tool again with a JSON object"
    if not isinstance(value, dict):
        return "error: the arguments must be a JSON object of the tool's parameters"
    return value


def argument_problem(name: str, schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> str | None:
    """Why `arguments` do not fit `schema` (as text for the model), or None when they do.

    Arguments beyond the declared properties are refused whatever the schema says: the model must not
    add what the operator did not ask for (the sender's number, above all).
    """
    validator = Draft202012Validator({**schema, "additionalProperties": False})
    problems = sorted(validator.iter_errors(dict(arguments)), key=lambda error: list(error.absolute_path))
    if not problems:
        return None
    said = "; ".join(_where(error.absolute_path) + error.message for error in problems[:MOST_PROBLEMS])
    return f"error: invalid arguments for {name}: {said}. Nothing was called."


def _where(path: Any) -> str:
    parts = [str(part) for part in path]
    return f"{'.'.join(parts)}: " if parts else ""


def check_parameters(name: str, schema: Mapping[str, Any]) -> None:
    """A built-in tool's schema is checked as a declared one is: a JSON schema of an object."""
    Draft202012Validator.check_schema(dict(schema))
    if schema.get("type") != "object":
        raise ValueError(f"tool {name}: parameters must be a schema of `type: object`")
