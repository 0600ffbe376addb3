"""Is a local port free, and the message that says which setting moves a part that finds its port taken."""

from __future__ import annotations

import socket
from collections.abc import Callable


class PortTaken(RuntimeError):
    """Another program listens on the port a part of the local run needs."""

    def __init__(self, port: int, what: str, variable: str, value: Callable[[int], str] = str,
                 command: str = "./scripts/dev", taken_by: str = "another program (another ./scripts/dev?)") -> None:
        # `value` turns a port into the variable's value (a URL for REDIS_URL), for the example.
        free = next((n for n in range(port + 1, min(port + 50, 65536)) if not port_taken(n)), None)
        example = f", e.g. {variable}={value(free)} {command}" if free else ""
        super().__init__(
            f"port {port} ({what}) is taken by {taken_by}: "
            f"stop it, or move {what} to a free port with {variable}{example}"
        )
        self.port = port
        self.variable = variable


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """True when binding `host:port` fails, i.e. something listens there (also on 0.0.0.0 or [::])."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As servers do: a port left in TIME_WAIT by the previous run is free, not taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False

