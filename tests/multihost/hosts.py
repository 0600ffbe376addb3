"""The pipeline spread over hosts (localdev/netns.py): which service runs where, started on its host.

| host     | runs                                   | port       |
|----------|----------------------------------------|------------|
| vendors  | the Twilio and OpenAI stand-ins, https | 8901, 8902 |
| sqs      | moto's SQS server                      | 4566       |
| redis    | a redis-server of its own              | 6379       |
| web      | gunicorn (the webhook)                 | 8000       |
| worker-a | a Celery worker (threads)              | -          |
| worker-b | a Celery worker (threads)              | -          |

This process (the network's driver address) plays Twilio posting webhooks and the operator
reading queues, Redis and the stand-ins' records. Each worker host asks for its own model name
(`model_of`), so the OpenAI stand-in's record of requests says which host asked for what.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from localdev.moto_server import MotoServer
from localdev.netns import Host, Network
from localdev.processes import REPO_ROOT, ManagedProcess, start_gunicorn, start_worker
from localdev.redis_server import RedisServer
from localdev.standins.client import StandinClient
from tests.harness.pipeline import Stack, WebhookSender, make_stack
from tests.harness.standins import RunningStandin
from tests.multihost.tls import ServerCertificate
from tests.multihost.vendors import OPENAI_PORT, TWILIO_PORT

ROLES = ("vendors", "sqs", "redis", "web", "worker-a", "worker-b")
WORKER_ROLES = ("worker-a", "worker-b")
SQS_PORT, REDIS_PORT, WEB_PORT = 4566, 6379, 8000


def model_of(role: str) -> str:
    """The model a worker host asks for: its name in the OpenAI stand-in's record of requests."""
    return f"gpt-test-{role}"


@dataclass
class Deployment:
    """The running pipeline: `stack` for what fault tests read, `workers` by host role."""

    net: Network
    stack: Stack
    workers: dict[str, ManagedProcess]

    def host(self, role: str) -> Host:
        return self.net.host(role)


def _start_vendors(host: Host, certificate: ServerCertificate, log_dir: Path, account_sid: str,
                   auth_token: str) -> ManagedProcess:
    argv = [*host.wrapper, sys.executable, "-m", "tests.multihost.vendors", "--host", host.address,
            "--cert", str(certificate.cert_file), "--key", str(certificate.key_file),
            "--account-sid", account_sid, "--auth-token", auth_token]
    return ManagedProcess("vendors", argv, {"PYTHONPATH": str(REPO_ROOT)}, log_dir / "vendors.log").start()


def _running_standin(process: ManagedProcess, kind: str, base_url: str, account_sid: str = "",
                     token: str = "") -> RunningStandin:
    process.wait_for_log(f"{kind} stand-in listening on", timeout=30)
    return RunningStandin(base_url, StandinClient(base_url), process.kill, account_sid, token)


@contextmanager
def deployment(net: Network, certificate: ServerCertificate, log_dir: Path, **overrides: str) -> Iterator[Deployment]:
    """Start every service on its host (`overrides`: settings for all of them); everything stopped on exit.

    `certificate`: the vendors host's, whose authority this process already trusts (conftest.py).
    """
    vendors, sqs, redis_host, web = (net.host(role) for role in ("vendors", "sqs", "redis", "web"))
    account_sid, auth_token = "AC" + uuid.uuid4().hex, uuid.uuid4().hex
    # Independent hosts start at once: each process takes seconds to import, and CI's time is short.
    with ExitStack() as started, ThreadPoolExecutor(len(WORKER_ROLES) + 1) as pool:
        vendors_process = started.enter_context(_start_vendors(vendors, certificate, log_dir, account_sid, auth_token))
        moto = MotoServer(log_dir / "moto.log", port=SQS_PORT, host=sqs.address, wrapper=sqs.wrapper)
        redis = RedisServer(REDIS_PORT, log_path=log_dir / "redis.log", host=redis_host.address,
                            wrapper=redis_host.wrapper)
        started.callback(moto.kill)
        started.callback(redis.stop)
        moto_started, redis_started = pool.submit(moto.start), pool.submit(redis.start)
        moto_started.result()
        redis_started.result()
        twilio = _running_standin(vendors_process, "twilio", f"https://{vendors.address}:{TWILIO_PORT}",
                                  account_sid, auth_token)
        openai = _running_standin(vendors_process, "openai", f"https://{vendors.address}:{OPENAI_PORT}")

        # The queues are created from here (the driver), with the short visibility timeout of `overrides`.
        base_env = {**_base_env(net, twilio, openai, redis.url, moto.endpoint_url), **certificate.trust_env()}
        stack = make_stack(base_env, twilio, openai, log_dir, **overrides)
        processes = _start_together(pool, started, {
            "web": partial(start_gunicorn, stack.env, WEB_PORT, log_dir=log_dir, host=web.address, wrapper=web.wrapper),
            **{role: partial(_start_worker_host, stack, net.host(role), log_dir) for role in WORKER_ROLES},
        })
        stack.web = processes["web"]
        stack.sender = WebhookSender(f"http://{web.address}:{WEB_PORT}/twilio/messages", account_sid, auth_token)
        workers = {role: processes[role] for role in WORKER_ROLES}
        stack.workers.extend(workers.values())
        yield Deployment(net, stack, workers)


def _start_together(pool: ThreadPoolExecutor, started: ExitStack,
                    starts: dict[str, Callable[[], ManagedProcess]]) -> dict[str, ManagedProcess]:
    """Run every start at once; each process that came up is stopped with `started`, even if another failed."""
    futures = {name: pool.submit(start) for name, start in starts.items()}
    wait(futures.values())
    processes = {name: started.enter_context(future.result()) for name, future in futures.items()
                 if future.exception() is None}
    for future in futures.values():
        future.result()  # the first failure, if any, now that what did start will be stopped
    return processes


def _start_worker_host(stack: Stack, host: Host, log_dir: Path) -> ManagedProcess:
    env = {**stack.env, "OPENAI_MODEL": model_of(host.role)}
    return start_worker(env, concurrency=4, log_dir=log_dir, wrapper=host.wrapper)


def _base_env(net: Network, twilio: RunningStandin, openai: RunningStandin, redis_url: str,
              sqs_url: str) -> dict[str, str]:
    """What every host's processes run with: the services at their hosts' addresses (tests/conftest.py's
    pipeline_env, moved onto the network)."""
    return {
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "CONVERSATION_ID_SECRET": uuid.uuid4().hex * 2,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": f"{openai.base_url}/v1",
        "OPENAI_MODEL": "gpt-test",
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"sbhosts-{net.token}:",
        "SQS_ENDPOINT_URL": sqs_url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "SQS_QUEUE_PREFIX": f"h{net.token}-",
        "SQS_WAIT_TIME_SECONDS": "1",
        "OPENAI_TIMEOUT_SECONDS": "3",
        "TWILIO_TIMEOUT_SECONDS": "3",
        "BURST_WINDOW_SECONDS": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
