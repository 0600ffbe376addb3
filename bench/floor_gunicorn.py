"""gunicorn settings for the bench's floor app: the production gunicorn.conf.py without its Switchboard-only hook.

    gunicorn "bench.floor_app:create_app()" --config bench/floor_gunicorn.py   (bench/stack.py adds it)

The floor runs under the same metrics-directory hooks as the web line, but not `post_worker_init`,
which opens Switchboard's broker connections: the floor app has none to open.
"""

from __future__ import annotations

import runpy
from pathlib import Path

_production = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))

on_starting = _production["on_starting"]
child_exit = _production["child_exit"]
