"""The tools of an eval: declared as the bot's TOOLS_FILE says, answered by the cases file's fixtures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from switchboard.tools import Identity


class FixtureExecutor:
    """A ToolExecutor that answers each call with the turn's fixture for that tool, and calls nothing real.

    A call of a tool the turn has no fixture for is answered with an error the model can read, and noted,
    so the turn fails saying which fixture the cases file lacks instead of passing on an invented answer.
    """

    def __init__(self, fixtures: Mapping[str, str]) -> None:
        self._fixtures = dict(fixtures)
        self.missing: list[str] = []

    def execute(self, name: str, arguments: Mapping[str, Any], identity: Identity) -> str:
        if name in self._fixtures:
            return self._fixtures[name]
        self.missing.append(name)
        return json.dumps({"error": f"the eval has no fixture for {name}"})
