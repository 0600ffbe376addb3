"""Session fixtures: HTTP stand-ins, moto's SQS server, and the environment the pipeline's processes run with."""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localdev.moto_server import ExternalSqs, MotoServer
from localdev.processes import REPO_ROOT
from localdev.redis_keys import delete_keys_with_prefix
from localdev.redis_server import TEST_REDIS_URL_VARIABLE, answers, redis_url_for_tests
from switchboard.clients.sqs_admin import init_queues
from switchboard.settings import Settings, get_settings
from tests.harness.pipeline import Stack, make_stack
from tests.harness.redis_cluster import CLUSTER_VARIABLE, LocalRedisCluster
from tests.harness.standins import RunningStandin, start_openai, start_twilio


def _cluster_if_asked() -> LocalRedisCluster | None:
    """With SWITCHBOARD_TEST_REDIS_CLUSTER=1, a 3-master Redis Cluster for the run, and every test's Redis URL is it.

    Started when this file is loaded, before any other conftest (several read the URL when imported)
    and before pytest's own options are parsed, hence a variable and not an option. Stopped at the end.
    """
    if os.environ.get(CLUSTER_VARIABLE, "") in ("", "0"):
        return None
    cluster = LocalRedisCluster().start()
    atexit.register(cluster.stop)  # also when pytest stops before pytest_unconfigure
    os.environ[TEST_REDIS_URL_VARIABLE] = cluster.url
    return cluster


_CLUSTER = _cluster_if_asked()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs moto's SQS server, Redis or child processes")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CLUSTER is not None:
        _CLUSTER.stop()


def pytest_report_header(config: pytest.Config) -> str:
    url = redis_url_for_tests()
    if _CLUSTER is not None:
        return f"redis: a 3-master Redis Cluster of this run's own at {url} ({CLUSTER_VARIABLE})"
    if answers(url):
        return f"redis: {url} ({TEST_REDIS_URL_VARIABLE})"
    return f"redis: NOTHING ANSWERS at {url}: run ./scripts/test, which starts one, or set {TEST_REDIS_URL_VARIABLE}"


@pytest.fixture(scope="session")
def run_id() -> str:
    """Short and unique per run, so parallel or leftover runs never share queues or Redis keys."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where child processes (moto, workers, gunicorn) write their logs for this session."""
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def moto(log_dir: Path) -> Iterator[MotoServer | ExternalSqs]:
    """moto's server for the session, or the endpoint in SWITCHBOARD_TEST_SQS_ENDPOINT if that is set."""
    external = os.environ.get("SWITCHBOARD_TEST_SQS_ENDPOINT")
    if external:
        yield ExternalSqs(external.rstrip("/"))
        return
    server = MotoServer(log_dir / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def twilio_standin_session() -> Iterator[RunningStandin]:
    standin = start_twilio(account_sid="AC" + uuid.uuid4().hex, auth_token=uuid.uuid4().hex)
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def openai_standin_session() -> Iterator[RunningStandin]:
    standin = start_openai()
    yield standin
    standin.stop()


@pytest.fixture
def twilio_standin(twilio_standin_session: RunningStandin) -> RunningStandin:
    """The session's Twilio stand-in, with no recordings, inbound messages or faults left from other tests."""
    twilio_standin_session.client.reset()
    return twilio_standin_session


@pytest.fixture
def openai_standin(openai_standin_session: RunningStandin) -> RunningStandin:
    """The session's OpenAI stand-in, with no recordings or faults left from other tests."""
    openai_standin_session.client.reset()
    return openai_standin_session


@pytest.fixture(scope="session")
def pipeline_env(
    run_id: str,
    moto: MotoServer | ExternalSqs,
    twilio_standin_session: RunningStandin,
    openai_standin_session: RunningStandin,
) -> Iterator[dict[str, str]]:
    """The environment for child processes, also applied to this process (and restored at the end)."""
    twilio = twilio_standin_session
    env = {
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "CONVERSATION_ID_SECRET": uuid.uuid4().hex * 2,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": f"{openai_standin_session.base_url}/v1",
        "OPENAI_MODEL": "gpt-test",
        "REDIS_URL": redis_url_for_tests(),
        "REDIS_KEY_PREFIX": f"sbtest-{run_id}:",
        "SQS_ENDPOINT_URL": moto.endpoint_url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "SQS_QUEUE_PREFIX": f"t{run_id}-",
        "SQS_WAIT_TIME_SECONDS": "1",
        # Short, so a killed worker's message comes back within seconds (live workers extend it).
        "SQS_VISIBILITY_TIMEOUT": "12",
        "OPENAI_TIMEOUT_SECONDS": "3",
        "TWILIO_TIMEOUT_SECONDS": "3",
        # Bursts off unless a test turns them on (tests/harness/pipeline.py says why).
        "BURST_WINDOW_SECONDS": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    with pytest.MonkeyPatch.context() as patch:
        # Hermetic: a developer's shell (SYSTEM_PROMPT, SQS_FIFO, …) must not change what tests see.
        for name in Settings.model_fields:
            patch.delenv(name.upper(), raising=False)
        # With either set, the twilio SDK rewrites every URL's host, stand-in included.
        patch.delenv("TWILIO_EDGE", raising=False)
        patch.delenv("TWILIO_REGION", raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        init_queues(get_settings())
        try:
            yield env
        finally:
            delete_keys_with_prefix(env["REDIS_URL"], env["REDIS_KEY_PREFIX"])
    get_settings.cache_clear()


@pytest.fixture
def stack_factory(
    pipeline_env: dict[str, str], twilio_standin: RunningStandin, openai_standin: RunningStandin, log_dir: Path
) -> Iterator[Callable[..., Stack]]:
    """Make deployments with their own queues and Redis keys (and any env overrides); stopped after the test."""
    stacks: list[Stack] = []

    def make(**overrides: str) -> Stack:
        stack = make_stack(pipeline_env, twilio_standin, openai_standin, log_dir, **overrides)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()
        delete_keys_with_prefix(stack.env["REDIS_URL"], stack.env["REDIS_KEY_PREFIX"])


@pytest.fixture
def stack(stack_factory: Callable[..., Stack]) -> Stack:
    """A deployment on its own queues, with gunicorn and one worker (threads, concurrency 8) running."""
    deployment = stack_factory()
    deployment.start_web()
    deployment.start_worker(concurrency=8)
    return deployment
