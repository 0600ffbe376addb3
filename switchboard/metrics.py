"""Prometheus metrics: every metric Switchboard exports is defined here (names are a public interface)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
# Where one delivery's time goes in the worker (tasks/hop_timings.py); phases: queue (publish began ->
# received), dispatch (received -> started), delayed (the same for a countdown retry), run, publish (the
# links it published), ack (the delete). Fine buckets: most phases take milliseconds.
HOP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
HOP_SECONDS = Histogram(
    "switchboard_hop_seconds", "One pipeline delivery's time in the worker, by stage (intake, complete, reply) "
    "and phase (queue, dispatch, delayed, run, publish, ack)", ["stage", "phase"], buckets=HOP_BUCKETS)
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

# --- SQS answers (tasks/sqs_faults.py, tasks/visibility.py) ------------------------------------------
SQS_ERRORS = Counter(
    "switchboard_sqs_errors", "SQS calls that got no usable answer, by action and kind (transient, "
    "configuration, rejected)", ["action", "kind"])
SQS_FAULT = Gauge(
    "switchboard_sqs_fault", "1 while this process sees a configuration fault on a queue (cause: the SQS code)",
    ["queue", "cause"])
SQS_VISIBILITY_FAILED = Counter(
    "switchboard_sqs_visibility_failed", "Held messages whose visibility the heartbeat could not extend, "
    "by code (Failed entries of a batch answer, or the error of the whole call)", ["code"])

# --- chain continuity, lost records, Twilio credentials (tasks/owed_links.py, switchboard/domain/lost_records.py) ---
OWED_LINKS = Counter(
    "switchboard_owed_links", "Links of a chain (next step, retry, give-up reply) a task could not publish and "
    "recorded as owed for the outbox relay, by stage", ["stage"])
OUTBOX_PARKED = Counter(
    "switchboard_outbox_parked", "Outbox entries set aside because SQS refused their publish (not a transient "
    "or configuration fault)")
RECORDS_REBUILT = Counter(
    "switchboard_records_rebuilt", "Message records found missing and rebuilt from Twilio's copy, by stage",
    ["stage"])
DROPPED = Counter(
    "switchboard_dropped", "Accepted messages that could not be answered at all (record lost and not "
    "rebuildable), by reason", ["reason"])
OPENAI_CREDENTIALS_ERRORS = Counter(
    "switchboard_openai_credentials_errors", "OpenAI calls refused with 401/403 (a rotated, revoked or wrong "
    "key); the message is kept and retried slowly")
TWILIO_CREDENTIALS_ERRORS = Counter(
    "switchboard_twilio_credentials_errors", "Sends Twilio refused with 401/403 (rotated or wrong token); the "
    "reply is kept and retried slowly")
# --- Twilio pacing (issue 13: switchboard/clients/twilio_pacing.py) ---------------------------------------
TWILIO_RATE_LIMITED = Counter(
    "switchboard_twilio_rate_limited", "Twilio answers refusing a request for rate, by code (20429: the account's "
    "concurrent requests, 63018: the sender's rate); never processed, retried after a hold", ["code"])
TWILIO_SLOTS = Counter(
    "switchboard_twilio_slots", "Twilio requests by how they got a request slot (TWILIO_MAX_CONCURRENT_REQUESTS): "
    "free (at once), waited, unavailable (none came in time: the task tries later), held (Twilio asked us to "
    "hold off: not sent)", ["outcome"])

# --- spend, moderation, privacy (issue 9) -------------------------------------------------------------
COMPLETIONS_REFUSED = Counter(
    "switchboard_completions_refused", "Chat messages not sent to the model because a limit was reached, by "
    "reason (sender-cap, over-budget; quiet: refused again after the notice)", ["reason"])
MODERATION_CHECKS = Counter(
    "switchboard_moderation_checks", "Moderation checks before a completion, by outcome (passed, flagged, "
    "unavailable: checked nothing and answered anyway)", ["outcome"])
FORGET_REQUESTS = Counter(
    "switchboard_forget_requests", "Requests to delete what is stored about a person, by source (user, operator)",
    ["source"])

# --- opt-out at intake (issue 11: switchboard/domain/opt_out.py) ------------------------------------------
OPT_OUTS = Counter(
    "switchboard_opt_outs", "Opt-out state changes a user's message made (STOP: change=out, START: change=in), "
    "by channel (whatsapp, sms)", ["channel", "change"])
OPTED_OUT_MESSAGES = Counter(
    "switchboard_opted_out_messages", "Messages from opted-out users, recorded but neither answered nor sent "
    "to the model, by channel", ["channel"])

# --- media (issue 11: switchboard/domain/media.py) ------------------------------------------------------
MEDIA_ITEMS = Counter(
    "switchboard_media_items", "Media items of messages being answered, by kind (audio, image, pdf, video, other) "
    "and outcome (read, cached: a stored transcript, failed: a note says why, unreadable: a type not taken, "
    "off: MEDIA_ENABLED=false, retry: a transient failure the step retries)", ["kind", "outcome"])

# --- WhatsApp delivery (issue 11: switchboard/domain/delivery.py, switchboard/clients/twilio_typing.py) ------
TYPING_INDICATORS = Counter(
    "switchboard_typing_indicators", "Typing indicators asked of Twilio while an answer is written, by outcome "
    "(shown, refused: Twilio answered with an error, unreachable: a timeout or connection error, stale: not "
    "sent because it waited too long for a thread, busy: every Twilio request slot was taken, off: "
    "WHATSAPP_TYPING_INDICATOR=false, error: a bug, logged)",
    ["outcome"])
REPLIES_UNDELIVERED = Counter(
    "switchboard_replies_undelivered", "Replies not sent, by reason (outside-window: the 24-hour window closed "
    "and no template is configured; template-refused: Twilio refused the template; opted-out: the user sent STOP, "
    "or Twilio answered 21610)", ["reason"])
TEMPLATE_REPLIES = Counter(
    "switchboard_template_replies", "Replies sent as the WhatsApp template because the 24-hour window had closed, "
    "by cause (window: by our clock, 63016: Twilio refused the free-form message)", ["cause"])
PART_ORDER = Counter(
    "switchboard_part_order", "Parts after the first of a WhatsApp answer, by what let them go (sent: Twilio "
    "reported the previous part sent, failed: it reported it failed, wait-ran-out: PART_ORDER_WAIT_SECONDS passed "
    "without a report)", ["after"])

# --- history folded into a running summary (issue 11: switchboard/domain/summaries.py) --------------------
HISTORY_FOLDS = Counter(
    "switchboard_history_folds", "Folds of the turns that overflowed a history into its running summary, by "
    "outcome (folded; discarded: another run, a /reset or a forget ended it first; dropped: the summary could "
    "not be made, so the old summary was kept and the turns dropped)", ["outcome"])

# --- hand-off to a person (issue 14: switchboard/domain/handoff.py) ----------------------------------------
# switchboard_paused_conversations (a gauge) is read at scrape time: switchboard/operations/handoff_metrics.py.
HANDOFFS = Counter(
    "switchboard_handoffs", "Conversations paused for a person, by source (command: the user asked; tool: the "
    "model called hand_off_to_person)", ["source"])
HANDOFF_NOTICES = Counter(
    "switchboard_handoff_notices", "Notices of a hand-off POSTed to HANDOFF_WEBHOOK_URL, by outcome (sent; "
    "refused: a 4xx, not retried, the inbox still shows the pause; failed: a timeout or 5xx, retried)",
    ["outcome"])
KEPT_FOR_OPERATOR = Counter(
    "switchboard_kept_for_operator", "Messages of paused conversations kept for the operator instead of being "
    "answered by the model")

# --- tools (issue 14: switchboard/tools/loop.py) -----------------------------------------------------------
TOOL_CALLS = Counter(
    "switchboard_tool_calls", "Tool calls the model asked for, by tool (a declared or built-in name, else unknown) "
    "and outcome (answered: the tool's answer, a 4xx included, went to the model; refused: arguments outside "
    "the tool's schema; transient: a timeout, 429 or 5xx, the step retries)", ["tool", "outcome"])
