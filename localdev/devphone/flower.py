"""A message's tasks as Flower knows them (`GET /api/tasks?search=<MessageSid>`), and their pages' URLs.

Flower indexes each task's arguments, and every pipeline task's first argument (or `message_sid`
keyword, once retried) is the MessageSid, so searching for it finds that message's intake, complete
and reply runs.
Flower is a help here, not a need: when it does not answer, the page says so and the paths are
dated from the store and the Twilio stand-in instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

TASK_PREFIX = "switchboard."


@dataclass(frozen=True)
class FlowerTask:
    uuid: str
    stage: str  # intake, complete, reply (the task name without "switchboard.")
    state: str  # Celery's: RECEIVED, STARTED, SUCCESS, RETRY, FAILURE, ...
    received: float | None
    succeeded: float | None


class Flower:
    def __init__(self, base_url: str, auth: tuple[str, str] | None = None, timeout: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        self._session.auth = auth
        self.problem: str | None = None  # why the last search found nothing, for the page

    def task_url(self, uuid: str) -> str:
        """Flower's page of one task."""
        return f"{self.base_url}/task/{uuid}"

    def tasks_of(self, message_sid: str) -> list[FlowerTask] | None:
        """The message's pipeline tasks, oldest first; None when Flower does not answer (not running, refused)."""
        try:
            response = self._session.get(f"{self.base_url}/api/tasks", params={"search": message_sid},
                                         timeout=self.timeout)
        except requests.RequestException as exc:
            self.problem = f"Flower does not answer at {self.base_url} ({type(exc).__name__})"
            return None
        if response.status_code == 401:
            # Flower 2 opens its API only with FLOWER_UNAUTHENTICATED_API=true or with credentials.
            self.problem = "Flower's API refused: set FLOWER_UNAUTHENTICATED_API=true (local) or FLOWER_BASIC_AUTH"
            return None
        try:
            response.raise_for_status()
            listed: dict[str, dict[str, Any]] = response.json()
        except (requests.HTTPError, ValueError) as exc:
            self.problem = f"Flower's API answered {response.status_code}: {exc}"
            return None
        self.problem = None
        found = [
            FlowerTask(uuid, str(task.get("name") or "").removeprefix(TASK_PREFIX), str(task.get("state") or ""),
                       task.get("received"), task.get("succeeded"))
            for uuid, task in listed.items()
            # A retried task (a burst's wait, a transient error) carries its arguments as kwargs.
            if str(task.get("name") or "").startswith(TASK_PREFIX)
            and message_sid in f"{task.get('args') or ''} {task.get('kwargs') or ''}"
        ]
        return sorted(found, key=lambda task: task.received or 0.0)


def stage_ends(tasks: list[FlowerTask]) -> dict[str, float]:
    """When each stage's task last succeeded (a retried stage ends with its last, successful run)."""
    return {task.stage: task.succeeded for task in tasks if task.state == "SUCCESS" and task.succeeded}


def stage_links(flower: Flower, tasks: list[FlowerTask]) -> list[dict[str, str]]:
    """One link per stage, to the page of its latest run in Flower."""
    latest = {task.stage: task for task in tasks}
    return [{"stage": stage, "url": flower.task_url(task.uuid), "state": task.state} for stage, task in latest.items()]
