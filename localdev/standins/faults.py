"""Injected faults shared by the stand-ins: what the next N API requests should do instead of succeeding."""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any

ALWAYS = -1


@dataclass
class Fault:
    """One injected behaviour; `times` requests use it (`-1` = every request until reset)."""

    times: int = 1
    endpoint: str = "create"  # which API call it hits: "create" (send / complete) or, on Twilio, "list"
    status: int | None = None  # answer with this HTTP error status
    delay_seconds: float = 0.0  # stall before answering (then answer as usual, or with `status`)
    retry_after: float | None = None  # sent as the Retry-After header
    message: str | None = None  # overrides the error message
    twilio_code: int | None = None  # Twilio only: the error code in the JSON body
    reply: str | None = None  # OpenAI only: answer with this text
    reply_length: int | None = None  # OpenAI only: answer with generated prose this long
    # Twilio create only: do the work first (the message is accepted and listed), then stall
    # `delay_seconds` before answering: "accepted, but the response timed out" for the client.
    after_accept: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any], endpoints: tuple[str, ...] = ("create",)) -> Fault:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            # A typo in a test's fault must fail loudly, not silently inject nothing.
            raise ValueError(f"unknown fault fields: {sorted(unknown)}; known: {sorted(known)}")
        fault = cls(**data)
        if fault.times == 0 or fault.times < ALWAYS:
            raise ValueError("times must be a positive count or -1 (always)")
        if fault.status is not None and not 400 <= fault.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if fault.endpoint not in endpoints:
            raise ValueError(f"endpoint must be one of {list(endpoints)}")
        if fault.after_accept and (fault.endpoint != "create" or fault.delay_seconds <= 0):
            raise ValueError("after_accept needs endpoint 'create' and a delay_seconds to stall after accepting")
        return fault


class FaultQueue:
    """Faults in the order they were added; each request takes one use of the first fault left."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._wake = threading.Event()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, endpoint: str = "create", after_accept: bool = False) -> Fault | None:
        """Use up one request's worth of the first fault aimed at `endpoint`; None = behave normally.

        Faults that act after the request took effect (`after_accept`) are taken apart from those
        that act before it, at the point where the stand-in has done the work.
        """
        with self._lock:
            index = next(
                (i for i, f in enumerate(self._faults) if f.endpoint == endpoint and f.after_accept == after_accept),
                None,
            )
            if index is None:
                return None
            fault = self._faults[index]
            if fault.times != ALWAYS:
                fault.times -= 1
                if fault.times == 0:
                    del self._faults[index]
            return fault

    def stall(self, fault: Fault | None) -> bool:
        """Sleep for the fault's delay; True if `clear()` cut it short.

        A request woken by a reset must give up rather than answer, or it would record into the
        next test's fresh state.
        """
        if fault is None or fault.delay_seconds <= 0:
            return False
        with self._lock:
            wake = self._wake
        return wake.wait(fault.delay_seconds)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._wake.set()
            self._wake = threading.Event()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(vars(fault)) for fault in self._faults]
