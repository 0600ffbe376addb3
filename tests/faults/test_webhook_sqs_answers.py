"""The webhook's own SendMessage answered with an error: Twilio still gets 200, the outbox keeps the message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.moto_server import ExternalSqs, MotoServer
from tests.faults.outage_support import tally, wait_until_settled
from tests.harness import sqs_faults
from tests.harness.pipeline import make_stack, new_user
from tests.harness.sqs_proxy import SqsProxy
from tests.harness.standins import RunningStandin

pytestmark = pytest.mark.integration

# Each answer SQS can give a SendMessage that did not put the message on the queue.
ANSWERS = {
    "throttling": sqs_faults.THROTTLING,
    "access denied": sqs_faults.ACCESS_DENIED,
    "empty 200, not sent": sqs_faults.EmptyBody(forward=False),
    "500": sqs_faults.INTERNAL_ERROR,
}


@pytest.fixture
def proxy(moto: MotoServer | ExternalSqs) -> Iterator[SqsProxy]:
    running = SqsProxy(moto.endpoint_url, seed=3).start()
    yield running
    running.stop()


def test_every_message_the_webhook_could_not_queue_is_relayed_and_answered_once(
    proxy: SqsProxy, pipeline_env: dict[str, str], twilio_standin: RunningStandin,
    openai_standin: RunningStandin, log_dir: Path,
) -> None:
    stack = make_stack(pipeline_env, twilio_standin, openai_standin, log_dir)
    try:
        stack.start_web(sqs_endpoint_url=proxy.endpoint_url)
        stack.start_worker(concurrency=4)  # the worker (and its outbox relay) talks to SQS directly
        expected: dict[str, list[str]] = {}
        for name, answer in ANSWERS.items():
            user = new_user()
            with proxy.injecting(answer, ["SendMessage", "SendMessageBatch"]):
                statuses = [stack.send(f"{name} {i}", user)[0] for i in range(2)]
            assert statuses == [200, 200], name
            expected[user] = [f"echo: {name} {i}" for i in range(2)]

        for user, wanted in expected.items():
            stack.wait_for_replies(user, len(wanted), timeout=60)
        wait_until_settled(stack)
        counts = tally(expected, {user: stack.replies_to(user) for user in expected})
        print(f"\nwebhook SendMessage faults: {counts}")

        assert sum(count for (action, _), count in proxy.faulted().items() if action in ("SendMessage", "SendMessageBatch")) >= 8
        assert counts == {"sent": 8, "answered": 8, "duplicated": 0, "out_of_order": 0}
    finally:
        stack.stop()
