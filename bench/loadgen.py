"""The load generator: simulated Twilio users posting signed webhooks, every message tracked to its reply.

Hand-rolled on threads and `http.client` rather than locust: the bench must correlate each message
with its reply (a token in the text the echo answer repeats) and check order per user, which a
generic load tool does not do. Every form is built and signed before the clock starts, and each
sender thread keeps one keep-alive connection, so a request costs the generator a few tens of
microseconds of CPU; the bench reports the generator's own CPU and, for open-loop traffic, how late
each send left against its schedule.

Two shapes:
* closed loop (`run_closed`): N users at once, each sending its messages one after another, the
  next as soon as the previous one is acknowledged: N simultaneous senders.
* open loop (`run_open`): messages leave at a fixed rate whatever the answers, round-robin over the
  users, from a pool of sender threads.
* one at a time (`run_sequential`): each message leaves once the previous one's reply is in, so
  nothing else is in the pipeline: its latency with no load at all.
"""

from __future__ import annotations

import http.client
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

BOT_NUMBER = "whatsapp:+14155238886"
TIMEOUT_SECONDS = 60.0


@dataclass
class Message:
    user: str
    n: int  # position in the user's messages
    token: str  # unique; the echo answer repeats it
    sid: str
    body: bytes  # the signed form, encoded
    signature: str
    scheduled: float = 0.0  # open loop: when it should leave (time.time())
    sent: float = 0.0
    acked: float = 0.0
    status: int = 0  # HTTP status; 0 = no answer (connection error or timeout)


@dataclass(frozen=True)
class Target:
    url: str  # as Twilio would sign it
    account_sid: str
    auth_token: str

    def connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.url)
        return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=TIMEOUT_SECONDS)


def user_number(scenario: int, index: int) -> str:
    """Distinct per scenario and user, so every scenario has conversations of its own."""
    return f"whatsapp:+1{200 + scenario % 800:03d}{index:07d}"


def build_messages(target: Target, scenario: int, users: int, per_user: int,
                   first_user: int = 0) -> list[list[Message]]:
    """[user][n] signed messages; the body 'bench <token>' comes back as 'echo: bench <token>'."""
    validator = RequestValidator(target.auth_token)
    tag = uuid.uuid4().hex[:6]
    result = []
    for u in range(first_user, first_user + users):
        user = user_number(scenario, u)
        row = []
        for n in range(per_user):
            token = f"{tag}.{scenario}.{u}.{n}"
            sid = "SM" + uuid.uuid4().hex
            form = {"MessageSid": sid, "AccountSid": target.account_sid, "From": user, "To": BOT_NUMBER,
                    "Body": f"bench {token}", "NumMedia": "0", "WaId": user.removeprefix("whatsapp:+")}
            row.append(Message(user, n, token, sid, urlencode(form).encode(),
                               validator.compute_signature(target.url, form)))
        result.append(row)
    return result


class Sender:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.path = urlsplit(target.url).path or "/"
        self.conn: http.client.HTTPConnection | None = None

    def send(self, message: Message) -> None:
        """POST the message; the clock runs from the first attempt to the response."""
        message.sent = time.time()
        message.status = self._post(message, retry_stale=True)
        message.acked = time.time()

    def _post(self, message: Message, retry_stale: bool) -> int:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": message.signature}
        reused = self.conn is not None
        if self.conn is None:
            self.conn = self.target.connection()
        try:
            self.conn.request("POST", self.path, body=message.body, headers=headers)
            response = self.conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = None
            # gunicorn closes a keep-alive connection idle for 2 s; like any HTTP client, try once more
            # on a new one (the same MessageSid, so the webhook would take a second arrival as a duplicate).
            stale = isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError)
            if reused and retry_stale and stale:
                return self._post(message, retry_stale=False)
            return 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def run_closed(target: Target, per_user: Sequence[Sequence[Message]], think_seconds: float = 0.0) -> float:
    """Every user starts at once and sends its messages back to back; returns the start time."""
    barrier = threading.Barrier(len(per_user) + 1)

    def user(messages: Sequence[Message]) -> None:
        sender = Sender(target)
        barrier.wait()
        try:
            for message in messages:
                sender.send(message)
                if think_seconds:
                    time.sleep(think_seconds)
        finally:
            sender.close()

    threads = [threading.Thread(target=user, args=(m,), daemon=True) for m in per_user]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.time()
    for thread in threads:
        thread.join(TIMEOUT_SECONDS * (len(per_user[0]) + 1))
    return start


def run_open(target: Target, messages: Sequence[Message], rate: float, threads: int = 64) -> float:
    """Message i leaves at start + i/rate (or as soon as a sender is free); returns the start time."""
    start = time.time() + 0.2
    for i, message in enumerate(messages):
        message.scheduled = start + i / rate
    lock = threading.Lock()
    cursor = iter(messages)

    def sender_loop() -> None:
        sender = Sender(target)
        try:
            while True:
                with lock:
                    message = next(cursor, None)
                if message is None:
                    return
                delay = message.scheduled - time.time()
                if delay > 0:
                    time.sleep(delay)
                sender.send(message)
        finally:
            sender.close()

    pool = [threading.Thread(target=sender_loop, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(len(messages) / rate + TIMEOUT_SECONDS * 2)
    return start


def run_sequential(target: Target, messages: Sequence[Message], replied: Callable[[Message], bool]) -> float:
    """One message at a time: each leaves once `replied` has seen the previous one's reply; returns the start."""
    sender = Sender(target)
    start = time.time()
    try:
        for message in messages:
            sender.send(message)
            if message.status == 200:
                replied(message)
    finally:
        sender.close()
    return start


def interleave(per_user: Sequence[Sequence[Message]]) -> list[Message]:
    """Round-robin over users: every user's first message, then every user's second, …"""
    longest = max((len(row) for row in per_user), default=0)
    return [row[n] for n in range(longest) for row in per_user if n < len(row)]
