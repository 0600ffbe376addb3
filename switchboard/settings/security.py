"""Start-up checks across concerns (issue 9): against forged webhooks, replays and lost records."""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from switchboard.settings.checks import is_loopback_url
from switchboard.settings.conversation import ConversationSettings
from switchboard.settings.handoff import HandoffSettings
from switchboard.settings.sqs import SQS_STAGE_RETENTION_SECONDS, SqsSettings
from switchboard.settings.tools import ToolSettings
from switchboard.settings.twilio import TWILIO_TOKEN_SHAPE, TwilioSettings


class SecuritySettings(HandoffSettings, ToolSettings, ConversationSettings, SqsSettings, TwilioSettings):
    """No fields of its own: the checks that read Twilio's, SQS's, the conversation's and the operator's settings together."""

    @model_validator(mode="after")
    def _security_cross_checks(self) -> Self:
        problems = []
        test_sandbox = not self.on_aws and is_loopback_url(self.twilio_api_base_url)
        if self.allow_test_auth_token and not test_sandbox:
            problems.append("ALLOW_TEST_AUTH_TOKEN: only for tests (SQS_ENDPOINT_URL set and TWILIO_API_BASE_URL "
                            "on loopback)")
        if not self.allow_test_auth_token and not TWILIO_TOKEN_SHAPE.fullmatch(
                self.twilio_auth_token.get_secret_value()):
            problems.append("TWILIO_AUTH_TOKEN: not an auth token Twilio issues (32 lowercase hex characters)")
        least = SQS_STAGE_RETENTION_SECONDS + self.outbox_max_wait_seconds
        if self.message_ttl_seconds < least:
            problems.append(f"MESSAGE_TTL_SECONDS: must be at least {least} (SQS retention of "
                            f"{SQS_STAGE_RETENTION_SECONDS} s plus OUTBOX_MAX_WAIT_SECONDS)")
        if self.message_claim_ttl_seconds < self.message_ttl_seconds:
            problems.append("MESSAGE_CLAIM_TTL_SECONDS: must be at least MESSAGE_TTL_SECONDS (a claim that expires "
                            "first lets a replay in)")
        if self.on_aws and self.conversation_id_secret is None:
            problems.append("CONVERSATION_ID_SECRET: missing (required on AWS; e.g. `openssl rand -hex 32`)")
        if self.on_aws and self.handoff_webhook_url and self.operator_signing_secret is None:
            # The notice carries a person's number and words: unsigned, the operator's desk cannot tell it from a forgery.
            problems.append("OPERATOR_SIGNING_SECRET: missing (required on AWS with HANDOFF_WEBHOOK_URL, which "
                            "it signs; e.g. `openssl rand -hex 32`)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def conversation_key(self) -> bytes:
        """The HMAC key for conversation ids; off AWS without a secret, the auth token stands in."""
        secret = self.conversation_id_secret or self.twilio_auth_token
        return secret.get_secret_value().encode()
