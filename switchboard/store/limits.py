"""The bounds a store is made with: how much history it keeps and how many completions it grants."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HistoryLimits:
    max_turns: int
    max_chars: int  # HISTORY_MAX_CHARS; 0: no bound in characters (the token budget bounds the history)
    ttl_seconds: int  # history and per-conversation progress (HISTORY_TTL_SECONDS)
    message_ttl_seconds: int = 7 * 24 * 3600  # msg:{sid} records (MESSAGE_TTL_SECONDS)
    claim_ttl_seconds: int = 90 * 24 * 3600  # claim:{sid} (MESSAGE_CLAIM_TTL_SECONDS)
    max_tokens: int = 3000  # HISTORY_MAX_TOKENS: estimated tokens of the history and its summary (issue 11)
    summarize: bool = False  # HISTORY_SUMMARY: fold the overflow for the summary task; False drops it


@dataclass(frozen=True)
class SpendLimits:
    """Completions allowed before any model call; 0 means no limit (COMPLETION_BUDGET_*, SENDER_DAILY_CAP)."""

    per_minute: int = 0  # all senders together: a token bucket refilled evenly over a minute
    per_day: int = 0  # all senders together: a token bucket refilled evenly over a day
    sender_per_day: int = 0  # one conversation, per UTC day
