"""A stage's row: ✔ naming both queues, or ✘ with every finding and the fix once, in its own column."""

from __future__ import annotations

from collections.abc import Callable

from switchboard.operations.doctor.queue_checks import stage_result
from switchboard.operations.doctor.results import Status
from switchboard.settings import Settings


def test_a_stage_with_no_findings_names_its_queue_and_dead_letter_queue(make_settings: Callable[..., Settings]) -> None:
    result = stage_result("intake", make_settings(sqs_queue_prefix="prod-"), [])

    assert result.status is Status.OK
    assert "prod-intake.fifo (FIFO, visibility 60s, dead letters after 5 receives) and prod-intake-dlq.fifo" == (
        result.detail)


def test_findings_keep_their_problem_in_the_detail_and_their_fix_in_the_fix_column(
        make_settings: Callable[..., Settings]) -> None:
    result = stage_result("reply", make_settings(), [
        "dead-letter queue x-dlq.fifo does not exist: messages that fail every attempt have nowhere to go: "
        "run `switchboard queues init`",
        "queue x.fifo is not encrypted at rest: run `switchboard queues init` or update the stack",
    ])

    assert result.status is Status.FAIL
    assert result.detail == ("dead-letter queue x-dlq.fifo does not exist: messages that fail every attempt have "
                             "nowhere to go; queue x.fifo is not encrypted at rest")
    assert result.fix == "run `switchboard queues init` or update the stack"
