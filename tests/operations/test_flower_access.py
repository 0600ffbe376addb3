"""Who can reach Flower: the real `celery -A tasks flower` process, started with flowerconfig.py."""

from __future__ import annotations

import base64
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from localdev.polling import wait_for
from localdev.processes import ManagedProcess, free_port

pytestmark = pytest.mark.integration

FLOWER_AUTH = "ops:secret"


# Blank, so a developer's shell cannot change what these tests see (Flower reads FLOWER_* itself).
FLOWER_VARIABLES = ("FLOWER_BASIC_AUTH", "FLOWER_UNAUTHENTICATED", "FLOWER_ADDRESS", "FLOWER_AUTH",
                    "FLOWER_AUTH_PROVIDER", "FLOWER_OAUTH2_KEY", "FLOWER_OAUTH2_SECRET")


def flower(env: dict[str, str], log_dir: Path, **extra: str) -> ManagedProcess:
    blank = dict.fromkeys(FLOWER_VARIABLES, "")
    return ManagedProcess("flower", [sys.executable, "-m", "celery", "-A", "tasks", "flower"],
                          {**env, **blank, **extra}, log_dir / "flower-access.log")


def status_of(url: str, credentials: str | None = None) -> int:
    request = urllib.request.Request(url)
    if credentials:
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def exit_code_of(process: ManagedProcess) -> int:
    wait_for(lambda: not process.is_running(), timeout=30, message="flower to exit")
    assert process.proc is not None
    return int(process.proc.returncode)


@pytest.mark.parametrize("extra", [
    {"FLOWER_UNAUTHENTICATED": "false"},  # no authentication, and not opened on purpose
    {"FLOWER_AUTH": ".*@example.com", "FLOWER_OAUTH2_KEY": "key"},  # half an OAuth setup
    {"FLOWER_BASIC_AUTH": "ops"},  # no password
], ids=["no-authentication", "half-oauth", "basic-auth-without-password"])
def test_flower_refuses_to_start_without_authentication_and_says_why(
    pipeline_env: dict[str, str], log_dir: Path, extra: dict[str, str],
) -> None:
    process = flower(pipeline_env, log_dir, FLOWER_PORT=str(free_port()), **extra).start()
    try:
        assert exit_code_of(process) != 0
        assert "refusing to start" in process.run_output(), process.log_tail()
    finally:
        process.kill()


def test_flower_with_basic_auth_answers_401_without_credentials_and_listens_only_on_loopback(
    pipeline_env: dict[str, str], log_dir: Path,
) -> None:
    port = free_port()
    with flower(pipeline_env, log_dir, FLOWER_PORT=str(port), FLOWER_BASIC_AUTH=FLOWER_AUTH).start() as process:
        wait_for(lambda: status_of(f"http://127.0.0.1:{port}/api/tasks", FLOWER_AUTH) == 200, timeout=30,
                 ignore=(OSError,), message="Flower's API to answer with credentials")

        assert status_of(f"http://127.0.0.1:{port}/api/tasks") == 401
        assert status_of(f"http://127.0.0.1:{port}/") == 401
        assert status_of(f"http://127.0.0.1:{port}/", "ops:wrong") == 401
        # Bound to 127.0.0.1 itself: another address of this host (even another loopback one) is refused.
        with pytest.raises(urllib.error.URLError):
            status_of(f"http://127.0.0.2:{port}/", FLOWER_AUTH)
        assert process.is_running()


def test_flower_runs_open_only_when_told_to_and_binds_the_address_it_is_given(
    pipeline_env: dict[str, str], log_dir: Path,
) -> None:
    port = free_port()
    with flower(pipeline_env, log_dir, FLOWER_PORT=str(port), FLOWER_UNAUTHENTICATED="true",
                FLOWER_ADDRESS="127.0.0.2").start():
        # Flower keeps its /api closed without authentication even then; its pages open.
        wait_for(lambda: status_of(f"http://127.0.0.2:{port}/") == 200, timeout=30,
                 ignore=(OSError,), message="Flower's pages to answer without credentials")

        with pytest.raises(urllib.error.URLError):
            status_of(f"http://127.0.0.1:{port}/")
