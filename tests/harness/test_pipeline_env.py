"""pipeline_env: this process and its children see one configuration, pointed at loopback services."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest

from localdev.moto_server import ExternalSqs, MotoServer
from localdev.processes import ManagedProcess
from switchboard.settings import get_settings
from tests.harness.standins import RunningStandin

pytestmark = pytest.mark.integration


def test_settings_point_at_the_stand_ins_moto_and_this_runs_prefixes(
    pipeline_env: dict[str, str],
    run_id: str,
    moto: MotoServer | ExternalSqs,
    twilio_standin: RunningStandin,
    openai_standin: RunningStandin,
) -> None:
    settings = get_settings()

    assert settings.twilio_api_base_url == twilio_standin.base_url
    assert settings.twilio_account_sid == twilio_standin.account_sid
    assert settings.openai_base_url == f"{openai_standin.base_url}/v1"
    assert settings.sqs_endpoint_url == moto.endpoint_url
    assert (settings.redis_key_prefix, settings.sqs_queue_prefix) == (f"sbtest-{run_id}:", f"t{run_id}-")


def test_the_runs_queues_exist_in_sqs(pipeline_env: dict[str, str]) -> None:
    sqs = boto3.client(
        "sqs", endpoint_url=pipeline_env["SQS_ENDPOINT_URL"], region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )

    urls = sqs.list_queues(QueueNamePrefix=pipeline_env["SQS_QUEUE_PREFIX"]).get("QueueUrls", [])

    assert urls, "init_queues created no queue with this run's prefix"


def test_a_child_process_reads_the_same_settings(pipeline_env: dict[str, str], tmp_path: Path) -> None:
    code = "from switchboard.settings import get_settings as g; s = g(); print('base', s.twilio_api_base_url)"
    child = ManagedProcess("settings", [sys.executable, "-c", code], pipeline_env, tmp_path / "settings.log")

    with child.start():
        line = child.wait_for_log(r"base (\S+)", timeout=20)

    assert line.group(1) == pipeline_env["TWILIO_API_BASE_URL"]
