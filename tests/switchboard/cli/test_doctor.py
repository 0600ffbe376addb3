"""`switchboard doctor` against a real deployment (moto, stand-ins, web, Redis servers of its own): passes when
healthy, fails naming the cause when one thing is broken."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from localdev.processes import REPO_ROOT, free_port, start_gunicorn
from localdev.procfile import settings_for
from localdev.redis_server import RedisServer
from switchboard.cli import main
from switchboard.clients.sqs_admin import init_queues, queue_names
from switchboard.settings import get_settings
from tests.harness.pipeline import BOT_NUMBER, isolated_env
from tests.harness.standins import RunningStandin
from tests.integration.observing import sqs_for

pytestmark = pytest.mark.integration

SWITCHBOARD = Path(sys.executable).parent / "switchboard"
SMS_NUMBER = "+15005550006"


@pytest.fixture(scope="module")
def redis_urls() -> Iterator[dict[str, str]]:
    """Two Redis servers of our own: the shared one may run without persistence (`--save ""`)."""
    persistent, volatile = RedisServer(free_port(), persistent=True).start(), RedisServer(free_port()).start()
    yield {"persistent": persistent.url, "volatile": volatile.url}
    persistent.stop()
    volatile.stop()


@pytest.fixture(scope="module")
def deployment(pipeline_env: dict[str, str], redis_urls: dict[str, str], log_dir: Path) -> Iterator[dict[str, str]]:
    """A deployment's environment with its queues made and its web answering at PUBLIC_BASE_URL."""
    port = free_port()
    env = isolated_env(pipeline_env, REDIS_URL=redis_urls["persistent"], PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                       TWILIO_NUMBERS=f"{BOT_NUMBER},{SMS_NUMBER}")
    init_queues(settings_for(env))
    web = start_gunicorn(env, port, log_dir=log_dir)
    yield env
    web.kill()
    sqs = sqs_for(settings_for(env))
    for url in sqs.list_queues(QueueNamePrefix=env["SQS_QUEUE_PREFIX"]).get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)


def put_number(twilio: RunningStandin, address: str, base_url: str, url: str | None = None) -> None:
    """Point `address` at `base_url` (its incoming messages at `url` instead, when given)."""
    requests.post(f"{twilio.base_url}/_standin/numbers", timeout=5, json={
        "address": address, "url": url or f"{base_url}/twilio/messages",
        "status_callback": f"{base_url}/twilio/status"}).raise_for_status()


@pytest.fixture
def healthy(deployment: dict[str, str], twilio_standin: RunningStandin,
            openai_standin: RunningStandin) -> dict[str, str]:
    """The stand-ins as this deployment's Twilio account and OpenAI project would be: numbers and model right."""
    for address in (BOT_NUMBER, SMS_NUMBER):
        put_number(twilio_standin, address, deployment["PUBLIC_BASE_URL"])
    requests.post(f"{openai_standin.base_url}/_standin/models", json={"id": deployment["OPENAI_MODEL"]},
                  timeout=5).raise_for_status()
    # Nothing listens there: Flower's row says it cannot tell, whatever runs on this machine's 5555.
    return {**deployment, "DOCTOR_FLOWER_URL": f"http://127.0.0.1:{free_port()}"}


def doctor_in_process(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                      ) -> tuple[int, str]:
    """Run `switchboard doctor` here with `env`; its exit code and table."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        code = main(["doctor", "--flower-url", env["DOCTOR_FLOWER_URL"]])
    finally:
        get_settings.cache_clear()
    return code, capsys.readouterr().out


def marks(table: str) -> dict[str, str]:
    return {line[2:].split("  ")[0]: line[0] for line in table.splitlines() if line[:1] in ("✔", "✘", "!")}


def failed(rows: dict[str, str]) -> set[str]:
    return {check for check, mark in rows.items() if mark == "✘"}


def test_doctor_passes_against_a_healthy_deployment(healthy: dict[str, str]) -> None:
    done = subprocess.run([str(SWITCHBOARD), "doctor", "--flower-url", healthy["DOCTOR_FLOWER_URL"]], env=healthy,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stdout + done.stderr
    rows = marks(done.stdout)
    assert rows == {
        "redis persistence": "✔", "redis eviction": "✔", "queue intake": "✔", "queue complete": "✔",
        "queue reply": "✔", "PUBLIC_BASE_URL": "✔", f"webhook {BOT_NUMBER}": "✔",
        f"status callback {BOT_NUMBER}": "✔", f"webhook {SMS_NUMBER}": "✔", "openai key": "✔", "OPENAI_MODEL": "✔",
        "OPENAI_TRANSCRIPTION_MODEL": "✔", "flower access": "!",
    }, done.stdout


def test_doctor_fails_naming_a_missing_dead_letter_queue(
        healthy: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env = isolated_env(healthy)  # queues of its own, so deleting one leaves the module's intact
    settings = settings_for(env)
    init_queues(settings)
    names, sqs = queue_names(settings), sqs_for(settings)
    dead_letters = names.in_sqs(names.dead_letter("reply"))
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=dead_letters)["QueueUrl"])

    code, table = doctor_in_process(env, monkeypatch, capsys)

    assert code == 1 and failed(marks(table)) == {"queue reply"}, table
    assert f"dead-letter queue {dead_letters} does not exist" in table


def test_doctor_fails_naming_a_redis_that_does_not_persist(
        healthy: dict[str, str], redis_urls: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, table = doctor_in_process({**healthy, "REDIS_URL": redis_urls["volatile"]}, monkeypatch, capsys)

    assert code == 1 and failed(marks(table)) == {"redis persistence"}, table
    assert "neither AOF nor RDB is on" in table


def test_doctor_fails_naming_a_webhook_that_points_elsewhere(
        healthy: dict[str, str], twilio_standin: RunningStandin, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    put_number(twilio_standin, BOT_NUMBER, healthy["PUBLIC_BASE_URL"],
               url="https://old-deployment.example.com/twilio/messages")

    code, table = doctor_in_process(healthy, monkeypatch, capsys)

    assert code == 1 and failed(marks(table)) == {f"webhook {BOT_NUMBER}"}, table
    assert "incoming messages go to https://old-deployment.example.com/twilio/messages" in table
