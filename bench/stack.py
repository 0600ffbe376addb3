"""The local stack in production shape, as separate processes, each started and stopped by the bench.

moto's SQS server (counting requests, `bench.counted_sqs`), the Twilio and OpenAI stand-ins
(`bench.standins`), the Procfile's `web` line (gunicorn) in queue or direct mode, its `worker` line
(celery) at a chosen concurrency, and the floor app under the `web` line's gunicorn settings. Every
process runs in its own session and is killed with its children at `stop()`, error or not.
"""

from __future__ import annotations

import shlex
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from localdev.moto_server import MotoServer
from localdev.polling import wait_for
from localdev.processes import WORKER_READY, ManagedProcess, free_port
from localdev.procfile import procfile_commands, procfile_env, settings_for
from localdev.redis_server import redis_url_for_tests
from localdev.standins.client import StandinClient
from switchboard.clients.sqs_admin import init_queues

REDIS_URL = redis_url_for_tests()  # the tests' Redis: SWITCHBOARD_TEST_REDIS_URL, default 127.0.0.1:6379
WEB_APP = '"webapp:create_app()"'
# The floor app under its own gunicorn settings (the web line's, minus Switchboard's broker warm-up).
FLOOR_APP = '"bench.floor_app:create_app()" --config bench/floor_gunicorn.py'


