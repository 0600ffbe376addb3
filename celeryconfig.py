"""Celery's own settings, derived from switchboard.settings.Settings (the one source of configuration).

Read by `app.config_from_object("celeryconfig")` in tasks/celery.py. It imports nothing from
tasks/: it is plain settings, so loading it never loads the app it configures. The comment above
each SQS option says why it is set; docs/reliability.md tells the whole delivery story.
"""

from urllib.parse import quote, urlsplit

from kombu.entity import Queue

from switchboard.clients.sqs_admin import STAGES, queue_names
from switchboard.settings import get_settings

_settings = get_settings()
_names = queue_names(_settings)


def _broker_url() -> str:
    # kombu takes the SQS endpoint from the URL's host and port; a bare sqs:// means AWS.
    credentials = ""
    if _settings.aws_access_key_id and _settings.aws_secret_access_key:
        secret = _settings.aws_secret_access_key.get_secret_value()
        credentials = f"{quote(_settings.aws_access_key_id, safe='')}:{quote(secret, safe='')}@"
    if _settings.sqs_endpoint_url is None:
        return f"sqs://{credentials}"
    return f"sqs://{credentials}{urlsplit(_settings.sqs_endpoint_url).netloc}"


broker_url = _broker_url()
# Our subclass of kombu's SQS transport: it never creates queues, and turns SQS's error answers
# into backoff and faults instead of a worker exit (kombu 5.7 raises them inside the event loop).
broker_transport = "tasks.sqs_transport:Transport"
broker_connection_retry_on_startup = True
broker_transport_options = {
    "region": _settings.aws_region,
    # kombu has no endpoint_url option: this picks http (a local SQS) or https.
    "is_secure": _settings.sqs_is_secure,
    # One SQS account can hold several deployments; each finds only its own queues.
    "queue_name_prefix": _settings.sqs_queue_prefix,
    # Only for queues kombu would create, which tasks/sqs_transport.py forbids (they would lack their
    # dead-letter redrive); `switchboard queues init` sets it on ours.
    "visibility_timeout": _settings.sqs_visibility_timeout,
    # Long polling: an empty queue costs one ReceiveMessage per wait, not one per poll (20 s on AWS,
    # 1 s on a local endpoint unless SQS_WAIT_TIME_SECONDS says otherwise).
    "wait_time_seconds": _settings.long_poll_seconds,
    # At kombu's default of 1 s the worker idles after every batch; 0 spins and starves the broker.
    "polling_interval": _settings.sqs_polling_interval,
    # A broker that accepts connections but never answers must not hold a publish for minutes.
    # The worker's own polls go through kombu's async client instead (bounded at wait + 5 s in
    # tasks/sqs_transport.py). One retry, in boto's "standard" mode, absorbs a single throttle
    # (its retry quota stops retrying when SQS keeps failing); Celery owns every other retry.
    "client-config": {
        "connect_timeout": 2,
        "read_timeout": max(5, _settings.long_poll_seconds + 5),
        "retries": {"mode": "standard", "total_max_attempts": 2},
    },
}

task_default_queue = _names.stage("intake")
# A worker started without -Q consumes every stage. Every publish names its queue (tasks/links.py).
task_queues = [Queue(_names.stage(stage)) for stage in STAGES]  # type: ignore[no-untyped-call]  # kombu: unannotated
task_create_missing_queues = True
task_serializer = "json"
accept_content = ["json"]

# At-least-once: the message is deleted only after the task finished, and a killed worker's
# message goes back to the queue; a failed task is left for SQS to redeliver and dead-letter.
task_acks_late = True
task_reject_on_worker_lost = True
task_acks_on_failure = False
task_acks_on_timeout = False
# A prefetched message's visibility clock runs while it waits; one at a time keeps that wait short.
worker_prefetch_multiplier = 1

# SQS has no result backend; the chain passes ids, never results.
task_ignore_result = True
result_backend = None

# SQS has no fanout: remote control would only create orphan queues. Task events go over Redis
# instead (tasks/monitoring.py), for Flower.
worker_enable_remote_control = False
worker_send_task_events = True
task_send_sent_event = False
# One exchange per deployment (its key prefix), so deployments sharing a Redis see only their own events.
event_exchange = _settings.redis_key_prefix.rstrip(":") + ".celeryev"

# With the client-config above, a publish to an endpoint that hangs gives up in seconds, not minutes;
# the webhook's outbox and the relay own every longer retry.
task_publish_retry_policy = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
worker_hijack_root_logger = False
