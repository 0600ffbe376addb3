"""moto's standalone server as a child process: the SQS endpoint of integration tests and the bench.

    python -m localdev.moto_server -H 127.0.0.1 -p 4566

runs moto's own server (`moto.server.main`, what the `moto_server` script runs) after
localdev/moto_fixes.py made its FIFO long polls behave as Amazon's do.
"""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from localdev import moto_fixes
from localdev.polling import wait_for
from localdev.processes import ManagedProcess, free_port


def moto_server_argv(host: str, port: int | None = None) -> list[str]:
    """The command that runs our moto server; without `port`, the caller appends `-p PORT`."""
    argv = [sys.executable, "-m", "localdev.moto_server", "-H", host]
    return argv if port is None else [*argv, "-p", str(port)]


@dataclass(frozen=True)
class ExternalSqs:
    """An SQS endpoint someone else runs (SWITCHBOARD_TEST_SQS_ENDPOINT); it cannot be stopped from here."""

    endpoint_url: str


class MotoServer:
    """Our moto server (`moto_server_argv`, run from the repository root) on 127.0.0.1 and a fixed port, so a restart comes back at the same endpoint URL."""

    def __init__(self, log_path: Path, port: int | None = None, host: str = "127.0.0.1",
                 wrapper: Sequence[str] = ()) -> None:
        self.host = host
        self.wrapper = list(wrapper)  # runs the command, e.g. `ip netns exec NAME` (localdev/netns.py)
        self.port = port or free_port(host)
        self.log_path = log_path
        self.process: ManagedProcess | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoServer:
        """Start (or restart) the server and wait until it answers HTTP. State does not survive a restart."""
        if self.process is not None and self.process.is_running():
            raise AssertionError("moto is already running")
        argv = moto_server_argv(self.host, self.port)
        self.process = ManagedProcess("moto", [*self.wrapper, *argv], {}, self.log_path).start()
        wait_for(self._answers, timeout=timeout, message=f"moto at {self.endpoint_url}", ignore=(OSError,))
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if not self.process.is_running():
            raise AssertionError(f"moto_server exited during start-up\n{self.process.log_tail()}")
        # Any HTTP answer will do; connection refused (an OSError) means "not yet".
        with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2) as response:
            return bool(response.status)

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate (SIGTERM) and wait until the port is closed."""
        if self.process is not None and self.process.is_running():
            self.process.stop(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL, as a crashed endpoint would look."""
        if self.process is not None:
            self.process.kill()

    def is_running(self) -> bool:
        return self.process is not None and self.process.is_running()


def main(argv: list[str] | None = None) -> None:
    from moto import server

    moto_fixes.apply()
    server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
