"""The TOOLS_FILE format (docs/tools.md): HTTP tools the model may call, read and checked once.

Reading lives here, below both the start-up check (settings/tools.py) and `switchboard.tools` (which
calls the tools), so a file that loads at start-up is exactly the file the worker calls with.
`${NAME}` in a URL or a header value is the environment variable NAME, read when the file is read; the
resolved header values are secrets (they are never shown, and never logged).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from switchboard.settings.checks import entry_problem, http_url, plain_http_only_on_loopback

# Filled only from the sender's identity (the signed webhook), never from the model's arguments.
RESERVED_PLACEHOLDERS = ("user_id", "sender", "conversation")
BODY_METHODS = ("POST", "PUT", "PATCH")
IDENTITY_HEADER_PREFIX = "x-switchboard-"
# Set by the HTTP client for each request; a declared value would contradict the request it is sent with.
CLIENT_HEADERS = ("host", "content-length", "transfer-encoding", "connection")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")  # an HTTP token (RFC 9110)
_EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


class ToolsFileError(ValueError):
    """TOOLS_FILE cannot be read or declares a tool Switchboard cannot call; the message names file and tool."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=TOOL_NAME.pattern)
    description: str = Field(min_length=1, max_length=1024)
    parameters: dict[str, Any] = Field(default_factory=lambda: dict(_EMPTY_OBJECT))
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    strict: bool = False  # OpenAI's strict function calling: every parameter required, none other


class ToolDeclaration(BaseModel):
    """One declared HTTP tool as Switchboard calls it: env variables resolved, URL and schema checked."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    parameters: dict[str, Any]  # a JSON schema of an object; arguments outside `properties` are refused
    method: str
    url: str  # the template: {param} from the arguments, {user_id}/{sender}/{conversation} from the identity
    headers: dict[str, SecretStr]
    timeout_seconds: float
    strict: bool = False

    def url_placeholders(self) -> list[str]:
        return _PLACEHOLDER.findall(self.url)


def read_tools_file(path: Path, environ: Mapping[str, str] | None = None) -> list[ToolDeclaration]:
    """Every tool of the file in its order; ToolsFileError naming the file and each bad tool otherwise."""
    environ = os.environ if environ is None else environ
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ToolsFileError(f"TOOLS_FILE {path}: cannot be read as YAML: {exc}") from None
    if not isinstance(document, dict) or set(document) != {"tools"} or not isinstance(document["tools"] or [], list):
        raise ToolsFileError(f"TOOLS_FILE {path}: must be a mapping with one key, `tools`, a list of tools")
    declared: list[ToolDeclaration] = []
    problems: list[str] = []
    for position, entry in enumerate(document["tools"] or [], start=1):
        label = entry.get("name") if isinstance(entry, dict) and isinstance(entry.get("name"), str) else None
        where = f"tool {label!r}" if label else f"tool #{position}"
        try:
            tool = declaration_of(entry, environ)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if any(tool.name == other.name for other in declared):
            problems.append(f"{where}: a second tool of that name")
        declared.append(tool)
    if problems:
        raise ToolsFileError(f"TOOLS_FILE {path}: " + "; ".join(problems))
    return declared


def declaration_of(entry: object, environ: Mapping[str, str]) -> ToolDeclaration:
    """One YAML entry checked and resolved; ValueError saying what is wrong with it."""
    if not isinstance(entry, dict):
        raise ValueError("must be a mapping of name, description, parameters, method, url, headers, timeout_seconds")
    if isinstance(entry.get("method"), str):
        entry = {**entry, "method": entry["method"].upper()}
    try:
        parsed = _Entry.model_validate(entry)
    except ValidationError as exc:
        raise ValueError("; ".join(entry_problem(error) for error in exc.errors())) from None
    parameters = _checked_parameters(parsed.parameters, parsed.strict)
    url = _checked_url(_resolved(parsed.url, environ, "url"), parameters)
    headers = {name: SecretStr(_checked_header(name, _resolved(value, environ, f"header {name}")))
               for name, value in parsed.headers.items()}
    return ToolDeclaration(name=parsed.name, description=parsed.description, parameters=parameters,
                           method=parsed.method, url=url, headers=headers, timeout_seconds=parsed.timeout_seconds,
                           strict=parsed.strict)



def _resolved(value: str, environ: Mapping[str, str], where: str) -> str:
    missing = sorted({name for name in _ENV.findall(value) if name not in environ})
    if missing:
        raise ValueError(f"{where}: environment variable {', '.join(missing)} is not set")
    return _ENV.sub(lambda found: environ[found.group(1)], value)


def _checked_parameters(schema: dict[str, Any], strict: bool) -> dict[str, Any]:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"parameters: not a JSON schema (Draft 2020-12): {exc.message}") from None
    if schema.get("type") != "object":
        raise ValueError("parameters: must be a schema of `type: object` (the arguments are named)")
    properties = schema.get("properties", {})
    reserved = sorted(set(properties) & set(RESERVED_PLACEHOLDERS))
    if reserved:
        raise ValueError(f"parameters: {', '.join(reserved)} is reserved for the sender's identity, which "
                         "Switchboard sends itself; the model cannot give it")
    if strict and set(schema.get("required", [])) != set(properties):
        raise ValueError("parameters: with strict, every property must be required (OpenAI's strict mode)")
    # The model may give nothing beyond the declared properties (the check, and what OpenAI is told).
    return {**schema, "properties": properties, "additionalProperties": False}


def _checked_url(url: str, parameters: Mapping[str, Any]) -> str:
    parts = urlsplit(url)
    if "{" in parts.scheme + parts.netloc or "}" in parts.scheme + parts.netloc:
        raise ValueError("url: a placeholder may be in the path or the query, never in the scheme or host")
    try:
        http_url(_PLACEHOLDER.sub("x", url))
        plain_http_only_on_loopback(url)
    except ValueError as exc:
        raise ValueError(f"url: {exc}") from None
    if "{" in _PLACEHOLDER.sub("", url) or "}" in _PLACEHOLDER.sub("", url):
        raise ValueError("url: an unmatched { or }")
    required = set(parameters.get("required", []))
    for name in _PLACEHOLDER.findall(url):
        if name in RESERVED_PLACEHOLDERS:
            continue
        if name not in parameters.get("properties", {}):
            raise ValueError(f"url: {{{name}}} is neither a parameter nor one of "
                             + ", ".join(f"{{{n}}}" for n in RESERVED_PLACEHOLDERS))
        if name not in required:
            raise ValueError(f"url: {{{name}}} must be a required parameter (the URL needs it)")
    return url


def _checked_header(name: str, value: str) -> str:
    if not _HEADER_NAME.fullmatch(name):
        raise ValueError(f"header {name!r}: not an HTTP header name")
    if name.lower().startswith(IDENTITY_HEADER_PREFIX):
        raise ValueError(f"header {name}: X-Switchboard-* headers carry the sender's identity and are set by "
                         "Switchboard alone")
    if name.lower() in CLIENT_HEADERS:
        raise ValueError(f"header {name}: set by the HTTP client for each request")
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name}: its value has a line break")
    return value
