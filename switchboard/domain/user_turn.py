"""One user message as the model reads it: its text (with context) and any images to look at."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserTurn:
    """What a user said in one message, made ready for the model.

    `text` is also what the history keeps; `images` (data: URLs of downloaded photos) go to the
    model with this turn only and are never stored.
    """

    text: str
    images: tuple[str, ...] = ()
