"""A burst of N users writing at once through a local stack: webhook ack latency and time to the last reply.

    python -m bench.burst [--users 50] [--cold]

Runs moto's SQS server, the Twilio and OpenAI stand-ins (in this process), and the Procfile's `web`
and `worker` lines exactly as written (gunicorn + one celery worker, default concurrency), on their
own queue and Redis key prefixes. Needs Redis on 127.0.0.1:6379. Moto serves one request at a time,
so absolute numbers are moto's; compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import redis
import requests

from switchboard.health import queue_depths
from switchboard.queues import init_queues, queue_names, sqs_client
from switchboard.store import ConversationStore, HistoryLimits
from tests.e2e.procfile import procfile_env, procfile_process
from tests.harness.moto_server import MotoServer
from tests.harness.pipeline import WebhookSender, settings_for
from tests.harness.polling import wait_for
from tests.harness.processes import REPO_ROOT, WORKER_READY, ManagedProcess, free_port
from tests.harness.redis_keys import delete_keys_with_prefix
from tests.harness.standins import RunningStandin, start_openai, start_twilio

REDIS_URL = "redis://127.0.0.1:6379/0"


def stack_env(sqs_endpoint: str, twilio: RunningStandin, openai: RunningStandin, tag: str) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": f"{openai.base_url}/v1",
        "OPENAI_MODEL": "gpt-bench",
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": f"sbbench-{tag}:",
        "SQS_ENDPOINT_URL": sqs_endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "SQS_QUEUE_PREFIX": f"bench{tag}-",
        "PYTHONPATH": str(REPO_ROOT),
    }


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def burst(sender: WebhookSender, users: list[str]) -> tuple[float, list[float], list[int]]:
    """Every user posts one message at the same moment; returns (start, ack latencies, statuses)."""
    barrier = threading.Barrier(len(users) + 1)
    latencies: list[float] = [0.0] * len(users)
    statuses: list[int] = [0] * len(users)

    def post(index: int, user: str) -> None:
        session = requests.Session()
        form = sender.form(f"burst {index}", user)
        barrier.wait()
        started = time.perf_counter()
        signed = WebhookSender(sender.url, sender.account_sid, sender.auth_token,
                               post=lambda url, data, headers: _post(session, url, data, headers))
        statuses[index], _ = signed.post_form(form)
        latencies[index] = time.perf_counter() - started

    threads = [threading.Thread(target=post, args=(i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return start, latencies, statuses


def _post(session: requests.Session, url: str, data: object, headers: object) -> tuple[int, str]:
    response = session.post(url, data=dict(data), headers=dict(headers), timeout=30)  # type: ignore[call-overload]
    return response.status_code, response.text


def settled(env: dict[str, str]) -> bool:
    settings = settings_for(env)
    store = ConversationStore(redis.Redis.from_url(REDIS_URL), env["REDIS_KEY_PREFIX"], HistoryLimits(1, 100, 60))
    try:
        unanswered, _ = store.unanswered()
    finally:
        store.redis.close()
    depths = queue_depths(sqs_client(settings), queue_names(settings))
    return not unanswered and not any(d.visible or d.in_flight or d.delayed for d in depths if "-dlq" not in d.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--cold", action="store_true", help="no warm-up message before the burst")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for every reply")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the stand-ins' per-request lines

    tag = uuid.uuid4().hex[:6]
    log_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    moto = MotoServer(log_dir / "moto.log").start()
    twilio = start_twilio("AC" + uuid.uuid4().hex, uuid.uuid4().hex)
    openai = start_openai()
    env = stack_env(moto.endpoint_url, twilio, openai, tag)
    init_queues(settings_for(env))
    port = free_port()
    run_env = procfile_env(env, PORT=str(port))
    processes: list[ManagedProcess] = []
    try:
        web = procfile_process("web", run_env, log_dir / "web.log").start()
        worker = procfile_process("worker", run_env, log_dir / "worker.log").start()
        processes += [web, worker]
        wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok, timeout=60,
                 message="web /healthz", ignore=(requests.RequestException,))
        worker.wait_for_log(WORKER_READY, timeout=60)
        sender = WebhookSender(f"http://127.0.0.1:{port}/twilio/messages", twilio.account_sid, twilio.auth_token)

        if not args.cold:
            # One message first, so both gunicorn workers' first-request imports are not in the numbers.
            for _ in range(4):
                sender.send("warm-up", "whatsapp:+15550009999")
            wait_for(lambda: len(twilio.client.messages()) >= 4, timeout=60, message="warm-up replies")
            twilio.client.reset()

        users = [f"whatsapp:+1555{i:07d}" for i in range(args.users)]
        start, latencies, statuses = burst(sender, users)
        last_reply_at: float | None = None
        try:
            wait_for(lambda: {m["to"] for m in twilio.client.messages()}.issuperset(users),
                     timeout=args.timeout, interval=0.02, message="a reply to every user")
            last_reply_at = time.perf_counter()
        except AssertionError as exc:
            print(exc, file=sys.stderr)
        wait_for(lambda: settled(env), timeout=60, interval=0.2, message="the pipeline to settle")

        replies = Counter(m["to"] for m in twilio.client.messages())
        wrong = sum(1 for m in twilio.client.messages()
                    if m["to"] in users and m["body"] != f"echo: burst {users.index(m['to'])}")
        lost = sum(1 for u in users if replies[u] == 0)
        duplicated = sum(max(0, replies[u] - 1) for u in users)
        rows = [
            ("machine", f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"),
            ("stack", "moto_server + Procfile web (gunicorn gthread 2x8) + worker (threads, 16)"),
            ("warm-up", "none (cold)" if args.cold else "4 messages before the burst"),
            ("users x messages", f"{args.users} x 1, all at once (threads + barrier)"),
            ("webhook statuses", ", ".join(f"{code}: {n}" for code, n in sorted(Counter(statuses).items()))),
            ("ack latency p50", f"{percentile(latencies, 50) * 1000:.0f} ms"),
            ("ack latency p99", f"{percentile(latencies, 99) * 1000:.0f} ms"),
            ("ack latency max", f"{max(latencies) * 1000:.0f} ms"),
            ("first send -> last reply",
             f"{last_reply_at - start:.2f} s" if last_reply_at else f"not all within {args.timeout:.0f} s"),
            ("throughput", f"{args.users / (last_reply_at - start):.1f} replies/s" if last_reply_at else "-"),
            ("lost / duplicated / wrong", f"{lost} / {duplicated} / {wrong}"),
        ]
        width = max(len(name) for name, _ in rows)
        print(f"\nSwitchboard burst ({time.strftime('%Y-%m-%d %H:%M:%S')}); logs in {log_dir}")
        for name, value in rows:
            print(f"  {name:<{width}}  {value}")
        return 0 if lost == duplicated == wrong == 0 and last_reply_at else 1
    finally:
        for process in processes:
            if process.is_running():
                process.stop(timeout=30)
        twilio.stop()
        openai.stop()
        moto.stop()
        delete_keys_with_prefix(REDIS_URL, env["REDIS_KEY_PREFIX"])


if __name__ == "__main__":
    sys.exit(main())
