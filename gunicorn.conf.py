"""gunicorn settings (read from the working directory): metrics that add up across worker processes.

Each gunicorn worker counts requests on its own; prometheus-client's multiprocess mode writes the
counts to files in PROMETHEUS_MULTIPROC_DIR, which /metrics adds up. The variable must be set
before prometheus_client is first imported, so it is set here, at the top, in the master.

Each start clears the previous run's files, so the directory must be one of ours: new, empty, or
carrying the marker file a previous start left. Anything else (a typo naming /var/lib, a symlink,
a file) stops gunicorn instead of having its contents deleted.
"""

import os
import tempfile

MARKER = ".switchboard-metrics"  # says: this directory holds only Switchboard's metric files

_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="switchboard-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def claim_metrics_dir(path: str) -> None:
    """Make `path` our metrics directory (created, or empty, or marked by us before), or refuse."""
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        raise SystemExit(f"gunicorn: refusing PROMETHEUS_MULTIPROC_DIR={path}: not a directory of our own")
    if os.path.isdir(path):
        entries = os.listdir(path)
        if entries and MARKER not in entries:
            raise SystemExit(f"gunicorn: refusing PROMETHEUS_MULTIPROC_DIR={path}: it holds files that are not "
                             f"Switchboard's (no {MARKER}); name an empty or new directory")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, MARKER), "a"):
        pass


def clear_metrics_dir(path: str) -> None:
    # Files left by a previous run would add its counts to this one's. Only metric files go.
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def on_starting(server):  # type: ignore[no-untyped-def]
    claim_metrics_dir(_metrics_dir)
    clear_metrics_dir(_metrics_dir)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    # Open the broker connections the webhook publishes through before this worker takes traffic
    # (measured in docs/bench: a burst right after a start otherwise opens them all at once).
    # Queue mode only: in direct mode the web process publishes nothing.
    from switchboard.settings import get_settings

    if get_settings().processing_mode == "queue":
        from tasks.publishing import open_connections

        open_connections()
