"""Prometheus metrics: every metric Switchboard exports is defined here (names are a public interface)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30)
END_TO_END_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)

WEBHOOK_REQUESTS = Counter(
    "switchboard_webhook_requests", "Inbound webhooks by outcome (queued, outboxed, duplicate, processed, "
    "forbidden, malformed, unavailable, too_large)", ["outcome"])
WEBHOOK_LATENCY = Histogram(
    "switchboard_webhook_latency_seconds", "Time to answer Twilio's inbound webhook", buckets=LATENCY_BUCKETS)
TASK_RUNS = Counter(
    "switchboard_task_runs", "Task runs by task and outcome (success, retry, failure)", ["task", "outcome"])
TASK_DURATION = Histogram(
    "switchboard_task_duration_seconds", "Task run time", ["task"], buckets=LATENCY_BUCKETS)
TASK_RETRIES = Counter(
    "switchboard_task_retries", "Retries by task and reason (transient, turn)", ["task", "reason"])
GAVE_UP = Counter(
    "switchboard_gave_up", "Messages answered with the apology or replies given up, by stage", ["stage"])
END_TO_END = Histogram(
    "switchboard_end_to_end_seconds", "From webhook receipt to Twilio accepting the reply's last part",
    buckets=END_TO_END_BUCKETS)
DELIVERY_STATUS = Counter(
    "switchboard_delivery_status", "Delivery status callbacks from Twilio by status", ["status"])
DELIVERY_FAILURES = Counter(
    "switchboard_delivery_failures", "Outbound messages Twilio reported failed or undelivered, by error code",
    ["error_code"])
