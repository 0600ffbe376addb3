"""A TCP proxy in front of the real Redis that can swallow Redis's replies: a command runs, its answer is lost."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from localdev.redis_server import redis_url_for_tests


class ReplySwallowingProxy:
    """Forwards every byte to Redis; while `swallow` is set, Redis's answers never reach the client."""

    def __init__(self, redis_port: int | None = None) -> None:
        self.redis_port = redis_port or urlsplit(redis_url_for_tests()).port or 6379
        self.swallow = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="redis-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", self.redis_port))
            self._sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, is_reply: bool) -> None:
        try:
            while data := source.recv(65536):
                if not (is_reply and self.swallow.is_set()):
                    target.sendall(data)
        except OSError:
            pass  # one side closed: the other follows
        finally:
            for end in (source, target):
                end.close()

    def close(self) -> None:
        self._server.close()
        for end in self._sockets:
            end.close()
