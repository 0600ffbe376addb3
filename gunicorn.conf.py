"""gunicorn settings (read from the working directory): metrics that add up across worker processes.

Each gunicorn worker counts requests on its own; prometheus-client's multiprocess mode writes the
counts to files in PROMETHEUS_MULTIPROC_DIR, which /metrics adds up. The variable must be set
before prometheus_client is first imported, so it is set here, at the top, in the master.
"""

import os
import shutil
import tempfile

_metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="switchboard-metrics-"))


def on_starting(server):  # type: ignore[no-untyped-def]
    # Files left by a previous run would add its counts to this one's.
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    # Open the broker connections the webhook publishes through before this worker takes traffic
    # (measured in docs/bench: a burst right after a start otherwise opens them all at once).
    # Only for Switchboard's app in queue mode: the bench's floor app runs under these settings too.
    import sys

    if "webapp" not in sys.modules:
        return
    from switchboard.settings import get_settings

    if get_settings().processing_mode == "queue":
        from tasks.publishing import open_connections

        open_connections()
