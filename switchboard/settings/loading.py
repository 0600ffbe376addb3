"""Reading the settings: one readable error naming every bad variable, the web's own check, one copy a process."""

from __future__ import annotations

import functools

from pydantic import ValidationError

from switchboard.settings.model import Settings


class ConfigError(RuntimeError):
    """Raised when the environment does not describe a runnable deployment."""


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, turning pydantic's report into one readable error."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper()
            reason = "missing" if error["type"] == "missing" else error["msg"]
            # Checks across fields name their variables themselves.
            problems.append(f"{name}: {reason}" if name else reason.removeprefix("Value error, "))
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


def check_web_settings(settings: Settings) -> None:
    """What only the web process needs: on AWS, a signed URL that never comes from the client's headers."""
    if settings.on_aws and settings.public_base_url is None and settings.trusted_proxy_hops is None:
        raise ConfigError("invalid configuration: PUBLIC_BASE_URL or TRUSTED_PROXY_HOPS must be set on AWS "
                          "(the signed URL's host would otherwise come from the request)")


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read once on first use."""
    return load_settings()
