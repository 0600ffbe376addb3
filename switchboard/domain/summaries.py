"""Folding: the turns that overflowed a conversation's history become part of its running summary, once."""

from __future__ import annotations

import logging

from switchboard.clients.openai_client import CompletionClient
from switchboard.errors import NotYourTurn
from switchboard.metrics import HISTORY_FOLDS
from switchboard.store import ConversationStore, FoldBatch
from switchboard.tokens import truncate

log = logging.getLogger(__name__)

# Turns folded per model call: a backlog (after an outage, or HISTORY_SUMMARY switched on) goes in steps.
FOLD_BATCH_TURNS = 40

INSTRUCTIONS = (
    "You keep the running summary of a chat between a user and an assistant on WhatsApp or SMS. Rewrite the "
    "earlier summary and the new turns as one summary of at most {words} words, in the conversation's language: "
    "who the user is, what they asked, told and decided, and what the assistant answered or promised. Keep names, "
    "numbers and dates. Plain sentences; no preamble, no markdown."
)


def fold_history(store: ConversationStore, completions: CompletionClient, conversation: str,
                 max_summary_tokens: int) -> int:
    """Fold the oldest waiting turns into the conversation's summary; returns how many turns still wait.

    Two overlapping runs fold once: the fold is leased per conversation, and the store ends it only
    if the summary's generation is still the one this run read (a stalled run whose lease lapsed,
    or one that raced a /reset, finds it changed and its summary is discarded). Raises NotYourTurn
    while another run holds the lease; the model call's TransientError and PermanentError pass
    through to the caller (give_up_fold is the end of the road).
    """
    with store.lease(conversation, "summary") as token:
        if token is None:
            raise NotYourTurn("another run is folding this conversation's history")
        batch = store.begin_fold(conversation, FOLD_BATCH_TURNS)
        if batch is None:
            return 0
        summary = truncate(completions.complete(summary_prompt(batch, max_summary_tokens)), max_summary_tokens)
        left = store.end_fold(conversation, batch, summary)
    if left is None:
        log.info("a fold of %s turns was ended elsewhere first (another run, /reset or forget); discarded",
                 len(batch.turns))
        HISTORY_FOLDS.labels(outcome="discarded").inc()
        return 0
    log.info("folded %s turns into the summary; %s still wait", len(batch.turns), left)
    HISTORY_FOLDS.labels(outcome="folded").inc()
    return left


def give_up_fold(store: ConversationStore, conversation: str) -> None:
    """The summary cannot be made: keep the old one and drop the oldest waiting turns, once (counted)."""
    batch = store.begin_fold(conversation, FOLD_BATCH_TURNS)
    if batch is not None and store.end_fold(conversation, batch, None) is not None:
        log.warning("dropped %s turns that could not be folded into the summary", len(batch.turns))
        HISTORY_FOLDS.labels(outcome="dropped").inc()


def summary_prompt(batch: FoldBatch, max_summary_tokens: int) -> list[dict[str, str]]:
    """The model is asked for the new summary: instructions, then the earlier summary and the turns to fold."""
    words = max(max_summary_tokens * 3 // 4, 20)  # about 0.75 English words per token
    turns = "\n".join(f"{'User' if turn.get('role') == 'user' else 'Assistant'}: {turn.get('content', '')}"
                      for turn in batch.turns)
    return [
        {"role": "system", "content": INSTRUCTIONS.format(words=words)},
        {"role": "user", "content": f"Earlier summary:\n{batch.summary or '(none yet)'}\n\nNew turns:\n{turns}"},
    ]
