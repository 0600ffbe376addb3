"""SQS: the queues between the stages, and whether they are Amazon's (production) or a local endpoint."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from switchboard.settings.checks import http_url

# The stage queues' MessageRetentionPeriod (switchboard/clients/sqs_admin.py): a message can wait on SQS this long.
SQS_STAGE_RETENTION_SECONDS = 4 * 24 * 3600
AWS_LONG_POLL_SECONDS = 20
LOCAL_LONG_POLL_SECONDS = 1


class SqsSettings(BaseModel):
    sqs_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    sqs_queue_prefix: str = Field(default="switchboard-", pattern=r"^[A-Za-z0-9_-]{0,40}$")
    sqs_fifo: bool = True
    sqs_visibility_timeout: int = Field(default=60, ge=6, le=43200)
    # None: 20 s on AWS (the longest SQS allows and the cheapest: an idle worker makes one ReceiveMessage
    # per queue per 20 s, and SQS answers as soon as a message arrives), 1 s on a local endpoint (short
    # waits keep a test's or the dev loop's worker quick to stop). Each queue has its own poll, so a
    # long wait on one never delays another's message.
    sqs_wait_time_seconds: int | None = Field(default=None, ge=0, le=20)
    sqs_polling_interval: float = Field(default=0.05, ge=0)
    sqs_max_receive_count: int = Field(default=5, ge=1, le=1000)
    publish_timeout_seconds: float = Field(default=3.0, gt=0)

    @field_validator("sqs_endpoint_url")
    @classmethod
    def _endpoint_is_an_http_url(cls, value: str | None) -> str | None:
        return http_url(value)

    @model_validator(mode="after")
    def _credentials_come_in_pairs(self) -> Self:
        if bool(self.aws_access_key_id) != bool(self.aws_secret_access_key):
            raise ValueError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together")
        return self

    @model_validator(mode="after")
    def _long_poll_by_environment(self) -> Self:
        if self.sqs_wait_time_seconds is None:
            self.sqs_wait_time_seconds = AWS_LONG_POLL_SECONDS if self.on_aws else LOCAL_LONG_POLL_SECONDS
        return self

    @property
    def long_poll_seconds(self) -> int:
        """The receive wait in effect: SQS_WAIT_TIME_SECONDS, or its default for where SQS is."""
        assert self.sqs_wait_time_seconds is not None  # set by _long_poll_by_environment
        return self.sqs_wait_time_seconds

    @property
    def on_aws(self) -> bool:
        """Production: SQS is Amazon's (no SQS_ENDPOINT_URL)."""
        return self.sqs_endpoint_url is None

    @property
    def sqs_is_secure(self) -> bool:
        return self.sqs_endpoint_url is None or self.sqs_endpoint_url.startswith("https:")
