"""Follows what the pipeline does with each message the dev phone sent, and the bot's replies, onto the board.

A thread in the dev phone's server looks a few times a second at the Twilio stand-in's sent
messages, each open message's record in Redis and its tasks in Flower; the page is pushed only
what changed (board.py), so the browser itself never polls.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
import requests

from localdev.devphone.board import Board
from localdev.devphone.flower import Flower, stage_ends, stage_links
from localdev.devphone.path import STAGE_OF_STEP, Evidence, Path, message_path, newly_reached
from localdev.standins.client import StandinClient
from switchboard.store import ConversationStore

log = logging.getLogger(__name__)

# Flower hears of a task's end a moment after the store does: keep asking for that long after a path settles.
FLOWER_GRACE_SECONDS = 10.0


@dataclass
class SentMessage:
    """One message a simulated user sent, as the page shows it."""

    sid: str
    user: str
    content: str  # what the composer sent: text, voice, photo, file, location
    text: str
    sent_at: float
    webhook_status: int
    media_url: str | None = None  # the dev phone's own copy, for the bubble
    location: dict[str, str] | None = None
    observed: dict[str, float] = field(default_factory=dict)  # step -> when first seen reached
    settled_at: float | None = None


class Tracker:
    def __init__(self, board: Board, store: ConversationStore, standin: StandinClient, flower: Flower | None,
                 interval: float = 0.25) -> None:
        self.board, self.store, self.standin, self.flower = board, store, standin, flower
        self.interval = interval
        self._open: dict[str, SentMessage] = {}
        self._part_of: dict[str, tuple[str, int]] = {}  # outbound sid -> (inbound sid, part index)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def track(self, message: SentMessage) -> None:
        with self._lock:
            self._open[message.sid] = message
        self.board.put("message", message.sid, _shown(message, message_path(
            Evidence(message.webhook_status, None), message.observed), None))

    def following(self) -> list[str]:
        """The MessageSids still followed (not yet settled, or waiting for Flower's times)."""
        with self._lock:
            return list(self._open)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="devphone-tracker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except (requests.RequestException, redis.RedisError) as exc:
                # The stack may be starting or stopping; the page says what is unreachable, and the next tick retries.
                log.warning("dev phone cannot read the pipeline's state: %s", exc)
                self.board.put("status", "pipeline", {"error": f"cannot read the pipeline's state: {exc}"})
            else:
                self.board.put("status", "pipeline", {"error": None})

    def tick(self, now: float | None = None) -> None:
        """One look at everything: new or changed replies, and each open message's path."""
        now = time.time() if now is None else now
        sent = {record["sid"]: record for record in self.standin.messages()}
        with self._lock:
            open_messages = list(self._open.values())
        for message in open_messages:
            self._follow(message, sent, now)
        users = {user["id"] for user in self.board.items("user")}
        for sid, record in sent.items():
            if record.get("to") in users:
                answers, part = self._part_of.get(sid, (None, None))
                self.board.put("reply", sid, {
                    "user": record["to"], "body": record.get("body", ""), "at": record.get("created_at"),
                    "status": record.get("status", ""), "answers": answers, "part": part,
                })

    def _follow(self, message: SentMessage, sent: dict[str, dict[str, Any]], now: float) -> None:
        stored = self.store.load(message.sid)
        statuses: dict[int, str] = {}
        delivered_at: float | None = None
        for index, outbound_sid in (stored.sent_parts.items() if stored else ()):
            self._part_of[outbound_sid] = (message.sid, index)
            record = sent.get(outbound_sid, {})
            # The store's status comes from Twilio's status callbacks (PUBLIC_BASE_URL); else Twilio's own record.
            statuses[index] = self.store.delivery(outbound_sid).get("status") or record.get("status", "")
            delivered_at = max(delivered_at or 0.0, record.get("delivered_at") or 0.0) or None
        tasks = self.flower.tasks_of(message.sid) if self.flower is not None and stored is not None else None
        evidence = Evidence(message.webhook_status, stored, statuses, delivered_at, stage_ends(tasks or []))
        path = message_path(evidence, message.observed)
        if newly_reached(path):
            message.observed.update({name: now for name in newly_reached(path)})
            path = message_path(evidence, message.observed)
        links = stage_links(self.flower, tasks) if self.flower is not None and tasks else None
        asked_flower = self.flower is not None and stored is not None
        problem = (self.flower.problem or "") if asked_flower and tasks is None and self.flower else ""
        self.board.put("message", message.sid, _shown(message, path, links, problem))
        if path.settled:
            message.settled_at = message.settled_at or now
            dated = all(STAGE_OF_STEP[s.name] in evidence.task_ends for s in path.steps if s.name in STAGE_OF_STEP
                        and s.reached)
            if self.flower is None or dated or now - message.settled_at > FLOWER_GRACE_SECONDS:
                with self._lock:
                    self._open.pop(message.sid, None)


def _shown(message: SentMessage, path: Path, links: list[dict[str, str]] | None,
           flower_problem: str = "") -> dict[str, Any]:
    shown = {k: v for k, v in asdict(message).items() if k not in ("sid", "observed", "settled_at")}
    return {**shown, **path.as_json(), "flower": links, "flower_problem": flower_problem}
