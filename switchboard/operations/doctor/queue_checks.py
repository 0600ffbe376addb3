"""Each stage's queue and dead-letter queue exist with the attributes `switchboard queues init` gives them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from switchboard.clients.sqs_admin import STAGES, queue_names
from switchboard.clients.sqs_checks import INIT_FIX, STACK_FIX, inspect_dead_letters, inspect_stage
from switchboard.operations.doctor.results import CheckResult, fail, ok
from switchboard.settings import Settings

if TYPE_CHECKING:  # boto3-stubs' SQS client type; without the stubs installed mypy takes it as Any
    from mypy_boto3_sqs import SQSClient


def check_queues(sqs: SQSClient, settings: Settings) -> list[CheckResult]:
    """One row per stage (its queue and dead-letter queue); one row only when SQS cannot be asked at all."""
    results = []
    for stage in STAGES:
        try:
            problems, warnings = inspect_stage(sqs, settings, stage)
            dead_problems, dead_warnings = inspect_dead_letters(sqs, settings, stage)
        except (BotoCoreError, ClientError) as exc:
            return [fail("sqs", f"cannot read the queues: {exc}",
                         "check AWS_REGION, the credentials (or the instance role) and SQS_ENDPOINT_URL")]
        # Warnings too: `queues init` fixes them, and a doctor's ✔ means "as it should be", not just "safe".
        results.append(stage_result(stage, settings, problems + dead_problems + warnings + dead_warnings))
    return results


def stage_result(stage: str, settings: Settings, findings: list[str]) -> CheckResult:
    names = queue_names(settings)
    if not findings:
        kind = "FIFO" if names.fifo else "standard"
        return ok(f"queue {stage}", f"{names.in_sqs(names.stage(stage))} ({kind}, visibility "
                                    f"{settings.sqs_visibility_timeout}s, dead letters after "
                                    f"{settings.sqs_max_receive_count} receives) and "
                                    f"{names.in_sqs(names.dead_letter(stage))}")
    # Each finding ends with its fix (switchboard/clients/sqs_checks.py); the fix column shows it once.
    details = [finding.rpartition(INIT_FIX)[0].rstrip(":; ") or finding for finding in findings]
    fix = STACK_FIX if any(finding.endswith(STACK_FIX) for finding in findings) else INIT_FIX
    return fail(f"queue {stage}", "; ".join(details), fix)
