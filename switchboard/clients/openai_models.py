"""Whether OpenAI knows a model for our key (`GET /v1/models/{model}`), for the doctor."""

from __future__ import annotations

import openai

from switchboard.errors import PermanentError, TransientError
from switchboard.settings import Settings

# A look-up, not a completion: an answer takes well under a second when OpenAI is well.
TIMEOUT_SECONDS = 10.0


class ModelCatalog:
    """Asks OpenAI about one model; one try, our errors (PermanentError carries the HTTP status as code)."""

    def __init__(self, sdk: openai.OpenAI) -> None:
        self.sdk = sdk

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelCatalog:
        return cls(openai.OpenAI(api_key=settings.openai_api_key.get_secret_value(), base_url=settings.openai_base_url,
                                 timeout=min(TIMEOUT_SECONDS, settings.openai_timeout_seconds), max_retries=0))

    def exists(self, model: str) -> bool:
        """True when the key may use `model`; False when OpenAI says there is no such model (404)."""
        try:
            self.sdk.models.retrieve(model)
        except openai.NotFoundError:
            return False
        except (openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError) as exc:
            raise TransientError(f"OpenAI unreachable: {type(exc).__name__}") from exc
        except openai.APIStatusError as exc:
            raise PermanentError(f"OpenAI refused the request: HTTP {exc.status_code}", exc.status_code) from exc
        return True
