"""SendMessage failing for the worker only: every finished step's next link is owed, then published; all answered once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from localdev.moto_server import ExternalSqs, MotoServer
from localdev.polling import wait_for
from localdev.processes import start_worker
from switchboard.store import ConversationStore
from tests.faults.conftest import echo, replies_by_user, store_for, tally, wait_until_drained
from tests.harness.pipeline import Stack, new_message_sid, new_user
from tests.harness.sqs_faults import THROTTLING
from tests.harness.sqs_proxy import SqsProxy

pytestmark = pytest.mark.integration

SENDS = ("SendMessage", "SendMessageBatch")  # concurrent publishes to one queue go as a batch


@pytest.fixture
def proxy(moto: MotoServer | ExternalSqs) -> Iterator[SqsProxy]:
    running = SqsProxy(moto.endpoint_url).start()
    yield running
    running.stop()


def owed(store: ConversationStore, sids: list[str]) -> list[str]:
    return [sid for sid in sids if store.owed_link(sid) is not None]


def test_a_worker_that_cannot_send_to_sqs_owes_each_next_link_and_every_message_is_answered_once(
    stack_factory: Callable[..., Stack], proxy: SqsProxy, report: Callable[..., None]
) -> None:
    stack = stack_factory()
    stack.start_web()  # the web tier talks to SQS directly: its publishes succeed
    worker = start_worker({**stack.env, "SQS_ENDPOINT_URL": proxy.endpoint_url}, concurrency=4,
                          log_dir=stack.log_dir)
    stack.workers.append(worker)
    pid = worker.proc.pid if worker.proc else None
    store = store_for(stack)
    users = [new_user(), new_user()]
    expected: dict[str, list[str]] = {user: [] for user in users}
    sids: list[str] = []

    with proxy.injecting(THROTTLING, actions=SENDS):
        for i in range(2):
            for user in users:
                body = f"message {i} from {user[-4:]}"
                sid = new_message_sid()
                assert stack.send(body, user, message_sid=sid)[0] == 200
                expected[user].append(echo(body))
                sids.append(sid)
        # Intake ran for every message, and each could not publish `complete`: all four are owed.
        wait_for(lambda: len(owed(store, sids)) == len(sids), timeout=60, message="every next link owed")
        throttled = sum(count for (action, _), count in proxy.faulted().items() if action in SENDS)
        assert replies_by_user(stack, users) == {user: [] for user in users}

    for user in users:
        stack.wait_for_replies(user, len(expected[user]), timeout=90)
    wait_until_drained(stack, timeout=60)
    outcome = tally(expected, replies_by_user(stack, users))
    report(outcome=outcome, throttled_sends=throttled, pid_before=pid,
           pid_after=worker.proc.pid if worker.proc else None)
    assert (outcome.answered, outcome.missing, outcome.duplicated, outcome.out_of_order) == (4, 0, 0, 0)
    assert worker.is_running() and worker.proc is not None and worker.proc.pid == pid
    assert owed(store, sids) == [] and store.outbox_size() == 0
    assert "owed to the outbox relay" in worker.run_output()
