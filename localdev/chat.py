"""`python -m localdev chat`: talk to a running pipeline from the terminal, as a WhatsApp user would.

Each line is posted to the webhook exactly as Twilio would post it (signed with the auth token);
replies are read back from the local Twilio stand-in, which received them from the worker.
`/voice FILE`, `/photo FILE [caption]`, `/file FILE [caption]` and `/location LAT,LON [label]` send
media (uploaded to the stand-in, which serves it as Twilio does) or a location (localdev/chat_lines.py).
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from typing import TextIO

import requests
from twilio.request_validator import RequestValidator

from localdev.chat_lines import USAGE, BadLine, Outgoing, parse_line, webhook_fields
from localdev.standins.client import StandinClient

BOT_NUMBER = "whatsapp:+14155238886"


class ChatSession:
    def __init__(self, webhook_url: str, twilio_standin_url: str, account_sid: str, auth_token: str,
                 user: str, out: TextIO = sys.stdout) -> None:
        self.webhook_url = webhook_url
        self.standin = StandinClient(twilio_standin_url)
        self.account_sid = account_sid
        self.validator = RequestValidator(auth_token)
        self.user = user
        self.out = out
        self._seen = {m["sid"] for m in self.standin.messages()}
        self._replies = threading.Condition()
        self._reply_count = 0

    def send(self, text: str) -> int:
        """Post one signed webhook; returns the HTTP status the webhook answered."""
        return self.send_outgoing(Outgoing(text))

    def send_line(self, line: str) -> int:
        """Send what a typed line asks for (text, media, a location); raises BadLine for a bad command."""
        return self.send_outgoing(parse_line(line))

    def send_outgoing(self, outgoing: Outgoing) -> int:
        return self.post(outgoing)[0]

    def post(self, outgoing: Outgoing, user: str | None = None, profile_name: str = "Local user") -> tuple[int, str]:
        """Upload the attachment (if any), post the signed webhook as `user`; returns (HTTP status, MessageSid).

        The dev phone (localdev/devphone/) posts through here too, as each of its simulated users.
        """
        user = user or self.user
        message_sid, media_url = "SM" + uuid.uuid4().hex, None
        if outgoing.attachment is not None:
            # The stand-in keeps the file behind an API URL, as Twilio keeps a WhatsApp user's media.
            uploaded = self.standin.upload_media(outgoing.attachment.read_bytes(), outgoing.content_type)
            message_sid, media_url = uploaded["message_sid"], uploaded["url"]
        form = {
            "MessageSid": message_sid,
            "AccountSid": self.account_sid,
            "From": user,
            "To": BOT_NUMBER,
            "Body": outgoing.body,
            "WaId": user.removeprefix("whatsapp:").lstrip("+"),
            "ProfileName": profile_name,
            **webhook_fields(outgoing, media_url),
        }
        signature = self.validator.compute_signature(self.webhook_url, form)
        response = requests.post(self.webhook_url, data=form, headers={"X-Twilio-Signature": signature}, timeout=20)
        return response.status_code, message_sid

    def poll_replies(self) -> int:
        """Print replies to our user that arrived since the last poll; returns how many."""
        new = [m for m in self.standin.messages() if m["sid"] not in self._seen and m.get("to") == self.user]
        for message in new:
            self._seen.add(message["sid"])
            print(f"bot> {message['body']}", file=self.out, flush=True)
        if new:
            with self._replies:
                self._reply_count += len(new)
                self._replies.notify_all()
        return len(new)

    def wait_for_reply(self, after_count: int, timeout: float) -> bool:
        with self._replies:
            return self._replies.wait_for(lambda: self._reply_count > after_count, timeout=timeout)

    def run(self, lines: TextIO = sys.stdin, reply_timeout: float = 60.0) -> None:
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.3):
                self.poll_replies()

        threading.Thread(target=watch, name="chat-replies", daemon=True).start()
        interactive = lines.isatty()
        if interactive:
            print(USAGE, file=self.out, flush=True)
        try:
            while True:
                if interactive:
                    print("you> ", end="", file=self.out, flush=True)
                line = lines.readline()
                if not line:
                    break
                text = line.strip()
                if not text:
                    continue
                before = self._reply_count
                try:
                    status = self.send_line(text)
                except BadLine as exc:
                    print(f"({exc})", file=self.out, flush=True)
                    continue
                if status != 200:
                    print(f"(webhook answered {status})", file=self.out, flush=True)
                    continue
                if not self.wait_for_reply(before, reply_timeout):
                    print(f"(no reply within {reply_timeout:.0f}s; it may still come)", file=self.out, flush=True)
        finally:
            stop.set()
            time.sleep(0)  # let the watcher see the event; it is a daemon either way
