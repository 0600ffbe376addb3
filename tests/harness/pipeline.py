"""A pipeline under test: sign and post webhooks, run workers, read what users received."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from localdev.polling import wait_for
from localdev.processes import ManagedProcess, free_port, start_gunicorn, start_worker
from localdev.procfile import settings_for
from switchboard.clients.sqs_admin import init_queues
from switchboard.settings import Settings
from tests.harness.standins import RunningStandin

BOT_NUMBER = "whatsapp:+14155238886"

# (url, form) -> (status, body); the Flask test client or real HTTP.
Poster = Callable[[str, Mapping[str, str], Mapping[str, str]], tuple[int, str]]


def new_user() -> str:
    """A WhatsApp user nobody else in the session has, so tests never see each other's replies."""
    return f"whatsapp:+1555{random.randrange(10**7):07d}"


def new_message_sid() -> str:
    return "SM" + uuid.uuid4().hex


def http_poster(url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, str]:
    response = requests.post(url, data=dict(form), headers=dict(headers), timeout=30)
    return response.status_code, response.text


@dataclass
class WebhookSender:
    """Posts messages to the webhook exactly as Twilio does: form-encoded and signed."""

    url: str
    account_sid: str
    auth_token: str
    post: Poster = http_poster

    def form(self, body: str, user: str, message_sid: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "MessageSid": message_sid or new_message_sid(),
            "AccountSid": self.account_sid,
            "From": user,
            "To": BOT_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "WaId": user.removeprefix("whatsapp:").lstrip("+"),
            **extra,
        }

    def post_form(self, form: Mapping[str, str]) -> tuple[int, str]:
        signature = RequestValidator(self.auth_token).compute_signature(self.url, dict(form))
        return self.post(self.url, form, {"X-Twilio-Signature": signature})

    def send(self, body: str, user: str, message_sid: str | None = None, **extra: str) -> tuple[int, str]:
        return self.post_form(self.form(body, user, message_sid, **extra))


@dataclass
class Stack:
    """One deployment under test: its environment, settings, stand-ins and the processes running it."""

    env: dict[str, str]
    settings: Settings
    twilio: RunningStandin
    openai: RunningStandin
    log_dir: Path
    sender: WebhookSender | None = None
    workers: list[ManagedProcess] = field(default_factory=list)
    web: ManagedProcess | None = None

    def start_worker(self, sqs_endpoint_url: str | None = None, **options: Any) -> ManagedProcess:
        """Start a worker; `sqs_endpoint_url` sends only this worker's SQS calls elsewhere (e.g. a fault proxy)."""
        env = self.env if sqs_endpoint_url is None else {**self.env, "SQS_ENDPOINT_URL": sqs_endpoint_url}
        worker = start_worker(env, log_dir=self.log_dir, **options)
        self.workers.append(worker)
        return worker

    def start_web(self, sqs_endpoint_url: str | None = None, port: int | None = None) -> WebhookSender:
        """Start gunicorn; `sqs_endpoint_url` sends only the web's SQS calls elsewhere (e.g. a fault proxy).

        `port`: one chosen beforehand, e.g. to put in PUBLIC_BASE_URL (status callbacks need it).
        """
        port = port or free_port()
        env = self.env if sqs_endpoint_url is None else {**self.env, "SQS_ENDPOINT_URL": sqs_endpoint_url}
        self.web = start_gunicorn(env, port, log_dir=self.log_dir)
        self.sender = WebhookSender(f"http://127.0.0.1:{port}/twilio/messages", self.settings.twilio_account_sid,
                                    self.settings.twilio_auth_token.get_secret_value())
        return self.sender

    def send(self, body: str, user: str, message_sid: str | None = None, **extra: str) -> tuple[int, str]:
        assert self.sender is not None, "start_web() first, or set a sender"
        return self.sender.send(body, user, message_sid, **extra)

    def replies_to(self, user: str) -> list[str]:
        return [m["body"] for m in self.twilio.client.messages() if m["to"] == user]

    def wait_for_replies(self, user: str, count: int, timeout: float = 60) -> list[str]:
        """Wait until `user` has received at least `count` messages; returns all of them, in order."""
        def enough() -> list[str] | None:
            replies = self.replies_to(user)
            return replies if len(replies) >= count else None

        return wait_for(enough, timeout=timeout, message=f"{count} replies to {user}")

    def stop(self) -> None:
        for process in [*self.workers, *([self.web] if self.web else [])]:
            if process.is_running():
                process.kill()


def isolated_env(base_env: Mapping[str, str], **overrides: str) -> dict[str, str]:
    """The session's environment with fresh queue and key prefixes, plus `overrides`."""
    tag = uuid.uuid4().hex[:6]
    # Bursts off unless a test turns them on: most tests send a user's messages back to back and
    # assert one answer each (the burst tests set BURST_WINDOW_SECONDS themselves).
    env = {**base_env, "SQS_QUEUE_PREFIX": f"{base_env['SQS_QUEUE_PREFIX']}{tag}-",
           "REDIS_KEY_PREFIX": f"{base_env['REDIS_KEY_PREFIX']}{tag}:", "BURST_WINDOW_SECONDS": "0", **overrides}
    return env


def make_stack(base_env: Mapping[str, str], twilio: RunningStandin, openai: RunningStandin, log_dir: Path,
               **overrides: str) -> Stack:
    env = isolated_env(base_env, **overrides)
    settings = settings_for(env)
    init_queues(settings)
    return Stack(env=env, settings=settings, twilio=twilio, openai=openai, log_dir=log_dir)
