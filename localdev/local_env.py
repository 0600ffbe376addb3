"""The local run's files: `.run/` (logs, data, secrets), its random secrets, and `.env` reading."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
# Secrets of the local run, made once and kept (owner-only) so `python -m localdev chat` can sign too.
SECRETS_FILE = RUN_DIR / "local-secrets.env"


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blanks and comments skipped; empty values mean 'not set'."""
    values = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                if value.strip():
                    values[key.strip()] = value.strip().strip("'\"")
    return values


def local_secrets(path: Path = SECRETS_FILE) -> dict[str, str]:
    """A random auth token (Twilio's shape), conversation-id key and operator signing secret for this checkout, made on first use."""
    values = read_dotenv(path)
    makers: dict[str, Callable[[], str]] = {
        "TWILIO_AUTH_TOKEN": lambda: secrets.token_hex(16), "CONVERSATION_ID_SECRET": lambda: secrets.token_hex(32),
        "OPERATOR_SIGNING_SECRET": lambda: secrets.token_hex(32)}
    missing = {name: make() for name, make in makers.items() if name not in values}
    if missing:
        values.update(missing)
        path.parent.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return values
