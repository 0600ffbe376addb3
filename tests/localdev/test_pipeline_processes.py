"""start_worker and start_gunicorn: each returns only once its process is ready for traffic."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from localdev.processes import free_port, start_gunicorn, start_worker

pytestmark = pytest.mark.integration


def test_start_worker_returns_once_the_worker_logged_ready(pipeline_env: dict[str, str], log_dir: Path) -> None:
    worker = start_worker(pipeline_env, concurrency=2, log_dir=log_dir)
    try:
        assert worker.is_running()
    finally:
        exit_code = worker.stop(timeout=30)
    assert exit_code == 0, worker.log_tail()


def test_start_gunicorn_returns_once_healthz_answers(pipeline_env: dict[str, str], log_dir: Path) -> None:
    port = free_port()
    web = start_gunicorn(pipeline_env, port, log_dir=log_dir)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        web.stop(timeout=30)
