"""The dev phone itself: its users, sending as one of them through the terminal chat's code, and the tracker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from localdev.chat import ChatSession
from localdev.devphone.board import Board
from localdev.devphone.composer import Upload, composed
from localdev.devphone.flower import Flower
from localdev.devphone.tracker import SentMessage, Tracker
from localdev.devphone.users import DEFAULT_USERS, User, new_user
from switchboard.store import ConversationStore


class UnknownUser(LookupError):
    """A message from a number the dev phone has no user for."""


class DevPhone:
    def __init__(self, chat: ChatSession, store: ConversationStore, flower: Flower | None, upload_dir: Path,
                 interval: float = 0.25) -> None:
        self.chat = chat
        self.flower = flower
        self.upload_dir = upload_dir
        self.board = Board()
        self.run_id = uuid.uuid4().hex[:8]  # a page that sees it change drops what a previous run showed
        self.tracker = Tracker(self.board, store, chat.standin, flower, interval)
        self.media: dict[str, Path] = {}  # MessageSid -> the picked file, shown in its bubble
        for number, name in DEFAULT_USERS:
            self.add_user(number, name)

    def add_user(self, number: str, name: str) -> User:
        """Add a simulated user (or rename one); raises BadUser."""
        user = new_user(number, name)
        self.board.put("user", user.address, {"number": user.number, "name": user.name})
        return user

    def user(self, address: str) -> User:
        found = self.board.get("user", address)
        if found is None:
            raise UnknownUser(address)
        return User(address, found["name"])

    def send(self, address: str, form: Mapping[str, str], upload: Upload | None) -> SentMessage:
        """Post what the composer holds as that user, signed like Twilio; raises UnknownUser or BadLine."""
        user = self.user(address)
        outgoing, saved = composed(form, upload, self.upload_dir)
        status, sid = self.chat.post(outgoing, user=user.address, profile_name=user.name)
        if saved is not None:
            self.media[sid] = saved
        content = form.get("kind", "text")
        message = SentMessage(
            sid=sid, user=user.address, content=content, text=outgoing.body, sent_at=time.time(),
            webhook_status=status, media_url=f"/media/{sid}" if saved is not None else None,
            location=dict(outgoing.fields) if content == "location" else None,
        )
        self.tracker.track(message)
        return message
