"""Runs as the bench records them, cut down to the numbers the comparisons, goals and tables read."""

from __future__ import annotations

from typing import Any


def run(comparison: str, app: str = "queue", *, ack_p50: float = 10.0, ack_p99: float = 20.0,
        ack_max: float | None = None, e2e_p50: float | None = 100.0, replies: int = 10,
        replies_per_s: float | None = 5.0, sqs: dict[str, int] | None = None, latency: float = 0.0,
        concurrency: int | None = 16, in_flight: int = 1, sequential: bool = False, lost: int = 0,
        duplicated: int = 0, out_of_order: int = 0, hops: dict[str, Any] | None = None,
        traffic: str = "60 senders x 3", users: int = 60) -> dict[str, Any]:
    by_action = sqs if sqs is not None else {"SendMessage": 3 * replies, "DeleteMessage": 3 * replies}
    answered = app != "floor-send" and not (app == "queue" and concurrency is None)
    result: dict[str, Any] = {
        "scenario": {"comparison": comparison, "app": app, "openai_latency": latency, "traffic": traffic,
                     "worker_concurrency": concurrency, "users": users, "sequential": sequential, "burst": 1},
        "ack_ms": {"p50": ack_p50, "p95": ack_p99, "p99": ack_p99, "max": ack_max or ack_p99, "n": replies},
        "acks_over_15s": 0, "not_200": 0, "messages": replies,
        "sqs": {"by_action": by_action, "total": sum(by_action.values()),
                "per_reply": round(sum(by_action.values()) / replies, 2) if answered else None},
        "completions_in_flight": {"max": in_flight, "series": [], "step_s": 0.25},
        "processes": {"available": True, "machine_cpu_percent": 50.0, "window_seconds": 1.0,
                      "roles": {"worker (celery)": {"cpu_percent": 10.0, "peak_rss_mb": 250.0}}},
        "hops": hops, "largest_body_bytes": None, "samples": {"ack_ms": [], "e2e_ms": []},
        "series": {"acks_per_s": [], "replies_per_s": []},
    }
    if answered:
        result.update({"e2e_ms": {"p50": e2e_p50, "p99": e2e_p50, "n": replies}, "replies": replies,
                       "replies_per_s": replies_per_s, "lost": lost, "duplicated": duplicated,
                       "out_of_order": out_of_order})
    return result


def results(runs: dict[str, dict[str, Any]], ceiling_per_s: float = 20.0, bare_p50: float | None = 60.0,
            idle: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "profile": "full", "command": "python -m bench run", "finished_at": "2026-12-02 06:00:00",
        "machine": {"cores": 2, "cpu_model": "test", "python": "3.11", "load_average_at_start": [0.5, 0.5, 0.5],
                    "load_average_at_end": [1.0, 1.0, 1.0]},
        "runs": runs,
        "ceiling": {"loops": [{"when": "start", "threads": 4, "backlog_per_queue": 0, "messages_per_s": ceiling_per_s}]},
        "bare_hops": None if bare_p50 is None else {"messages": 30, "misses": 0, "samples_ms": [],
                                                    "latency_ms": {"p50": bare_p50, "p99": bare_p50 + 5, "n": 30}},
        "idle": idle or [],
    }
