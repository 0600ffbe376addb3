"""The dev phone's simulated WhatsApp users: a number (From, WaId) and the ProfileName WhatsApp sends with it."""

from __future__ import annotations

import re
from dataclasses import dataclass

# E.164 as WhatsApp numbers are: a plus, a non-zero digit, 7 to 15 digits in all.
_NUMBER = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_NAME = 40
# Two people to start with, on numbers the terminal chat (whatsapp:+15550000001) does not use.
DEFAULT_USERS = (("+15550100001", "Ana"), ("+15550100002", "Ben"))


class BadUser(ValueError):
    """A number that is not E.164, or a name that is empty or too long."""


@dataclass(frozen=True)
class User:
    address: str  # Twilio's From: whatsapp:+15550100001
    name: str  # ProfileName

    @property
    def number(self) -> str:
        return self.address.removeprefix("whatsapp:")


def new_user(number: str, name: str) -> User:
    number = re.sub(r"[\s().-]", "", number.strip().removeprefix("whatsapp:"))
    if not _NUMBER.match(number):
        raise BadUser("the number must be in E.164 form, e.g. +15550100003")
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise BadUser(f"the name must have 1 to {MAX_NAME} characters")
    return User(f"whatsapp:{number}", name)
