"""Flower's settings, read by `celery -A tasks flower` from the working directory.

Flower only needs the monitoring events, which travel over Redis (see tasks/monitoring.py), so its
broker connection is pointed there before it starts.
"""

import os

from tasks import app
from tasks.monitoring import use_event_bus_as_broker

use_event_bus_as_broker(app)

port = int(os.environ.get("FLOWER_PORT", "5555"))
# Keep what Flower shows bounded; it is a live view, not an archive.
max_tasks = 10000
# FLOWER_BASIC_AUTH="user:password" (comma-separated for several) protects the UI and its API.
if os.environ.get("FLOWER_BASIC_AUTH"):
    basic_auth = os.environ["FLOWER_BASIC_AUTH"].split(",")
