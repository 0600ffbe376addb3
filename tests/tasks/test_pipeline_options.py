"""pipeline_for's queue and FIFO options on every link, and the retry backoff's bounds."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"TWILIO_ACCOUNT_SID": "AC" + "b" * 32, "TWILIO_AUTH_TOKEN": "a1b2c3d4" * 4, "OPENAI_API_KEY": "sk-test",
            "CONVERSATION_ID_SECRET": "k" * 32}
SID, CONVERSATION = "SM" + "4" * 32, "c0ffee" * 4
STAGES = ("intake", "complete", "reply")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in Settings.model_fields:  # the outer shell's environment must not leak in
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def links() -> list:  # type: ignore[type-arg]
    """The chain's signatures; imported late so that the `env` fixture's settings are in place."""
    from tasks.links import pipeline_for

    return list(pipeline_for(SID, CONVERSATION).tasks)


def test_the_chain_runs_intake_complete_reply_on_the_message_ids(env: pytest.MonkeyPatch) -> None:
    chain = links()

    assert [link.task for link in chain] == [f"switchboard.{stage}" for stage in STAGES]
    assert all(tuple(link.args) == (SID, CONVERSATION) and link.immutable for link in chain)


def test_every_link_has_its_fifo_queue_group_and_deduplication_id(env: pytest.MonkeyPatch) -> None:
    chain = links()

    assert [link.options["queue"] for link in chain] == ["intake.fifo", "complete.fifo", "reply.fifo"]
    assert all(link.options["MessageGroupId"] == CONVERSATION for link in chain)
    dedup_ids = [link.options["MessageDeduplicationId"] for link in chain]
    assert dedup_ids == [f"{SID}-{stage}" for stage in STAGES]


def test_an_owed_chain_starts_at_its_stage_with_deduplication_ids_of_its_own_generation(
    env: pytest.MonkeyPatch,
) -> None:
    from tasks.links import pipeline_for

    chain = list(pipeline_for(SID, CONVERSATION, start="complete", generation="g1").tasks)

    assert [link.task for link in chain] == ["switchboard.complete", "switchboard.reply"]
    assert [link.options["MessageDeduplicationId"] for link in chain] == [f"{SID}-complete-g1", f"{SID}-reply-g1"]
    assert all(link.options["MessageGroupId"] == CONVERSATION for link in chain)


def test_on_standard_queues_there_are_no_fifo_options(env: pytest.MonkeyPatch) -> None:
    env.setenv("SQS_FIFO", "false")

    chain = links()

    assert [link.options["queue"] for link in chain] == list(STAGES)
    assert not any({"MessageGroupId", "MessageDeduplicationId"} & set(link.options) for link in chain)


def test_importing_tasks_and_building_a_chain_connects_nowhere() -> None:
    script = (
        "import socket\n"
        "def refuse(*args, **kwargs): raise SystemExit(f'tried to connect: {args!r}')\n"
        "socket.socket.connect = socket.socket.connect_ex = refuse\n"
        "socket.create_connection = refuse\n"
        "import tasks\n"
        "from tasks.links import pipeline_for\n"
        "pipeline_for('SM1', 'conversation')\n"
        "tasks.app.conf.broker_url\n"
    )
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(REQUIRED, PYTHONPATH=str(REPO_ROOT), SQS_ENDPOINT_URL="http://127.0.0.1:1",
               REDIS_URL="redis://127.0.0.1:1/0")

    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 0, done.stderr


# --- backoff ---------------------------------------------------------------------------------------


def samples(attempt: int, retry_after: float | None = None, cap: float | None = 20.0) -> list[float]:
    from tasks.backoff import backoff_seconds

    return [backoff_seconds(attempt, retry_after, cap) for _ in range(200)]


def test_backoff_grows_with_each_attempt() -> None:
    for attempt in range(3):
        assert max(samples(attempt)) < min(samples(attempt + 2))
    assert all(1.0 <= delay <= 2.0 for delay in samples(0))


def test_backoff_stays_within_the_cap() -> None:
    assert all(10.0 <= delay <= 20.0 for delay in samples(30, cap=20.0))


def test_retry_after_is_a_floor_but_never_above_the_cap() -> None:
    assert samples(0, retry_after=7.5) == [7.5] * 200
    assert samples(0, retry_after=300.0, cap=20.0) == [20.0] * 200


def test_the_default_cap_is_a_third_of_the_visibility_timeout(env: pytest.MonkeyPatch) -> None:
    env.setenv("SQS_VISIBILITY_TIMEOUT", "30")

    assert all(delay <= 10.0 for delay in samples(10, cap=None))
    assert samples(0, retry_after=60.0, cap=None) == [10.0] * 200


def test_a_process_that_only_publishes_loads_no_task_module_and_no_worker_part() -> None:
    script = (
        "import sys\n"
        "import celeryconfig\n"
        "assert not [m for m in sys.modules if m.startswith('tasks')], 'celeryconfig loaded the app it configures'\n"
        "from tasks.publishing import Publisher\n"
        "from tasks.links import pipeline_for\n"
        "pipeline_for('SM1', 'conversation')\n"
        "loaded = {'tasks.pipeline', 'tasks.pipeline_task', 'tasks.worker_steps', 'tasks.visibility',\n"
        "          'tasks.outbox_relay', 'tasks.owed_links', 'tasks.task_metrics'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(REQUIRED, PYTHONPATH=str(REPO_ROOT), SQS_ENDPOINT_URL="http://127.0.0.1:1",
               REDIS_URL="redis://127.0.0.1:1/0")

    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 0, done.stderr


def test_the_worker_loads_the_tasks_and_its_reliability_step(env: pytest.MonkeyPatch) -> None:
    from tasks.celery import WORKER_MODULES, app  # late: the app reads Settings as it is configured

    assert set(WORKER_MODULES) <= set(app.loader.default_modules)
    assert "tasks.worker_steps:ReliabilityStep" in app.steps["worker"]
