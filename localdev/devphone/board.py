"""What the page shows (users, sent messages with their paths, the bot's replies), versioned for the event stream.

Every change bumps one counter and stamps the item with it, so a page that has seen version N is
sent exactly the items changed after N: on its first connection (N = 0, everything), and after a
reconnect (the browser's EventSource sends the last id it saw as Last-Event-ID).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

Item = dict[str, Any]


class Board:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._version = 0
        self._items: dict[tuple[str, str], tuple[int, Item]] = {}

    def put(self, kind: str, key: str, payload: Item) -> bool:
        """Set one item; returns whether it changed (an unchanged put wakes nobody)."""
        if "kind" in payload or "id" in payload:
            raise ValueError("an item's payload must not set its kind or id")
        item = {"kind": kind, "id": key, **payload}
        with self._changed:
            current = self._items.get((kind, key))
            if current is not None and current[1] == item:
                return False
            self._version += 1
            self._items[(kind, key)] = (self._version, copy.deepcopy(item))
            self._changed.notify_all()
            return True

    def get(self, kind: str, key: str) -> Item | None:
        with self._changed:
            found = self._items.get((kind, key))
            return copy.deepcopy(found[1]) if found else None

    def items(self, kind: str) -> list[Item]:
        with self._changed:
            return [copy.deepcopy(item) for (k, _), (_, item) in self._items.items() if k == kind]

    def since(self, version: int) -> tuple[int, list[Item]]:
        """(the current version, the items changed after `version`, oldest change first)."""
        with self._changed:
            return self._since(version)

    def wait_since(self, version: int, timeout: float) -> tuple[int, list[Item]]:
        """As `since`, but first waits up to `timeout` seconds for a change after `version`."""
        with self._changed:
            version = self._known(version)
            self._changed.wait_for(lambda: self._version > version, timeout=timeout)
            return self._since(version)

    def _known(self, version: int) -> int:
        # A page that saw a later version saw a previous run of this server: it gets everything anew.
        return 0 if version > self._version else version

    def _since(self, version: int) -> tuple[int, list[Item]]:
        version = self._known(version)
        changed = sorted((entry for entry in self._items.values() if entry[0] > version), key=lambda e: e[0])
        return self._version, [copy.deepcopy(item) for _, item in changed]
