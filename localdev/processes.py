"""Child processes for integration tests and the bench: start with an env, log to a file, wait until ready, stop or kill."""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from localdev.polling import wait_for

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER_READY = re.compile(r"celery@\S+ ready\.")
_serial = itertools.count(1)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it; a tiny race with other processes remains)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ManagedProcess:
    """One child process in its own session (so `kill()` reaches its children too), logging to a file."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._run_offset = 0  # where this run's output starts in the (appended) log file

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # append: a restarted process keeps its earlier history
            log.write(f"--- start: {' '.join(self.argv)}\n".encode())
            log.flush()
            self._run_offset = log.tell()
            # Overlaid on our environment so PATH and HOME survive; unbuffered so log waits see lines at once.
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
            self.proc = subprocess.Popen(
                self.argv, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        return self

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        """The whole log, earlier runs included."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def run_output(self) -> str:
        """What the current run has written so far (not the earlier runs, not our header)."""
        with open(self.log_path, "rb") as log:
            log.seek(self._run_offset)
            return log.read().decode(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `sig` to the main process (it stops its own children) and wait; returns the exit code.

        A process still running after `timeout` is killed and the test fails with its log.
        """
        if self.proc is None:
            raise AssertionError(f"{self.name} was never started")
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(
                    f"{self.name} ignored signal {sig} for {timeout:g}s and was killed\n{self.log_tail()}"
                ) from None
        self._kill_group()  # stragglers the main process left behind
        return int(self.proc.returncode)

    def kill(self) -> None:
        """SIGKILL the whole process group at once, like a machine losing power."""
        if self.proc is None:
            return
        self._kill_group()
        self.proc.wait(10)

    def _kill_group(self) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group id is the leader's pid (new session)
        except ProcessLookupError:
            pass  # the group is already empty

    def wait_for_log(self, pattern: str | re.Pattern[str], timeout: float = 30.0) -> re.Match[str]:
        """Wait until this run's output matches `pattern`; fails at once, with the log, if the process exits.

        Only this run counts: after a restart, the previous run's "ready." must not satisfy the wait.
        """
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern

        def seen() -> re.Match[str] | None:
            match = regex.search(self.run_output())
            if match is None and not self.is_running():
                raise AssertionError(f"{self.name} exited before logging {regex.pattern!r}\n{self.log_tail()}")
            return match

        return wait_for(seen, timeout=timeout, message=f"{self.name} to log {regex.pattern!r}")

    def __enter__(self) -> ManagedProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.is_running():
            self.kill()


def _log_path(log_dir: Path | None, name: str) -> Path:
    directory = log_dir or Path(tempfile.mkdtemp(prefix="switchboard-logs-"))
    return directory / f"{name}-{next(_serial)}.log"


def start_worker(
    env: Mapping[str, str],
    queues: Sequence[str] | None = None,
    concurrency: int = 4,
    pool: str = "threads",
    extra_args: Sequence[str] = (),
    log_dir: Path | None = None,
    ready_timeout: float = 30.0,
    wrapper: Sequence[str] = (),
) -> ManagedProcess:
    """Start `celery -A tasks worker` and return once it has logged 'ready.'.

    `wrapper` runs the command, e.g. `ip netns exec NAME` for a worker on another host (localdev/netns.py).
    """
    argv = [
        sys.executable, "-m", "celery", "-A", "tasks", "worker", "--loglevel=INFO",
        "-P", pool, "-c", str(concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    if queues:
        argv += ["-Q", ",".join(queues)]
    worker = ManagedProcess("worker", [*wrapper, *argv, *extra_args], env, _log_path(log_dir, "worker")).start()
    try:
        worker.wait_for_log(WORKER_READY, timeout=ready_timeout)
    except AssertionError:
        worker.kill()
        raise
    return worker


def start_gunicorn(
    env: Mapping[str, str], port: int, log_dir: Path | None = None, ready_timeout: float = 30.0,
    host: str = "127.0.0.1", wrapper: Sequence[str] = (),
) -> ManagedProcess:
    """Start the web app under gunicorn on `host`:`port` and return once GET /healthz answers 200.

    `wrapper` runs the command, e.g. `ip netns exec NAME` for a web host of its own (localdev/netns.py).
    """
    argv = [
        *wrapper, sys.executable, "-m", "gunicorn", "webapp:create_app()", "-b", f"{host}:{port}",
        "--worker-class", "gthread", "--threads", "8", "-w", "2",
    ]
    web = ManagedProcess("gunicorn", argv, env, _log_path(log_dir, "gunicorn")).start()
    url = f"http://{host}:{port}/healthz"

    def healthy() -> bool:
        # Connection refused and 5xx both mean "not yet"; urllib raises OSError subclasses for each.
        if not web.is_running():
            raise AssertionError(f"gunicorn exited during start-up\n{web.log_tail()}")
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)

    try:
        wait_for(healthy, timeout=ready_timeout, message=f"{url} to answer 200", ignore=(OSError,))
    except AssertionError:
        web.kill()
        raise
    return web
