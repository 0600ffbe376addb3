"""`python -m localdev.standins`: each stand-in runs as its own process, as the dev run starts them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import openai
import pytest
from twilio.rest import Client

from localdev.processes import ManagedProcess
from localdev.standins.client import StandinClient

pytestmark = pytest.mark.integration
LISTENING = r"stand-in listening on (http://\S+)"


def standin(tmp_path: Path, *args: str) -> ManagedProcess:
    argv = [sys.executable, "-m", "localdev.standins", *args, "--port", "0"]
    return ManagedProcess(args[0], argv, {}, tmp_path / f"{args[0]}.log")


def test_the_openai_stand_in_serves_offline_answers_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    with standin(tmp_path, "openai", "--offline").start() as proc:
        base_url = proc.wait_for_log(LISTENING, timeout=20).group(1)
        sdk = openai.OpenAI(base_url=f"{base_url}/v1", api_key="offline", max_retries=0, timeout=5)

        answer = sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])

        assert str(answer.choices[0].message.content).startswith("(offline mode")
        assert len(StandinClient(base_url).requests()) == 1
        assert proc.stop(sig=signal.SIGINT, timeout=10) == 0


def test_the_twilio_stand_in_takes_credentials_from_arguments(tmp_path: Path) -> None:
    sid, token = "AC" + uuid.uuid4().hex, "process-token"
    with standin(tmp_path, "twilio", "--account-sid", sid, "--auth-token", token).start() as proc:
        base_url = proc.wait_for_log(LISTENING, timeout=20).group(1)
        client = Client(sid, token)
        client.api.base_url = base_url

        message = client.messages.create(to="+15551230001", from_="+14155550100", body="hello")

        assert [m["sid"] for m in StandinClient(base_url).messages()] == [message.sid]


def test_the_twilio_stand_in_refuses_to_start_without_credentials() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")}
    result = subprocess.run(
        [sys.executable, "-m", "localdev.standins", "twilio", "--port", "0"],
        env=env, capture_output=True, text=True, timeout=30,
    )

    assert result.returncode == 2 and "--account-sid" in result.stderr