class BenchStack:
    def __init__(self, log_dir: Path, tag: str | None = None) -> None:
        self.log_dir = log_dir
        self.tag = tag or uuid.uuid4().hex[:6]
        self.account_sid = "AC" + uuid.uuid4().hex
        self.auth_token = uuid.uuid4().hex
        self.sqs_port, self.twilio_port, self.openai_port = free_port(), free_port(), free_port()
        self.processes: dict[str, ManagedProcess] = {}
        self.web_key: tuple[Any, ...] | None = None
        self.worker_key: tuple[Any, ...] | None = None
        self.web_port = 0
        self.worker_metrics_url: str | None = None  # the running worker's /metrics and /healthz
        self.env: dict[str, str] = {}

    # --- the parts that live for the whole run
    def start(self) -> None:
        python = sys.executable
        self._start("sqs", [python, "-m", "bench.counted_sqs", "--port", str(self.sqs_port)], {})
        self._start("twilio", [python, "-m", "bench.standins", "twilio", "--port", str(self.twilio_port),
                               "--account-sid", self.account_sid, "--auth-token", self.auth_token], {})
        self._start("openai", [python, "-m", "bench.standins", "openai", "--port", str(self.openai_port)], {})
        for port in (self.sqs_port, self.twilio_port, self.openai_port):
            wait_for(lambda p=port: requests.get(f"http://127.0.0.1:{p}/_bench/x", timeout=2).status_code,
                     timeout=60, message=f"port {port}", ignore=(requests.RequestException,))
        self.env = {
            "TWILIO_ACCOUNT_SID": self.account_sid, "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_API_BASE_URL": self.twilio_url, "OPENAI_API_KEY": "sk-bench",
            "OPENAI_BASE_URL": f"{self.openai_url}/v1", "OPENAI_MODEL": "gpt-bench",
            "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": f"sbbench-{self.tag}:",
            "SQS_ENDPOINT_URL": self.sqs_url, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "SQS_QUEUE_PREFIX": f"bench{self.tag}-", "PYTHONPATH": str(Path.cwd()),
            # The bench counts one answer per message: a sender's back-to-back messages must not be
            # coalesced into one burst answer (issue 11's BURST_WINDOW_SECONDS, 2 s by default).
            "BURST_WINDOW_SECONDS": "0",
            # The bench measures the pipeline, not the spend and abuse limits (issue 9), which its
            # traffic would trip: one sender's 30 messages in a row (seq-next) pass the per-sender limit
            # of 20 a minute, and a full run asks for more than 300 completions in some minutes.
            "RATE_LIMIT_MESSAGES": "1000", "COMPLETION_BUDGET_PER_MINUTE": "0", "COMPLETION_BUDGET_PER_DAY": "0",
            "SENDER_DAILY_CAP": "0",
        }
        settings = settings_for(self.env)
        init_queues(settings)

    @property
    def sqs_url(self) -> str:
        return f"http://127.0.0.1:{self.sqs_port}"

    @property
    def twilio_url(self) -> str:
        return f"http://127.0.0.1:{self.twilio_port}"

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.openai_port}"

    def sqs_client(self, endpoint: str | None = None) -> Any:
        import boto3

        return boto3.client("sqs", endpoint_url=endpoint or self.sqs_url, region_name="us-east-1",
                            aws_access_key_id="bench", aws_secret_access_key="bench")

    def standin(self, kind: str) -> StandinClient:
        return StandinClient(self.twilio_url if kind == "twilio" else self.openai_url, timeout=30)

    def sqs_counts(self) -> dict[str, int]:
        return dict(requests.get(f"{self.sqs_url}/_bench/sqs-counts", timeout=10).json())

    # --- the parts a scenario chooses
    def web(self, app: str = "queue", extra_env: Mapping[str, str] | None = None, fresh: bool = False) -> str:
        """Run the Procfile's web line for `app` ('queue', 'direct', or 'floor'); returns its base URL.

        The running one is kept when it has the same settings, unless `fresh` asks for a new start.
        """
        extra = dict(extra_env or {})
        key = (app, tuple(sorted(extra.items())))
        running = self.processes.get("web")
        if not fresh and key == self.web_key and running is not None and running.is_running():
            return f"http://127.0.0.1:{self.web_port}"
        self._stop("web")
        self.web_port = free_port()
        line = procfile_commands()["web"]
        env = procfile_env(self.env, PORT=str(self.web_port), **extra)
        if app == "floor":
            line = line.replace(WEB_APP, FLOOR_APP)
            env.setdefault("FLOOR_SQS_ENDPOINT", self.sqs_url)
        else:
            env["PROCESSING_MODE"] = app
        process = self._start("web", ["bash", "-c", line], env)
        url = f"http://127.0.0.1:{self.web_port}"

        def healthy() -> bool:
            if not process.is_running():
                raise AssertionError(f"web exited during start-up\n{process.log_tail()}")
            return requests.get(f"{url}/healthz", timeout=2).status_code == 200

        wait_for(healthy, timeout=90, interval=0.2, message="web /healthz", ignore=(requests.RequestException,))
        self.web_key = key
        return url

    def worker(self, concurrency: int | None, extra_env: Mapping[str, str] | None = None) -> bool:
        """Run the Procfile's worker line at `concurrency` (None: no worker); True when one was started."""
        key = (concurrency, tuple(sorted((extra_env or {}).items())))
        running = self.processes.get("worker")
        if key == self.worker_key and (concurrency is None or (running is not None and running.is_running())):
            return False
        self._stop("worker")
        self.worker_key = key
        self.worker_metrics_url = None
        if concurrency is None:
            return False
        port = free_port()  # the worker's metrics port: the bench scrapes its hop timings there
        env = procfile_env(self.env, WORKER_CONCURRENCY=str(concurrency), WORKER_METRICS_PORT=str(port),
                           **dict(extra_env or {}))
        process = self._start("worker", ["bash", "-c", procfile_commands()["worker"]], env)
        process.wait_for_log(WORKER_READY, timeout=120)
        self.worker_metrics_url = f"http://127.0.0.1:{port}"
        return True

    def start_plain_moto(self) -> MotoServer:
        """A second, unmodified moto_server: what counting costs is measured against it."""
        return MotoServer(self.log_dir / "plain-moto.log").start()

    def new_floor_queue(self, endpoint: str | None, number: int) -> str:
        """A new FIFO queue for one floor run (moto allows one PurgeQueue a minute); returns its name."""
        name = f"bench{self.tag}-floor-{number}.fifo"
        self.sqs_client(endpoint).create_queue(QueueName=name, Attributes={"FifoQueue": "true"})
        return name

    def pids(self) -> dict[str, list[int]]:
        names = {"sqs": "moto (SQS)", "twilio": "twilio stand-in", "openai": "openai stand-in",
                 "web": "web (gunicorn)", "worker": "worker (celery)"}
        return {names[name]: [p.proc.pid] for name, p in self.processes.items()
                if p.proc is not None and p.is_running()}

    def describe(self) -> dict[str, str]:
        return {name: shlex.join(p.argv) for name, p in self.processes.items()}

    def stop(self) -> None:
        for name in ("worker", "web", "openai", "twilio", "sqs"):
            self._stop(name)

    # --- processes
    def _start(self, name: str, argv: list[str], env: Mapping[str, str]) -> ManagedProcess:
        process = ManagedProcess(name, argv, env, self.log_dir / f"{name}.log").start()
        self.processes[name] = process
        return process

    def _stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or not process.is_running():
            return
        try:
            process.stop(timeout=30)
        except AssertionError:
            pass  # ignored SIGTERM: stop() has already killed the group
