"""Unit tests for the worker's metrics port: /metrics for Prometheus, /healthz naming SQS faults."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tasks import worker_http


@pytest.fixture
def faults() -> dict[str, str]:
    return {}


@pytest.fixture
def base_url(faults: dict[str, str]) -> Iterator[str]:
    server = worker_http.serve("127.0.0.1", 0, lambda: dict(faults))
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_metrics_are_served_in_prometheus_format(base_url: str) -> None:
    status, body = get(f"{base_url}/metrics")

    assert status == 200
    assert b"switchboard_sqs_errors" in body


def test_health_is_200_without_faults_and_503_naming_each_fault(base_url: str, faults: dict[str, str]) -> None:
    assert get(f"{base_url}/healthz") == (200, json.dumps({"healthy": True, "sqs_faults": {}}).encode())

    faults["sb-intake.fifo"] = "QueueDoesNotExist on ReceiveMessage"
    status, body = get(f"{base_url}/healthz")

    assert status == 503
    assert json.loads(body) == {"healthy": False, "sqs_faults": {"sb-intake.fifo": "QueueDoesNotExist on ReceiveMessage"}}


def test_the_server_binds_to_the_address_it_is_given() -> None:
    server = worker_http.serve("127.0.0.1", 0, dict)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
        server.server_close()
