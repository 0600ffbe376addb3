"""The worker's hop histograms as the bench reads them: parsed, subtracted, summarised, p50 from buckets."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bench.hops import Histogram as Hist
from bench.hops import acks_caught_up, breakdown, parse, per_message_ms, quantile

BUCKETS = (0.001, 0.01, 0.1, 1.0)


def exposition(observations: dict[tuple[str, str], list[float]]) -> str:
    registry = CollectorRegistry()
    hops = Histogram("switchboard_hop_seconds", "hops", ["stage", "phase"], buckets=BUCKETS, registry=registry)
    other = Histogram("switchboard_task_duration_seconds", "tasks", ["task"], registry=registry)
    other.labels(task="x").observe(5)
    for (stage, phase), values in observations.items():
        for value in values:
            hops.labels(stage=stage, phase=phase).observe(value)
    return generate_latest(registry).decode()


def test_it_reads_only_the_hop_histogram_with_its_buckets_sum_and_count() -> None:
    snapshot = parse(exposition({("intake", "queue"): [0.005, 0.05], ("reply", "ack"): [0.0005]}))

    assert set(snapshot) == {("intake", "queue"), ("reply", "ack")}
    queue = snapshot[("intake", "queue")]
    assert queue.count == 2
    assert queue.sum == pytest.approx(0.055)
    assert queue.buckets == {0.001: 0, 0.01: 1, 0.1: 2, 1.0: 2, float("inf"): 2}


def test_the_median_is_interpolated_within_its_bucket_as_prometheus_does() -> None:
    # 4 observations: 1 below 1 ms, 3 between 10 and 100 ms. Rank 2 lies a third of the way into (10, 100].
    histogram = Hist({0.001: 1, 0.01: 1, 0.1: 4, 1.0: 4, float("inf"): 4}, sum=0.2, count=4)

    assert quantile(0.5, histogram) == pytest.approx(0.01 + 0.09 * (1 / 3))
    assert quantile(0.25, histogram) == pytest.approx(0.001)


def test_a_median_past_the_last_finite_bucket_is_that_bucket_s_bound() -> None:
    histogram = Hist({0.001: 0, 1.0: 0, float("inf"): 3}, sum=30, count=3)

    assert quantile(0.5, histogram) == 1.0
    assert quantile(0.5, Hist()) is None


def test_the_breakdown_covers_only_what_happened_between_the_two_scrapes() -> None:
    before = parse(exposition({("intake", "run"): [0.5, 0.5]}))
    after = parse(exposition({("intake", "run"): [0.5, 0.5, 0.004, 0.006], ("intake", "ack"): [0.002]}))

    hops = breakdown(before, after)

    assert hops == {"intake": {"ack": {"n": 1, "mean_ms": 2.0, "p50_ms": pytest.approx(5.5, abs=0.01)},
                               "run": {"n": 2, "mean_ms": 5.0, "p50_ms": pytest.approx(5.5, abs=0.01)}}}
    assert breakdown(before, None) is None


def test_acks_have_caught_up_once_every_stage_has_as_many_acks_as_runs() -> None:
    behind = parse(exposition({("reply", "run"): [0.01, 0.01], ("reply", "ack"): [0.01]}))
    level = parse(exposition({("reply", "run"): [0.01, 0.01], ("reply", "ack"): [0.01, 0.01]}))

    assert not acks_caught_up(None, behind)
    assert acks_caught_up(None, level)
    assert acks_caught_up(None, None)  # no worker to wait for


def test_a_message_s_time_per_phase_is_each_stage_s_mean_summed_in_phase_order() -> None:
    hops = {"intake": {"run": {"mean_ms": 2.0}, "queue": {"mean_ms": 10.0}},
            "complete": {"queue": {"mean_ms": 5.5}, "publish": {"mean_ms": 1.0}},
            "reply": {"ack": {"mean_ms": 3.0}}}

    totals = per_message_ms(hops)

    assert totals == {"queue": 15.5, "run": 2.0, "publish": 1.0, "ack": 3.0}
    assert list(totals or {}) == ["queue", "run", "publish", "ack"]
    assert per_message_ms(None) is None
