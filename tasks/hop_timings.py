"""Where a pipeline message's time goes, hop by hop: the worker's `switchboard_hop_seconds{stage,phase}`.

Every publish is stamped with the wall-clock time it began, in a message header (`before_task_publish`,
in whichever process publishes: the web, the worker, the outbox relay). In the worker each delivery
of a pipeline step (stage intake, complete or reply) is then timed in phases:

| phase    | from -> to                                                                          |
| -------- | ----------------------------------------------------------------------------------- |
| queue    | the publish began -> this worker received it (the SendMessage, the wait in SQS, the  |
|          | receive that fetched it: a long poll that held it back shows here)                  |
| dispatch | received -> started on a pool thread (prefetch, the pool's own queue)                |
| delayed  | the same for a delivery with an ETA (a countdown retry or turn wait): the countdown |
| run      | started -> finished, less the publishes it made                                     |
| publish  | the publishes it made while running (the chain's next link, or a retry)             |
| ack      | the run ended -> its message deleted: the late ack waits for the worker's event loop, |
|          | which then makes the DeleteMessage (alone or in a batch)                            |

`queue` compares two clocks when the publisher is another host (NTP keeps them within milliseconds);
a negative difference counts as 0. The cost is a header, a few clock reads and histogram updates
per delivery: cheap enough to stay on in production. Registered by tasks/celery.py (the stamp, for
every publisher), tasks/pipeline_task.py (the Request class) and tasks/sqs_transport.py (the Message
class, whose `ack` is what the event loop runs).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from celery.signals import after_task_publish, before_task_publish, task_postrun, task_prerun
from celery.worker.request import Request
from kombu.transport import virtual

from switchboard.clients.sqs_admin import STAGES
from switchboard.metrics import HOP_SECONDS

PUBLISHED_AT_HEADER = "switchboard_published_at"


def observe(stage: str, phase: str, seconds: float) -> None:
    HOP_SECONDS.labels(stage=stage, phase=phase).observe(max(seconds, 0.0))


def stage_of_task(task: Any) -> str | None:
    """The pipeline stage a task runs (PipelineTask.stage), or None for any other task."""
    stage = getattr(task, "stage", None)
    return stage if stage in STAGES else None


class HopTimedRequest(Request):  # type: ignore[misc]  # celery has no type information
    """The worker's record of one delivery: times its queue, dispatch and ack phases.

    Celery builds it the moment the consumer takes the message off SQS, calls `on_accepted` from the
    pool thread that starts it, and `acknowledge` after the run (late acks).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hop_received = time.monotonic()
        self.hop_stage = stage_of_task(self.task)
        published = self._request_dict.get(PUBLISHED_AT_HEADER)
        if self.hop_stage is not None and isinstance(published, int | float):
            observe(self.hop_stage, "queue", time.time() - published)

    def on_accepted(self, pid: Any, time_accepted: float) -> None:
        if self.hop_stage is not None:  # `time_accepted` is the pool thread's monotonic clock
            observe(self.hop_stage, "delayed" if self.eta else "dispatch", time_accepted - self.hop_received)
        super().on_accepted(pid, time_accepted)

    def acknowledge(self) -> None:
        # Celery only schedules the ack here (it runs on the event loop); the message times the rest.
        if not self.acknowledged and isinstance(self._message, HopTimedMessage):
            self._message.hop_ack_asked = (self.hop_stage, time.monotonic())
        super().acknowledge()


class HopTimedMessage(virtual.Message):
    """A received SQS message whose ack times itself from the moment its task asked for it (phase `ack`)."""

    hop_ack_asked: tuple[str | None, float] | None = None

    def ack(self, multiple: bool = False) -> None:
        try:
            super().ack(multiple=multiple)  # type: ignore[no-untyped-call]  # kombu is untyped
        finally:
            asked = self.hop_ack_asked
            if asked is not None and asked[0] is not None:
                self.hop_ack_asked = None
                observe(asked[0], "ack", time.monotonic() - asked[1])


@dataclass
class _Run:
    stage: str
    started: float
    publishing: float = 0.0
    publishes: int = 0


# The task body, its chain's next publish and the signals below all run on one pool thread.
_local = threading.local()


@before_task_publish.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _stamp(headers: dict[str, Any], **_: Any) -> None:
    headers[PUBLISHED_AT_HEADER] = time.time()
    _local.publish_began = time.perf_counter()


@after_task_publish.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _published(**_: Any) -> None:
    began, run = getattr(_local, "publish_began", None), getattr(_local, "run", None)
    _local.publish_began = None
    if began is not None and run is not None:
        run.publishing += time.perf_counter() - began
        run.publishes += 1


@task_prerun.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _started(task: Any, **_: Any) -> None:
    stage = stage_of_task(task)
    _local.run = _Run(stage, time.perf_counter()) if stage is not None else None


@task_postrun.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _finished(**_: Any) -> None:
    run: _Run | None = getattr(_local, "run", None)
    _local.run = None
    if run is None:
        return
    observe(run.stage, "run", time.perf_counter() - run.started - run.publishing)
    if run.publishes:
        observe(run.stage, "publish", run.publishing)
