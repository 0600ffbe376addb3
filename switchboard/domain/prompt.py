"""Build the chat messages OpenAI sees: system prompt, recent history that fits, the new message."""

from __future__ import annotations

from collections.abc import Sequence


def build_prompt(
    system_prompt: str, history: Sequence[dict[str, str]], user_text: str, max_chars: int
) -> list[dict[str, str]]:
    """Keep the newest turns whose total length fits in `max_chars`, oldest dropped first."""
    kept: list[dict[str, str]] = []
    budget = max_chars - len(user_text)
    for turn in reversed(history):
        budget -= len(turn["content"])
        if budget < 0:
            break
        kept.append({"role": turn["role"], "content": turn["content"]})
    kept.reverse()
    # A history cut in the middle of an exchange would open with an assistant turn; drop it so the
    # model never sees an answer without its question.
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    return [{"role": "system", "content": system_prompt}, *kept, {"role": "user", "content": user_text}]
