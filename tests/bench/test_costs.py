"""SQS requests in dollars at the FIFO price: per million replies and per idle worker-month."""

from __future__ import annotations

import pytest

from bench.costs import chunks_per_request, cost_table, usd
from tests.bench.sample_runs import run


def test_a_million_requests_cost_fifty_cents_and_every_64_kb_chunk_is_one_more_request() -> None:
    assert usd(1_000_000) == pytest.approx(0.50)
    assert usd(1_000_000, chunks=2) == pytest.approx(1.00)
    assert usd(None) is None


def test_a_full_batch_of_the_largest_message_sets_the_chunks_per_request() -> None:
    assert chunks_per_request(None) == 1
    assert chunks_per_request(1500) == 1  # 10 x 1.5 KB = 15 KB: one chunk
    assert chunks_per_request(7000) == 2  # 10 x 7 KB = 70 KB: two


def test_the_table_prices_each_reply_run_and_each_idle_worker() -> None:
    runs = {"queue-0s": run("1", sqs={"SendMessage": 30, "DeleteMessage": 30, "ReceiveMessage": 5}, replies=10),
            "seq-new": run("5", sqs={"SendMessage": 9, "ReceiveMessage": 9, "DeleteMessage": 9}, replies=3)}
    idle = [{"settings": "emulator", "env": {}, "seconds": 20.0, "by_action": {"ReceiveMessage": 60},
             "requests": 60, "requests_per_hour": 10800.0},
            {"settings": "AWS-like", "env": {"SQS_WAIT_TIME_SECONDS": "20"}, "seconds": 60.0,
             "by_action": {"ReceiveMessage": 9}, "requests": 9, "requests_per_hour": 540.0}]

    table = cost_table(runs, idle)

    burst, one = table["per_reply"]
    assert (burst["run"], burst["requests_per_reply"], burst["usd_per_million_replies"]) == ("queue-0s", 6.5, 3.25)
    assert burst["by_action_per_reply"] == {"SendMessage": 3.0, "DeleteMessage": 3.0, "ReceiveMessage": 0.5}
    assert (one["run"], one["requests_per_reply"], one["usd_per_million_replies"]) == ("seq-new", 9.0, 4.5)
    emulator, aws = table["idle_worker"]
    assert emulator["usd_per_worker_month"] == pytest.approx(10800 * 730 * 0.5 / 1e6, abs=0.001)
    assert aws["usd_per_worker_month"] == pytest.approx(540 * 730 * 0.5 / 1e6, abs=0.001)


def test_runs_without_replies_are_left_out_of_the_per_reply_rows() -> None:
    table = cost_table({"floor-send": run("2", app="floor-send", concurrency=None)}, None)

    assert table["per_reply"] == []
    assert table["idle_worker"] == []
