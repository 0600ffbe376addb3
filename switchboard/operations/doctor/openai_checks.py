"""OpenAI takes OPENAI_API_KEY and has each model the configuration names (`GET /v1/models/{model}`)."""

from __future__ import annotations

from switchboard.clients.openai_models import ModelCatalog
from switchboard.errors import PermanentError, TransientError
from switchboard.operations.doctor.results import CheckResult, fail, ok
from switchboard.settings import Settings

KEY = "openai key"


def models_in_use(settings: Settings) -> list[tuple[str, str]]:
    """(variable, model) for every model this configuration calls."""
    models = [("OPENAI_MODEL", settings.openai_model)]
    if settings.media_enabled:  # voice notes are transcribed only when media is read at all
        models.append(("OPENAI_TRANSCRIPTION_MODEL", settings.openai_transcription_model))
    if settings.openai_moderation:
        models.append(("OPENAI_MODERATION_MODEL", settings.openai_moderation_model))
    return models


def check_openai(catalog: ModelCatalog, settings: Settings) -> list[CheckResult]:
    results: list[CheckResult] = []
    for variable, model in models_in_use(settings):
        try:
            exists = catalog.exists(model)
        except PermanentError as exc:
            return results + [refused(exc)]
        except TransientError as exc:
            return results + [fail("openai", str(exc), "check that this machine reaches OpenAI (OPENAI_BASE_URL "
                                                       "when set), then run doctor again")]
        if not results:  # OpenAI checks the key before the model: any answer but 401 means it took the key
            results.append(ok(KEY, "accepted"))
        if exists:
            results.append(ok(variable, f"{model} exists"))
        else:
            results.append(fail(variable, f"OpenAI has no model {model} for this key (404)",
                                f"{variable}=a model that `GET /v1/models` lists for your key"))
    return results


def refused(exc: PermanentError) -> CheckResult:
    if exc.code == 401:
        return fail(KEY, "OpenAI refused OPENAI_API_KEY (HTTP 401)",
                    "a key from platform.openai.com → API keys (for a project that may use the models)")
    if exc.code == 429:
        return fail(KEY, "OpenAI answered 429: rate limited, or the account is out of quota",
                    "check the project's billing and limits on platform.openai.com")
    return fail(KEY, str(exc), "see the status on platform.openai.com; OPENAI_BASE_URL when set")
