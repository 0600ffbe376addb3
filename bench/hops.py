"""The per-hop breakdown of a run: the worker's `switchboard_hop_seconds` histogram, scraped before and after.

The worker times every pipeline delivery in phases (tasks/hop_timings.py: queue, dispatch, delayed,
run, publish, ack, per stage intake, complete, reply) and serves the histogram on its metrics port.
The bench scrapes it when the traffic starts and once every reply is in, and reports, per stage and
phase, the number of observations, their mean (sum / count, exact) and p50 (from the buckets, linear
within a bucket as Prometheus's histogram_quantile does: as fine as the buckets, 0.5 ms to 30 s).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

METRIC = "switchboard_hop_seconds"
STAGES = ("intake", "complete", "reply")
PHASES = ("queue", "dispatch", "delayed", "run", "publish", "ack")


@dataclass
class Histogram:
    buckets: dict[float, float] = field(default_factory=dict)  # upper bound (inf last) -> cumulative count
    sum: float = 0.0
    count: float = 0.0

    def minus(self, earlier: Histogram | None) -> Histogram:
        if earlier is None:
            return self
        return Histogram({le: n - earlier.buckets.get(le, 0.0) for le, n in self.buckets.items()},
                         self.sum - earlier.sum, self.count - earlier.count)


Snapshot = dict[tuple[str, str], Histogram]  # (stage, phase) -> histogram


def parse(text: str) -> Snapshot:
    """The hop histograms in a Prometheus text exposition."""
    found: Snapshot = {}
    for family in text_string_to_metric_families(text):
        if family.name != METRIC:
            continue
        for sample in family.samples:
            key = (sample.labels.get("stage", ""), sample.labels.get("phase", ""))
            histogram = found.setdefault(key, Histogram())
            if sample.name.endswith("_bucket"):
                histogram.buckets[float(sample.labels["le"])] = float(sample.value)
            elif sample.name.endswith("_sum"):
                histogram.sum = float(sample.value)
            elif sample.name.endswith("_count"):
                histogram.count = float(sample.value)
    return found


def scrape(url: str | None, timeout: float = 5.0) -> Snapshot | None:
    """The worker's hop histograms now; None when there is no worker or it does not answer."""
    if not url:
        return None
    try:
        response = requests.get(f"{url}/metrics", timeout=timeout)
        response.raise_for_status()
    except requests.RequestException:
        return None
    return parse(response.text)


def quantile(q: float, histogram: Histogram) -> float | None:
    """The q-quantile estimated from cumulative buckets, as Prometheus's histogram_quantile does."""
    if histogram.count <= 0:
        return None
    rank = q * histogram.count
    lower, below = 0.0, 0.0
    for upper in sorted(histogram.buckets):
        cumulative = histogram.buckets[upper]
        if cumulative >= rank:
            if math.isinf(upper):
                return lower  # beyond the last finite bucket: its bound is all that is known
            inside = cumulative - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = upper, cumulative
    return lower


def breakdown(before: Snapshot | None, after: Snapshot | None) -> dict[str, dict[str, dict[str, Any]]] | None:
    """{stage: {phase: {n, mean_ms, p50_ms}}} of what happened between two scrapes."""
    if after is None:
        return None
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for (stage, phase), histogram in sorted(after.items()):
        window = histogram.minus((before or {}).get((stage, phase)))
        if window.count <= 0:
            continue
        p50 = quantile(0.5, window)
        result.setdefault(stage, {})[phase] = {
            "n": int(window.count), "mean_ms": round(window.sum / window.count * 1000, 2),
            "p50_ms": None if p50 is None else round(p50 * 1000, 2)}
    return result


def acks_caught_up(before: Snapshot | None, now: Snapshot | None) -> bool:
    """Every run in the window has been acknowledged: the last replies' deletes are in the scrape."""
    if now is None:
        return True
    for stage in STAGES:
        runs = _count(now, before, stage, "run")
        if runs and _count(now, before, stage, "ack") < runs:
            return False
    return True


def _count(now: Snapshot, before: Snapshot | None, stage: str, phase: str) -> float:
    histogram = now.get((stage, phase))
    return histogram.minus((before or {}).get((stage, phase))).count if histogram else 0.0


def per_message_ms(hops: Mapping[str, Mapping[str, Mapping[str, Any]]] | None,
                   key: str = "mean_ms") -> dict[str, float] | None:
    """Each phase summed over the three stages, per message: where one message's time went."""
    if not hops:
        return None
    totals: dict[str, float] = {}
    for stage in STAGES:
        for phase, numbers in (hops.get(stage) or {}).items():
            value = numbers.get(key)
            if value is not None:
                totals[phase] = round(totals.get(phase, 0.0) + value, 2)
    return {phase: totals[phase] for phase in PHASES if phase in totals}
