"""Flower with REDIS_URL naming a Redis Cluster (issue 13): it needs EVENTS_REDIS_URL, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from localdev.processes import free_port
from tests.operations.test_flower_access import FLOWER_AUTH, exit_code_of, flower

pytestmark = pytest.mark.integration


def test_flower_refuses_to_start_on_a_cluster_without_an_events_redis_and_names_the_setting(
    pipeline_env: dict[str, str], log_dir: Path
) -> None:
    # Never dialled: Flower stops while it reads flowerconfig.py, before any connection.
    process = flower(pipeline_env, log_dir, FLOWER_PORT=str(free_port()), FLOWER_BASIC_AUTH=FLOWER_AUTH,
                     REDIS_URL="redis+cluster://127.0.0.1:1", EVENTS_REDIS_URL="").start()
    try:
        assert exit_code_of(process) != 0
        assert "refusing to start" in process.run_output() and "EVENTS_REDIS_URL" in process.run_output()
    finally:
        process.kill()
