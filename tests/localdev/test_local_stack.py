"""`./scripts/dev`'s stack: each part comes up with a line and its URL, a taken port says which variable moves it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.local_stack import DEFAULTS, PORTS, LocalStack
from localdev.ports import PortTaken, port_taken
from localdev.processes import REPO_ROOT, free_port
from localdev.redis_server import answers
from switchboard.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def local_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """No setting from the outer shell or the test session; every fixed port and Redis moved to a free one."""
    for name in [*(field.upper() for field in Settings.model_fields), *PORTS, "TWILIO_MEDIA_REDIRECT_HOSTS"]:
        monkeypatch.delenv(name, raising=False)
    moved = {variable: str(free_port()) for variable in PORTS}
    moved["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    moved.update(WEB_CONCURRENCY="1", WORKER_CONCURRENCY="2")  # light: two cores are shared with the other tests
    for name, value in moved.items():
        monkeypatch.setenv(name, value)
    yield moved


def test_no_fixed_auth_token_ships_in_the_local_defaults() -> None:
    assert "TWILIO_AUTH_TOKEN" not in DEFAULTS


def test_each_part_comes_up_with_its_url_and_stop_takes_everything_down_our_redis_too(
    local_env: dict[str, str], tmp_path: Path,
) -> None:
    lines: list[str] = []
    stack = LocalStack(say=lines.append, run_dir=tmp_path)
    try:
        stack.start()
    finally:
        stack.stop()

    ready = {line.split()[1]: line for line in lines[1:]}
    parts = ["SQS", "Redis", "Twilio", "OpenAI", "web", "worker", "Flower"]
    assert [part for part in ready if part in parts] == parts, lines
    assert ready["SQS"].endswith(f"http://127.0.0.1:{local_env['LOCAL_SQS_PORT']}")
    assert f"{local_env['REDIS_URL']} (our own: " in ready["Redis"]
    assert ready["Twilio"].endswith(f"http://127.0.0.1:{local_env['LOCAL_TWILIO_PORT']}")
    assert "/twilio/messages" in ready["web"] and f"http://127.0.0.1:{local_env['PORT']}" in ready["web"]
    assert ready["Flower"].endswith(f"http://127.0.0.1:{local_env['FLOWER_PORT']}")
    assert not answers(local_env["REDIS_URL"])
    assert not any(port_taken(int(local_env[variable])) for variable in PORTS)
    assert (tmp_path / "redis").is_dir(), "the dev Redis keeps its data for the next run"


def test_a_taken_port_stops_the_start_and_names_the_variable_that_moves_it(
    local_env: dict[str, str], tmp_path: Path,
) -> None:
    stack = LocalStack(say=lambda line: None, run_dir=tmp_path)
    with socket_on(int(local_env["LOCAL_TWILIO_PORT"])):
        try:
            with pytest.raises(PortTaken, match=f"port {local_env['LOCAL_TWILIO_PORT']} .*LOCAL_TWILIO_PORT="):
                stack.start()
        finally:
            stack.stop()
    assert not answers(local_env["REDIS_URL"]), "what had started before is stopped"


def test_the_dev_command_prints_the_port_taken_message_and_exits_1(tmp_path: Path) -> None:
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LOCAL_SQS_PORT": str(port)}
    with socket_on(port):
        result = subprocess.run([sys.executable, "-m", "localdev", "dev", "--no-chat"], cwd=REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert f"port {port} (SQS (moto)) is taken" in result.stderr and "LOCAL_SQS_PORT=" in result.stderr


def socket_on(port: int) -> socket.socket:
    return socket.create_server(("127.0.0.1", port))
