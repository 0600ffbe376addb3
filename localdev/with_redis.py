"""`python -m localdev with-redis -- COMMAND…`: run COMMAND (scripts/test: pytest) with a Redis to test against.

The tests use SWITCHBOARD_TEST_REDIS_URL (default redis://127.0.0.1:6379/0). When nothing answers
there, our own redis-server starts (on that URL's port when the variable is set, else on a free
one), COMMAND runs with the variable pointing at it, and the server stops when COMMAND ends, also
when this process gets SIGTERM or SIGHUP (passed on to COMMAND first).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from localdev.processes import free_port
from localdev.redis_server import (
    DEFAULT_REDIS_URL,
    TEST_REDIS_URL_VARIABLE,
    answers,
    own_redis_unless_one_answers,
    shown,
)


def run_with_redis(command: Sequence[str]) -> int:
    """COMMAND's exit code (128 + N when a signal N ended it)."""
    configured = os.environ.get(TEST_REDIS_URL_VARIABLE)
    url = configured or DEFAULT_REDIS_URL
    if not configured and not answers(url):
        # Not asked for a port: a free one, so a Redis someone starts on 6379 later is not in our way.
        url = urlsplit(url)._replace(netloc=f"127.0.0.1:{free_port()}").geturl()
    server = own_redis_unless_one_answers(url, TEST_REDIS_URL_VARIABLE, command="./scripts/test")
    if server is None:
        print(f"== redis: {shown(url)} (already running)", flush=True)
    else:
        print(f"== redis: none answered, so started {server.origin} at {server.url} for this run", flush=True)
    try:
        return _run(command, {**os.environ, TEST_REDIS_URL_VARIABLE: url})
    finally:
        if server is not None:
            server.stop()


def _run(command: Sequence[str], env: dict[str, str]) -> int:
    child = subprocess.Popen(list(command), env=env)

    def pass_on(signum: int, frame: Any) -> None:
        child.send_signal(signum)

    # Ctrl-C reaches COMMAND by itself (same terminal process group): we only wait for it to finish.
    previous = {sig: signal.signal(sig, pass_on) for sig in (signal.SIGTERM, signal.SIGHUP)}
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code
