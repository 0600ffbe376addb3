"""One message's path through the pipeline (accepted → intake → completion → reply → delivered), with times.

Built from what the pipeline itself recorded: the message's record in Redis (ConversationStore.load),
each sent part's delivery status (the store's, from Twilio's status callbacks, else the Twilio
stand-in's own), and, when Flower answers, when each stage's task finished. A step the record shows
reached but no source dates is dated when the dev phone first saw it (`observed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from switchboard.store import StoredMessage

STEPS = ("accepted", "intake", "completion", "reply", "delivered")
ARRIVED = frozenset({"delivered", "read"})
NOT_DELIVERED = frozenset({"undelivered", "failed", "canceled"})
# The Flower task (switchboard.<stage>) whose end dates each middle step.
STAGE_OF_STEP = {"intake": "intake", "completion": "complete", "reply": "reply"}


@dataclass(frozen=True)
class Step:
    name: str
    reached: bool = False
    at: float | None = None  # Unix time
    detail: str = ""
    failed: bool = False


@dataclass(frozen=True)
class Evidence:
    """What is known of one inbound message right now."""

    webhook_status: int
    stored: StoredMessage | None
    part_statuses: Mapping[int, str] = field(default_factory=dict)  # part index -> furthest delivery status
    delivered_at: float | None = None  # when its last part arrived (the Twilio stand-in's clock)
    task_ends: Mapping[str, float] = field(default_factory=dict)  # stage -> when its task succeeded (Flower)


@dataclass(frozen=True)
class Path:
    steps: tuple[Step, ...]
    answered_with: str | None = None  # a burst member: the later message whose answer covers it
    transcripts: tuple[str, ...] = ()  # what the voice notes said, as the pipeline heard them

    @property
    def settled(self) -> bool:
        """Nothing more will happen to it: every step reached, one failed, or a later message answers it."""
        return self.answered_with is not None or any(s.failed for s in self.steps) or all(
            s.reached for s in self.steps)

    def as_json(self) -> dict[str, Any]:
        return {"steps": [asdict(s) for s in self.steps], "answered_with": self.answered_with,
                "transcripts": list(self.transcripts)}


def message_path(evidence: Evidence, observed: Mapping[str, float]) -> Path:
    """The path as the evidence shows it; a reached step without a time of its own takes `observed`'s."""
    stored = evidence.stored
    if stored is None:
        failed = evidence.webhook_status != 200
        accepted = Step("accepted", detail=f"webhook answered {evidence.webhook_status}" if failed else "",
                        failed=failed)
        return Path((accepted, *(Step(name) for name in STEPS[1:])))
    steps = [Step("accepted", True, stored.inbound.received_at, f"seq {stored.seq}")]
    intake = stored.intake_result
    steps.append(_dated("intake", intake is not None, evidence, observed, intake or ""))
    answered_with = (stored.answered_by or stored.burst_next) if stored.answer == "" else None
    if answered_with is not None:
        steps.append(_dated("completion", True, evidence, observed, "in a burst"))
        return Path(tuple(steps), answered_with, _transcripts(stored))
    steps.append(_dated("completion", stored.answer is not None, evidence, observed))
    if stored.undelivered:
        steps.append(Step("reply", detail=f"not sent: {stored.undelivered}", failed=True))
        return Path((*steps, Step("delivered")), None, _transcripts(stored))
    parts = len(stored.sent_parts)
    steps.append(_dated("reply", stored.replied, evidence, observed, f"{parts} part{'s' * (parts != 1)}"))
    steps.append(_delivered(stored, evidence, observed))
    return Path(tuple(steps), None, _transcripts(stored))


def _dated(name: str, reached: bool, evidence: Evidence, observed: Mapping[str, float], detail: str = "") -> Step:
    if not reached:
        return Step(name)
    return Step(name, True, evidence.task_ends.get(STAGE_OF_STEP[name], observed.get(name)), detail)


def _delivered(stored: StoredMessage, evidence: Evidence, observed: Mapping[str, float]) -> Step:
    statuses = [evidence.part_statuses.get(index, "") for index in sorted(stored.sent_parts)]
    refused = [status for status in statuses if status in NOT_DELIVERED]
    if refused:
        return Step("delivered", detail=refused[0], failed=True)
    if not stored.replied or not statuses or not all(status in ARRIVED for status in statuses):
        return Step("delivered", detail=", ".join(s or "no status yet" for s in statuses))
    # "read" says more than the step's name; "delivered" would only repeat it.
    detail = "" if statuses[-1] == "delivered" else statuses[-1]
    return Step("delivered", True, evidence.delivered_at or observed.get("delivered"), detail)


def _transcripts(stored: StoredMessage) -> tuple[str, ...]:
    return tuple(text for _, text in sorted(stored.transcripts.items()))


def newly_reached(path: Path) -> list[str]:
    """The reached steps the dev phone has not dated yet (the tracker dates them now)."""
    return [step.name for step in path.steps if step.reached and step.at is None]
