"""Wrapper around the openai SDK (completions, moderation, transcription): one call, explicit timeout, SDK retries off."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.metrics import OPENAI_CREDENTIALS_ERRORS
from switchboard.settings import Settings
from switchboard.tools.assistant_turn import AssistantTurn, ToolCall

log = logging.getLogger(__name__)


class CompletionClient:
    """Asks the configured model for the next assistant turn. Celery owns retries, so the SDK makes one try."""

    def __init__(self, sdk: openai.OpenAI, model: str, max_output_tokens: int) -> None:
        self.sdk = sdk
        self.model = model
        self.max_output_tokens = max_output_tokens

    @classmethod
    def from_settings(cls, settings: Settings) -> CompletionClient:
        return cls(_sdk(settings), settings.openai_model, settings.openai_max_output_tokens)

    def complete(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """`messages` in OpenAI's chat format; a user turn's content may be a list of text and image_url parts."""
        # A refusal or an empty answer is the model's considered reply to this prompt: asking again
        # would pay for the same outcome, so it is permanent (the user gets the apology at once).
        return self.complete_turn(messages, tools=()).content or ""

    def complete_turn(self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]],
                      tool_choice: str | None = None) -> AssistantTurn:
        """One turn of function calling (issue 14): the model's text, or the tool calls it asks for.

        Arguments stay as the model wrote them (a JSON string, maybe bad JSON: the loop tells the model so).
        """
        # OpenAI refuses an empty `tools` list, and a tool_choice without tools.
        options: dict[str, Any] = {"tools": [dict(t) for t in tools]} if tools else {}
        if tools and tool_choice is not None:
            options["tool_choice"] = tool_choice
        with _converted("OpenAI"):
            response = self.sdk.chat.completions.create(
                model=self.model,
                messages=[dict(m) for m in messages],  # type: ignore[misc]  # our dicts are the SDK's TypedDicts
                max_completion_tokens=self.max_output_tokens,
                **options,
            )
        if not response.choices:
            raise PermanentError("OpenAI returned no choices")
        message = response.choices[0].message
        if message.refusal:
            raise PermanentError("OpenAI refused to answer")
        calls = tuple(ToolCall(call.id, call.function.name, call.function.arguments or "")
                      for call in message.tool_calls or ()
                      if isinstance(call, ChatCompletionMessageFunctionToolCall))  # we offer no custom tools
        if not calls and not (message.content or "").strip():
            raise PermanentError("OpenAI returned an empty answer")
        return AssistantTurn(message.content.strip() if message.content else None, calls)


class ModerationClient:
    """Asks OpenAI's moderation endpoint whether a user's text is flagged (OPENAI_MODERATION=true)."""

    def __init__(self, sdk: openai.OpenAI, model: str) -> None:
        self.sdk = sdk
        self.model = model

    @classmethod
    def from_settings(cls, settings: Settings) -> ModerationClient | None:
        """None when OPENAI_MODERATION is off, so callers skip the check."""
        if not settings.openai_moderation:
            return None
        return cls(_sdk(settings), settings.openai_moderation_model)

    def is_flagged(self, text: str) -> bool:
        with _converted("OpenAI moderation"):
            response = self.sdk.moderations.create(model=self.model, input=text)
        return any(result.flagged for result in response.results)


class Transcriber:
    """Turns a voice note into text with OpenAI's audio transcription endpoint (OPENAI_TRANSCRIPTION_MODEL)."""

    def __init__(self, sdk: openai.OpenAI, model: str) -> None:
        self.sdk = sdk
        self.model = model

    @classmethod
    def from_settings(cls, settings: Settings) -> Transcriber:
        return cls(_sdk(settings), settings.openai_transcription_model)

    def transcribe(self, filename: str, data: bytes, content_type: str) -> str:
        """The spoken text ("" for silence). OpenAI reads the format from the file name's extension."""
        with _converted("OpenAI transcription"):
            result = self.sdk.audio.transcriptions.create(model=self.model, file=(filename, data, content_type))
        return result.text.strip()


def _sdk(settings: Settings) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_seconds,
        max_retries=0,
    )


@contextmanager
def _converted(what: str) -> Iterator[None]:
    """The SDK's errors as ours: rate limits, timeouts, 5xx, 408 and 409 are worth a retry; the rest not."""
    try:
        yield
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        # A revoked, rotated or wrong key: our setup, not the message. The step keeps the work and asks
        # again slowly instead of spending the user's message on the apology.
        OPENAI_CREDENTIALS_ERRORS.inc()
        raise ConfigurationFault(f"{what} refused our API key (HTTP {exc.status_code}): check OPENAI_API_KEY") from exc
    except openai.RateLimitError as exc:
        raise TransientError(f"{what} rate limit", retry_after=_retry_after(exc.response)) from exc
    except (openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError) as exc:
        raise TransientError(f"{what} unavailable: {type(exc).__name__}") from exc
    except openai.APIStatusError as exc:
        if exc.status_code >= 500 or exc.status_code in (408, 409):
            raise TransientError(f"{what} status {exc.status_code}") from exc
        raise PermanentError(f"{what} refused the request: status {exc.status_code}", exc.status_code) from exc


def _retry_after(response: object) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
