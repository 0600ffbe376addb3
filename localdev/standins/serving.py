"""Serve a stand-in app on a background thread (tests) or in the foreground (the dev run)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from werkzeug.serving import make_server


def serve_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0) -> tuple[str, Callable[[], None]]:
    """Start `app` on a daemon thread; returns its base URL and a function that stops it.

    Port 0 picks a free port, so parallel test sessions never collide.
    """
    # threaded=True: a stalled request (fault injection) must not block the control endpoints.
    server = make_server(host, port, app, threaded=True)
    # A short poll interval makes stop() quick; the default 0.5 s adds up over a test session.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"standin-{app.name}", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://{host}:{server.server_port}", stop


def serve_forever(app: Flask, host: str, port: int, label: str) -> None:
    """Serve `app` until interrupted, announcing the URL on stdout (harnesses wait for this line)."""
    server = make_server(host, port, app, threaded=True)
    print(f"{label} stand-in listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

