"""The Procfile's processes, started exactly as it says, answer a user and serve Flower."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from localdev.polling import wait_for
from localdev.processes import WORKER_READY, ManagedProcess, free_port
from localdev.procfile import procfile_commands, procfile_env, procfile_process
from tests.harness.pipeline import Stack, WebhookSender, new_user

pytestmark = pytest.mark.integration


def wait_for_http(process: ManagedProcess, url: str, timeout: float = 40) -> requests.Response:
    def answered() -> requests.Response | None:
        if not process.is_running():
            raise AssertionError(f"{process.name} exited during start-up\n{process.log_tail()}")
        response = requests.get(url, timeout=2, allow_redirects=False)
        return response if response.status_code < 500 else None

    return wait_for(answered, timeout=timeout, interval=0.2, message=f"{url} to answer",
                    ignore=(requests.ConnectionError, requests.Timeout))


def test_the_procfile_names_web_worker_and_flower() -> None:
    assert set(procfile_commands()) == {"web", "worker", "flower"}


def test_the_procfiles_web_and_worker_answer_a_signed_message(
    stack_factory: Callable[..., Stack], log_dir: Path,
) -> None:
    stack = stack_factory()
    port = free_port()
    env = procfile_env(stack.env, PORT=str(port))
    web = procfile_process("web", env, log_dir / "procfile-web.log")
    worker = procfile_process("worker", env, log_dir / "procfile-worker.log")

    with web.start(), worker.start():
        assert wait_for_http(web, f"http://127.0.0.1:{port}/healthz").status_code == 200
        worker.wait_for_log(WORKER_READY, timeout=40)
        sender = new_user()
        webhook = WebhookSender(f"http://127.0.0.1:{port}/twilio/messages", stack.settings.twilio_account_sid,
                                stack.settings.twilio_auth_token.get_secret_value())

        status, body = webhook.send("Is this the real thing?", sender)

        assert status == 200 and "<Response" in body
        assert stack.wait_for_replies(sender, 1) == ["echo: Is this the real thing?"]
        assert worker.stop(timeout=30) == 0, worker.log_tail()
        assert web.stop(timeout=30) == 0, web.log_tail()


def test_the_procfiles_flower_starts_against_this_deployment_and_answers_http(
    stack_factory: Callable[..., Stack], log_dir: Path,
) -> None:
    stack = stack_factory()
    flower_port = free_port()
    flower = procfile_process("flower", procfile_env(stack.env, FLOWER_PORT=str(flower_port),
                                                           FLOWER_UNAUTHENTICATED="true"),
                              log_dir / "procfile-flower.log")

    with flower.start():
        response = wait_for_http(flower, f"http://127.0.0.1:{flower_port}/")

        assert response.status_code in (200, 301, 302, 303, 307, 308), response.text[:500]
        assert flower.is_running()
