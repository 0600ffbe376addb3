"""Wrapper around the openai SDK: one call, explicit timeout, SDK retries off, our error vocabulary."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import openai

from switchboard.errors import PermanentError, TransientError
from switchboard.settings import Settings

log = logging.getLogger(__name__)


class CompletionClient:
    """Asks the configured model for the next assistant turn. Celery owns retries, so the SDK makes one try."""

    def __init__(self, sdk: openai.OpenAI, model: str, max_output_tokens: int) -> None:
        self.sdk = sdk
        self.model = model
        self.max_output_tokens = max_output_tokens

    @classmethod
    def from_settings(cls, settings: Settings) -> CompletionClient:
        sdk = openai.OpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=settings.openai_timeout_seconds,
            max_retries=0,
        )
        return cls(sdk, settings.openai_model, settings.openai_max_output_tokens)

    def complete(self, messages: Sequence[dict[str, str]]) -> str:
        try:
            response = self.sdk.chat.completions.create(
                model=self.model,
                messages=list(messages),  # type: ignore[arg-type]
                max_completion_tokens=self.max_output_tokens,
            )
        except openai.RateLimitError as exc:
            raise TransientError("OpenAI rate limit", retry_after=_retry_after(exc.response)) from exc
        except (openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError) as exc:
            raise TransientError(f"OpenAI unavailable: {type(exc).__name__}") from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500 or exc.status_code in (408, 409):
                raise TransientError(f"OpenAI status {exc.status_code}") from exc
            raise PermanentError(f"OpenAI refused the request: status {exc.status_code}", exc.status_code) from exc
        if not response.choices:
            raise TransientError("OpenAI returned no choices")
        content = response.choices[0].message.content or ""
        if not content.strip():
            raise TransientError("OpenAI returned an empty answer")
        return content.strip()


def _retry_after(response: object) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
