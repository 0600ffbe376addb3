"""`python -m localdev dev`: the whole pipeline on this machine, on embedded defaults.

Starts moto's SQS server, local Twilio (and, without OPENAI_API_KEY, offline OpenAI) stand-ins,
creates the queues, runs the Procfile's web, worker and flower through honcho, and opens a chat.
Anything the user already set in the environment (or in .env) wins over these defaults.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
BIN = Path(sys.executable).parent
# Secrets of the local run, made once and kept (owner-only) so `python -m localdev chat` can sign too.
SECRETS_FILE = RUN_DIR / "local-secrets.env"

DEFAULTS = {
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 31 + "1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "REDIS_KEY_PREFIX": "switchboard-dev:",
    "SQS_QUEUE_PREFIX": "dev-",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "PORT": "8000",
    "FLOWER_PORT": "5555",
    # Flower refuses to start open unless told; on this machine, bound to 127.0.0.1, open is meant.
    "FLOWER_UNAUTHENTICATED": "true",
    "WORKER_CONCURRENCY": "8",
    "WEB_CONCURRENCY": "2",
}
SQS_PORT, TWILIO_PORT, OPENAI_PORT = 4566, 8901, 8902


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
    """A random auth token (Twilio's shape) and conversation-id key for this checkout, made on first use."""
    values = read_dotenv(path)
    makers = {"TWILIO_AUTH_TOKEN": lambda: secrets.token_hex(16), "CONVERSATION_ID_SECRET": lambda: secrets.token_hex(32)}
    missing = {name: make() for name, make in makers.items() if name not in values}
    if missing:
        values.update(missing)
        path.parent.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return values


class LocalStack:
    def __init__(self) -> None:
        RUN_DIR.mkdir(exist_ok=True)
        self.env = {**DEFAULTS, **local_secrets(), **read_dotenv(ROOT / ".env"),
                    **{k: v for k, v in os.environ.items() if v}}
        self.env["PYTHONPATH"] = str(ROOT)
        # The twilio SDK rewrites every URL's host when these are set, which breaks a local stand-in.
        for twilio_routing in ("TWILIO_EDGE", "TWILIO_REGION"):
            self.env.pop(twilio_routing, None)
        # The Procfile names bare commands (gunicorn, celery): find them in this environment first.
        self.env["PATH"] = f"{BIN}{os.pathsep}{self.env.get('PATH', '')}"
        self.processes: list[subprocess.Popen[bytes]] = []

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(RUN_DIR / f"{name}.log", "wb")  # noqa: SIM115 - kept open for the child's lifetime
        self.processes.append(subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))

    def start(self) -> None:
        if "SQS_ENDPOINT_URL" not in self.env:
            self._spawn("sqs", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(SQS_PORT)])
            self.env["SQS_ENDPOINT_URL"] = f"http://127.0.0.1:{SQS_PORT}"
            _wait_for_port(SQS_PORT, "moto SQS server (.run/sqs.log)")
        if "TWILIO_API_BASE_URL" not in self.env:
            self._spawn("twilio", [sys.executable, "-m", "localdev.standins", "twilio", "--port", str(TWILIO_PORT)])
            self.env["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{TWILIO_PORT}"
            _wait_for_port(TWILIO_PORT, "Twilio stand-in (.run/twilio.log)")
            # The stand-in's media URLs redirect to its own media host, as Twilio's go to its CDN (issue 11).
            self.env.setdefault("TWILIO_MEDIA_REDIRECT_HOSTS", requests.get(
                f"{self.env['TWILIO_API_BASE_URL']}/_standin/media-host", timeout=5).json()["host"])
        if "OPENAI_API_KEY" not in self.env:
            self._spawn("openai", [sys.executable, "-m", "localdev.standins", "openai", "--offline",
                                   "--port", str(OPENAI_PORT)])
            self.env.update(OPENAI_API_KEY="offline", OPENAI_BASE_URL=f"http://127.0.0.1:{OPENAI_PORT}/v1")
            _wait_for_port(OPENAI_PORT, "offline OpenAI stand-in (.run/openai.log)")
        redis_port = int(self.env["REDIS_URL"].rsplit(":", 1)[-1].split("/")[0])
        _wait_for_port(redis_port, f"Redis at {self.env['REDIS_URL']} (start redis-server)", timeout=2)
        subprocess.run([str(BIN / "switchboard"), "queues", "init"], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        self._spawn("procfile", [str(BIN / "honcho"), "start", "-f", "Procfile", "web", "worker", "flower"])
        _wait_for_http(f"http://127.0.0.1:{self.env['PORT']}/healthz", "web (.run/procfile.log)",
                       alive=self.processes[-1])

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _wait_for_port(port: int, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer on port {port} within {timeout:.0f}s")


def _wait_for_http(url: str, what: str, alive: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive.poll() is not None:
            raise RuntimeError(f"{what} exited with code {alive.returncode}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f}s")
