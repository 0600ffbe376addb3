"""Every goal's verdict from the numbers: issue 13's and the earlier ones, within one run."""

from __future__ import annotations

from typing import Any

from bench.comparisons import compare
from tests.bench.sample_runs import results, run


def verdicts(runs: dict[str, dict[str, Any]], **kwargs: Any) -> dict[str, bool | None]:
    r = results(runs, **kwargs)
    comparisons = compare(r["runs"], r["ceiling"], r["bare_hops"], r["idle"])
    return {g["id"]: g["met"] for g in comparisons["goals"]}


def good_runs() -> dict[str, dict[str, Any]]:
    return {
        "queue-0s": run("1", ack_p50=400, ack_p99=700, ack_max=800, replies=180, replies_per_s=18,
                        sqs={"SendMessage": 180, "ReceiveMessage": 90, "DeleteMessageBatch": 90, "SendMessageBatch": 90}),
        "direct-0s": run("1", app="direct", ack_p50=500, ack_p99=600, replies=180, replies_per_s=100, sqs={}),
        "floor-send": run("2", app="floor-send", ack_p50=500, ack_p99=800, concurrency=None),
        "inflight-c200": run("4", latency=2, concurrency=200, in_flight=200, users=200, replies_per_s=20),
        "seq-new": run("5", e2e_p50=70, sequential=True, replies=30, users=30),
        "seq-next": run("5", e2e_p50=90, sequential=True, replies=30, users=1),
    }


def test_a_run_that_meets_every_issue_13_goal_is_judged_so() -> None:
    got = verdicts(good_runs(), ceiling_per_s=20, bare_p50=55)

    assert {k: v for k, v in got.items() if k.startswith("13.")} == {
        "13.1": True, "13.2": True, "13.3": True, "13.4": True, "13.5": True, "13.6": True, "13.7": True}


def test_each_goal_fails_on_its_own_number() -> None:
    runs = good_runs()
    runs["queue-0s"] = run("1", ack_p50=400, ack_p99=700, ack_max=1200, replies=10, replies_per_s=10,
                           sqs={"SendMessage": 30, "DeleteMessage": 30, "ReceiveMessage": 5})
    runs["inflight-c200"] = run("4", latency=2, concurrency=200, in_flight=70, users=200)
    runs["seq-next"] = run("5", e2e_p50=339, sequential=True, replies=30, users=1, duplicated=1)

    got = verdicts(runs, ceiling_per_s=20, bare_p50=40)

    assert got["13.1"] is False  # 6.5 requests per reply
    assert got["13.2"] is False  # p99 under the floor, but one ack took 1.2 s
    assert got["13.3"] is False  # 70 - 40 = 30 ms of overhead
    assert got["13.4"] is False  # 339 / 70
    assert got["13.5"] is False  # 10 replies/s of a 20/s ceiling
    assert got["13.6"] is False  # 70 in flight
    assert got["13.7"] is False  # a duplicate


def test_the_ack_goal_is_the_webhook_p99_against_the_floor_measured_in_the_same_run() -> None:
    runs = good_runs()
    runs["floor-send"] = run("2", app="floor-send", ack_p50=500, ack_p99=690, concurrency=None)

    assert verdicts(runs)["13.2"] is False  # 700 ms against 690: x1.01


def test_one_at_a_time_runs_never_count_as_the_best_throughput() -> None:
    runs = good_runs()
    runs["seq-new"] = run("5", e2e_p50=70, sequential=True, replies=30, replies_per_s=19.9)
    r = results(runs, ceiling_per_s=20)

    three = compare(r["runs"], r["ceiling"])["3_end_to_end_vs_ceiling"]

    assert three["best_run"] == "queue-0s"


def test_goals_a_run_did_not_measure_are_neither_met_nor_failed() -> None:
    got = verdicts({"queue-0s": run("1")}, bare_p50=None)

    assert got["13.2"] is None  # no floor
    assert got["13.3"] is None and got["13.4"] is None  # no one-at-a-time runs
    assert got["13.6"] is None  # no run at 2 s
    assert got["E2b"] is None


def test_the_earlier_goals_are_kept() -> None:
    got = verdicts(good_runs(), ceiling_per_s=20)

    assert got["E1"] is True  # queue acks far from 15 s
    assert got["E2a"] is True  # 400/700 against 500/800
    assert got["E3"] is True  # 18 of 20 replies/s


def test_direct_modes_reorders_are_reported_but_not_judged_queue_modes_are() -> None:
    runs = good_runs()
    runs["direct-3s-burst"] = run("1", app="direct", replies=120, out_of_order=4)

    r = results(runs)
    goal = next(g for g in compare(r["runs"], r["ceiling"], r["bare_hops"], r["idle"])["goals"] if g["id"] == "13.7")
    assert goal["met"] is True and "direct-3s-burst 4" in goal["numbers"]

    runs["queue-3s-burst"] = run("1", replies=120, out_of_order=1)
    assert verdicts(runs)["13.7"] is False
