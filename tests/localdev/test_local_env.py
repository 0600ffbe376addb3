"""The local run's own secrets: a random auth token in Twilio's shape, made once per checkout, owner-only."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from localdev.local_env import local_secrets, read_dotenv
from switchboard.settings import is_placeholder_token


def test_the_local_run_makes_a_random_auth_token_in_twilios_shape_and_a_conversation_secret(tmp_path: Path) -> None:
    path = tmp_path / "local-secrets.env"

    values = local_secrets(path)

    assert re.fullmatch(r"[0-9a-f]{32}", values["TWILIO_AUTH_TOKEN"])
    assert not is_placeholder_token(values["TWILIO_AUTH_TOKEN"])
    assert len(values["CONVERSATION_ID_SECRET"]) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secrets(tmp_path / "another.env")["TWILIO_AUTH_TOKEN"] != values["TWILIO_AUTH_TOKEN"]


def test_the_secrets_are_kept_so_chat_and_later_runs_sign_with_the_same_token(tmp_path: Path) -> None:
    path = tmp_path / "local-secrets.env"
    first = local_secrets(path)

    assert local_secrets(path) == first
    assert read_dotenv(path)["TWILIO_AUTH_TOKEN"] == first["TWILIO_AUTH_TOKEN"]
