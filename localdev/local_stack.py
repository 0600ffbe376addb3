"""`python -m localdev dev`: the whole pipeline on this machine, on embedded defaults.

Starts moto's SQS server, a Redis of its own when none answers at REDIS_URL, local Twilio (and,
without OPENAI_API_KEY, offline OpenAI) stand-ins, creates the queues, runs the Procfile's web,
worker and flower through honcho, and prints one line as each part is ready, with its URL.
Anything the user already set in the environment (or in .env) wins over these defaults; each fixed
port has a variable that moves it (PORTS), named in the message when the port is taken.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import requests

from localdev.local_env import ROOT, RUN_DIR, SECRETS_FILE, local_secrets, read_dotenv
from localdev.moto_server import moto_server_argv
from localdev.polling import wait_for
from localdev.ports import PortTaken, port_taken
from localdev.processes import WORKER_READY
from localdev.redis_server import RedisServer, own_redis_unless_one_answers, shown

BIN = Path(sys.executable).parent

DEFAULTS = {
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 31 + "1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "REDIS_KEY_PREFIX": "switchboard-dev:",
    "SQS_QUEUE_PREFIX": "dev-",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    # Flower refuses to start open unless told; on this machine, bound to 127.0.0.1, open is meant.
    "FLOWER_UNAUTHENTICATED": "true",
    # ...and Flower 2 serves its API (which the dev phone reads for task links) only when told too.
    "FLOWER_UNAUTHENTICATED_API": "true",
    # The number the local WhatsApp user writes to; the Twilio stand-in points its webhook at the local web.
    "TWILIO_NUMBERS": "whatsapp:+14155238886",
    "WORKER_CONCURRENCY": "8",
    "WEB_CONCURRENCY": "2",
    # A sample bot for a registration season (issue 14): facts to answer from, a status tool served by
    # localdev/sample_api.py, and hand-off notices to the same API. Set your own paths to replace them.
    "KNOWLEDGE_PATH": str(ROOT / "localdev" / "sample" / "knowledge"),
    "KNOWLEDGE_CONTACT": "the registration office, +1 555 0100",
    "TOOLS_FILE": str(ROOT / "localdev" / "sample" / "tools.yaml"),
}
# The local run's fixed ports and the variable that moves each (read here only, never by Settings).
PORTS = {"LOCAL_SQS_PORT": "4566", "LOCAL_TWILIO_PORT": "8901", "LOCAL_OPENAI_PORT": "8902", "PORT": "8000",
         "FLOWER_PORT": "5555", "LOCAL_DEVPHONE_PORT": "8904", "LOCAL_SAMPLE_API_PORT": "8905"}


class StartFailed(RuntimeError):
    """A part of the local run did not come up; the message names it and its log."""


class LocalStack:
    def __init__(self, say: Callable[[str], None] = print, run_dir: Path = RUN_DIR) -> None:
        self.run_dir = run_dir  # logs, Redis's data and the local secrets (tests use a directory of their own)
        run_dir.mkdir(exist_ok=True)
        self.env = {**DEFAULTS, **PORTS, **local_secrets(run_dir / SECRETS_FILE.name), **read_dotenv(ROOT / ".env"),
                    **{k: v for k, v in os.environ.items() if v}}
        self.env["PYTHONPATH"] = str(ROOT)
        # The twilio SDK rewrites every URL's host when these are set, which breaks a local stand-in.
        for twilio_routing in ("TWILIO_EDGE", "TWILIO_REGION"):
            self.env.pop(twilio_routing, None)
        # The Procfile names bare commands (gunicorn, celery): find them in this environment first.
        self.env["PATH"] = f"{BIN}{os.pathsep}{self.env.get('PATH', '')}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.redis: RedisServer | None = None
        self.say = say

    def start(self) -> None:
        self.say(f"Starting Switchboard (logs in {self._shown(self.run_dir)}/):")
        if "SQS_ENDPOINT_URL" in self.env:
            self._ready("SQS", f"{self.env['SQS_ENDPOINT_URL']} (SQS_ENDPOINT_URL)")
        else:
            self.env["SQS_ENDPOINT_URL"] = self._serve(
                "sqs", "SQS (moto)", moto_server_argv("127.0.0.1"), "LOCAL_SQS_PORT", "-p")
        self._start_redis()
        # Before the Twilio stand-in starts: it reports delivery to this URL (signed status callbacks, so
        # long answers go out in order as on Twilio) and `switchboard doctor` finds its number pointed here.
        self.env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{self.env['PORT']}")
        if "TWILIO_API_BASE_URL" in self.env:
            self._ready("Twilio", f"{self.env['TWILIO_API_BASE_URL']} (TWILIO_API_BASE_URL)")
        else:
            self.env["TWILIO_API_BASE_URL"] = self._serve(
                "twilio", "Twilio stand-in", [sys.executable, "-m", "localdev.standins", "twilio"], "LOCAL_TWILIO_PORT")
            # The stand-in's media URLs redirect to its own media host, as Twilio's go to its CDN (issue 11).
            self.env.setdefault("TWILIO_MEDIA_REDIRECT_HOSTS", requests.get(
                f"{self.env['TWILIO_API_BASE_URL']}/_standin/media-host", timeout=5).json()["host"])
        if "OPENAI_API_KEY" in self.env:
            self._ready("OpenAI", self.env.get("OPENAI_BASE_URL", "https://api.openai.com/v1") + " (OPENAI_API_KEY)")
        else:
            base_url = self._serve("openai", "OpenAI stand-in", [
                sys.executable, "-m", "localdev.standins", "openai", "--offline"], "LOCAL_OPENAI_PORT")
            self.env.update(OPENAI_API_KEY="offline", OPENAI_BASE_URL=f"{base_url}/v1")
        # The sample operator API the sample tools call (and hand-off notices go to), unless you set your own.
        if "SAMPLE_API_URL" in self.env:
            self._ready("sample API", f"{self.env['SAMPLE_API_URL']} (SAMPLE_API_URL)")
        else:
            self.env["SAMPLE_API_URL"] = self._serve(
                "sample-api", "sample API", [sys.executable, "-m", "localdev.sample_api"], "LOCAL_SAMPLE_API_PORT")
        self.env.setdefault("HANDOFF_WEBHOOK_URL", f"{self.env['SAMPLE_API_URL']}/handoffs")
        subprocess.run([str(BIN / "switchboard"), "queues", "init"], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        self._start_procfile()
        # Local-only pages served beside the pipeline: the dev phone (localdev/devphone/), which drives it.
        self._serve("devphone", "dev phone", [sys.executable, "-m", "localdev.devphone"], "LOCAL_DEVPHONE_PORT")

    def _claim(self, what: str, variable: str) -> int:
        port = int(self.env[variable])
        if port_taken(port):
            raise PortTaken(port, what, variable)
        return port

    def _ready(self, what: str, where: str) -> None:
        self.say(f"  \N{HEAVY CHECK MARK} {what:<16} {where}")

    def _serve(self, name: str, what: str, command: list[str], variable: str, port_flag: str = "--port") -> str:
        """Start an HTTP server of the local run on its port (`variable`); its base URL once it answers."""
        port = self._claim(what, variable)
        process = self._spawn(name, [*command, port_flag, str(port)])
        url = f"http://127.0.0.1:{port}"
        self._wait_for_http(url, f"{what} ({self._log(name)})", process, timeout=30)
        self._ready(what, url)
        return url

    def _start_redis(self) -> None:
        url = self.env["REDIS_URL"]
        self.redis = own_redis_unless_one_answers(url, "REDIS_URL", "./scripts/dev", data_dir=self.run_dir / "redis",
                                                  log_path=self.run_dir / "redis.log", persistent=True)
        started = f"our own: {self.redis.origin}, data in {self._shown(self.redis.data_dir)}/" if self.redis else "already running"
        self._ready("Redis", f"{shown(url)} ({started})")

    def _start_procfile(self) -> None:
        web_port = self._claim("web", "PORT")
        flower_port = self._claim("Flower", "FLOWER_PORT")
        honcho = self._spawn("procfile", [str(BIN / "honcho"), "start", "-f", "Procfile", "web", "worker", "flower"])
        web = f"http://127.0.0.1:{web_port}"
        self._wait_for_http(f"{web}/healthz", f"web ({self._log('procfile')})", honcho, timeout=60)
        self._ready("web", f"{web} (Twilio webhook: {web}/twilio/messages)")
        self._wait(lambda: WORKER_READY.search((self.run_dir / "procfile.log").read_text(errors="replace")),
                   f"worker ({self._log('procfile')})", honcho, timeout=60)
        self._ready("worker", f"ready, {self.env['WORKER_CONCURRENCY']} threads ({self._log('procfile')})")
        flower = f"http://127.0.0.1:{flower_port}"
        self._wait_for_http(f"{flower}/healthcheck", f"Flower ({self._log('procfile')})", honcho, timeout=60)
        self._ready("Flower", flower)

    def _log(self, name: str) -> str:
        return f"{self._shown(self.run_dir)}/{name}.log"

    @staticmethod
    def _shown(path: Path) -> str:
        """`path` relative to the checkout when inside it (.run/redis), else in full."""
        return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.run_dir / f"{name}.log", "wb")  # noqa: SIM115 - kept open for the child's lifetime
        self.processes.append(subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))
        return self.processes[-1]

    def _wait(self, ready: Callable[[], object], what: str, alive: subprocess.Popen[bytes], timeout: float) -> None:
        def check() -> object:
            if alive.poll() is not None:
                raise StartFailed(f"{what} exited with code {alive.returncode}")
            return ready()

        try:
            wait_for(check, timeout=timeout, interval=0.2, message=what,
                     ignore=(requests.RequestException, FileNotFoundError))
        except AssertionError as exc:
            raise StartFailed(f"{what} did not come up within {timeout:.0f}s") from exc

    def _wait_for_http(self, url: str, what: str, alive: subprocess.Popen[bytes], timeout: float) -> None:
        self._wait(lambda: requests.get(url, timeout=1).status_code < 500, what, alive, timeout)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        # Last: the workers write to Redis until they have stopped.
        if self.redis is not None:
            self.redis.stop()
