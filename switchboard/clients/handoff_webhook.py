"""The operator's hand-off webhook (HANDOFF_WEBHOOK_URL): a signed JSON POST saying a conversation wants a person.

Contract: a 2xx is told; a timeout, a connection error, a 429 or a 5xx is a TransientError (the step
retries; the pause is already recorded, and the notice is claimed only once it succeeded); any other
answer (4xx, a redirect) is a PermanentError carrying the status: not retried, the pause stands and
`switchboard inbox` shows it. Signed with OPERATOR_SIGNING_SECRET like tool calls, so the operator's
endpoint can trust the number in it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import requests

from switchboard.errors import PermanentError, TransientError
from switchboard.settings import Settings
from switchboard.tools.signing import IDENTITY_HEADERS, sign_request

# (connect, read): the step waits at most this long for the operator's endpoint.
TIMEOUT_SECONDS = (3.05, 10.0)


@dataclass(frozen=True)
class HandoffNotice:
    """What the operator is told: who wants a person, why, what they said last, and until when the bot waits."""

    conversation: str
    user_id: str  # WaId, else ExternalUserId, else From, as the signed webhook gave it
    sender: str  # Twilio's From: "whatsapp:+15551234567"
    bot_number: str  # Twilio's To: the number the user wrote to
    channel: str  # whatsapp, sms
    source: str  # command, tool
    reason: str
    message_sid: str  # the message that asked
    paused_at: float
    pause_ends_at: float
    recent_messages: list[str] = field(default_factory=list)  # the user's last few messages, oldest first

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"event": "handoff", **asdict(self)}
        body["paused_at"], body["pause_ends_at"] = _iso(self.paused_at), _iso(self.pause_ends_at)
        body["reply_with"] = f'switchboard say {self.conversation} "..."'
        return body


class HandoffWebhook:
    """POSTs HandoffNotices to one URL with an explicit timeout; says which failures are worth retrying."""

    def __init__(self, url: str, secret: bytes | None, session: requests.Session | None = None,
                 timeout: tuple[float, float] = TIMEOUT_SECONDS) -> None:
        self.url = url
        self.secret = secret
        self.session = session or requests.Session()
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> HandoffWebhook | None:
        """None when HANDOFF_WEBHOOK_URL is unset: only `switchboard inbox` shows a pause."""
        if settings.handoff_webhook_url is None:
            return None
        secret = settings.operator_signing_secret
        return cls(settings.handoff_webhook_url, secret.get_secret_value().encode() if secret else None)

    def notify(self, notice: HandoffNotice) -> None:
        body = json.dumps(notice.as_json(), ensure_ascii=False, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", **self._signature(notice, body)}
        try:
            answer = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout,
                                       allow_redirects=False)
        except requests.RequestException as exc:  # timeouts and connection errors
            raise TransientError(f"hand-off webhook unreachable: {type(exc).__name__}") from exc
        status = answer.status_code
        if 200 <= status < 300:
            return
        if status == 429 or status >= 500:
            raise TransientError(f"hand-off webhook answered {status}", retry_after=_retry_after(answer))
        raise PermanentError(f"hand-off webhook answered {status}", code=status)

    def _signature(self, notice: HandoffNotice, body: bytes) -> dict[str, str]:
        """The identity headers and their signature, as on a tool call (switchboard/tools/signing.py)."""
        if self.secret is None:
            return {}
        # IDENTITY_HEADERS' order is v1's canonical order: user id, sender, conversation, MessageSid.
        identity = dict(zip(IDENTITY_HEADERS, (notice.user_id, notice.sender, notice.conversation,
                                               notice.message_sid), strict=True))
        return sign_request(self.secret, "POST", self.url, body, identity)


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")


def _retry_after(answer: requests.Response) -> float | None:
    value = answer.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
