"""A real worker behind the SQS fault proxy answers every message once, in order, and never exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localdev.moto_server import ExternalSqs, MotoServer
from tests.faults.sqs_scenarios import SCENARIOS, Row, Scenario, run, table
from tests.harness.pipeline import make_stack
from tests.harness.sqs_proxy import SqsProxy
from tests.harness.standins import RunningStandin

pytestmark = pytest.mark.integration

# Short, so a message whose delete was refused comes back within seconds (6 is the settings' minimum).
VISIBILITY_TIMEOUT = "6"


@pytest.fixture(scope="module")
def proxy(moto: MotoServer | ExternalSqs) -> Iterator[SqsProxy]:
    """One proxy for the module; each scenario switches its own rules on and off."""
    running = SqsProxy(moto.endpoint_url, seed=8).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def rows(request: pytest.FixtureRequest, proxy: SqsProxy) -> Iterator[list[Row]]:
    """Every scenario's row; the table is printed once the module is done, even without -s."""
    collected: list[Row] = []
    yield collected
    seen = ", ".join(f"{protocol} {action} {count}" for (protocol, action), count in sorted(proxy.seen().items()))
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n\nSQS answers, real worker behind the fault proxy (web talks to moto directly)\n"
              + table(collected) + f"\ncalls the proxy saw: {seen}")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_the_worker_answers_every_message_once_in_order_and_keeps_running(
    scenario: Scenario, proxy: SqsProxy, rows: list[Row], pipeline_env: dict[str, str],
    twilio_standin: RunningStandin, openai_standin: RunningStandin, log_dir: Path,
    record_property: Callable[[str, object], None],
) -> None:
    stack = make_stack(pipeline_env, twilio_standin, openai_standin, log_dir,
                       SQS_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT)
    try:
        stack.start_web()
        worker = stack.start_worker(sqs_endpoint_url=proxy.endpoint_url, concurrency=4)

        row = run(scenario, stack, worker, proxy)

        rows.append(row)
        record_property("row", str(row))  # a plain string: reports cross process boundaries (pytest-xdist)
        assert row.faulted_calls > 0, "the fault never reached the worker's calls"
        assert "Unrecoverable error" not in worker.run_output(), worker.log_tail()
        assert row.holds(), f"{row}\n{worker.log_tail(60)}"
    finally:
        stack.stop()
