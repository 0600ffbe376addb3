"""Answering: the completion step (a message, or the burst it ends), and the apology when it cannot be done."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from switchboard.clients.openai_client import CompletionClient
from switchboard.clients.twilio_client import ReplySender
from switchboard.domain.bots import Bot, Bots, plain_bot
from switchboard.domain.bursts import BurstPolicy, settle_burst
from switchboard.domain.handoff import HandoffPolicy, OperatorNotifier, answer_while_handed_off
from switchboard.domain.media import MediaContent, MediaReader, read_media
from switchboard.domain.message_context import describe, quoted_text
from switchboard.domain.model_answer import model_answer
from switchboard.domain.turns import load, wait_for_turn
from switchboard.domain.user_commands import Command, canned_answer, classify
from switchboard.domain.user_turn import UserTurn
from switchboard.errors import NotYourTurn
from switchboard.metrics import GAVE_UP
from switchboard.settings import Settings
from switchboard.store import ConversationStore, StoredMessage
from switchboard.tools import Identity, RedisToolLedger

log = logging.getLogger(__name__)

APOLOGY = "Sorry, I can't answer right now. Please try again in a few minutes."
PROFILE_NAME_MAX_CHARS = 64


@dataclass(frozen=True)
class AnswerOptions:
    """How the completion step answers, from settings (the defaults answer each message on its own)."""

    order_wait_max_seconds: float = 300.0
    burst: BurstPolicy = field(default_factory=BurstPolicy)
    use_profile_name: bool = False
    echo_transcript: bool = False  # VOICE_ECHO_TRANSCRIPT: start the answer with what was heard
    history_max_tokens: int = 3000
    # The step's last attempt: media that cannot be fetched become a note in the prompt, not a retry.
    last_attempt: bool = False
    # Hand-off to a person (issue 14): HANDOFF_PAUSE_SECONDS and the operator's webhook (the process's own).
    handoff: HandoffPolicy = field(default_factory=HandoffPolicy)
    tools_max_rounds: int = 3  # TOOLS_MAX_ROUNDS (issue 14)

    @classmethod
    def from_settings(cls, settings: Settings, last_attempt: bool = False,
                      notifier: OperatorNotifier | None = None) -> AnswerOptions:
        return cls(
            order_wait_max_seconds=settings.order_wait_max_seconds,
            burst=BurstPolicy(settings.burst_window_seconds, settings.burst_max_messages),
            use_profile_name=settings.use_profile_name,
            echo_transcript=settings.voice_echo_transcript,
            history_max_tokens=settings.history_max_tokens,
            last_attempt=last_attempt,
            handoff=HandoffPolicy(settings.handoff_pause_seconds, notifier),
            tools_max_rounds=settings.tools_max_rounds,
        )


def produce_answer(
    store: ConversationStore, completions: CompletionClient, system_prompt: str, message_sid: str,
    order_wait_max_seconds: float | None = None, *, options: AnswerOptions | None = None,
    media: MediaReader | None = None, replies: ReplySender | None = None, bots: Bots | None = None,
) -> str:
    """Answer the message (OpenAI, or a command's fixed text) after every earlier one is answered.

    Two overlapping runs (a redelivery, a republished chain) make one OpenAI call: the turn is
    leased, and a run that finds the lease held retries shortly and then reuses the stored answer.
    A message that a later one of its burst answers gets an empty answer (its reply sends nothing).
    `bots` (issue 14) picks the receiving number's prompt, knowledge and tools; without it the bot is
    `system_prompt` alone.
    """
    options = options or AnswerOptions()
    wait_max = options.order_wait_max_seconds if order_wait_max_seconds is None else order_wait_max_seconds
    message = load(store, message_sid)
    if message.answer is not None:
        return message.answer
    wait_for_turn(message, store.answered_upto(message.conversation), wait_max)
    with store.lease(message_sid, "answer") as token:
        if token is None:
            log.info("seq %s is being answered by another run; trying again shortly", message.seq)
            raise NotYourTurn(f"seq {message.seq} is being answered by another run")
        message = load(store, message_sid)  # the run that held the lease before us may have answered
        if message.answer is not None:
            return message.answer
        burst = settle_burst(store, message, options.burst)
        if burst is None:
            return load(store, message_sid).answer or ""
        bot = bots.for_number(message.inbound.recipient) if bots is not None else plain_bot(system_prompt)
        return _answer(store, completions, bot, burst, options, media, replies)


def _answer(store: ConversationStore, completions: CompletionClient, bot: Bot,
            burst: Sequence[StoredMessage], options: AnswerOptions, media: MediaReader | None,
            replies: ReplySender | None) -> str:
    message = burst[-1]
    command = Command(message.intake_result or classify(message.inbound).value)
    # /human, /bot, and a paused conversation's messages (kept for the operator: no model call).
    handed_off = answer_while_handed_off(store, burst, command, options.handoff)
    if handed_off is not None:
        return handed_off
    fixed = canned_answer(command)
    if command is Command.RESET:
        store.clear_history(message.conversation)
    if fixed is not None:
        store.record_answer(message, fixed, turns=[])
        return fixed
    if replies is not None and message.inbound.channel == "whatsapp":
        replies.show_typing(message.inbound.message_sid)  # best effort, off the calling thread
    contents = [_read(store, earlier, media, options) for earlier in burst]
    turns = [UserTurn(_turn_text(store, earlier, content, replies), content.images)
             for earlier, content in zip(burst, contents, strict=True)]
    identity = Identity.from_message(message)  # from the signed webhook: every tool call carries it
    answer = model_answer(
        completions, bot.profile, bot.knowledge, bot.toolbox, store.history(message.conversation), turns, identity,
        executor=bot.executor, ledger=RedisToolLedger(store, identity), max_rounds=options.tools_max_rounds,
        history_max_tokens=options.history_max_tokens, summary=store.summary(message.conversation),
        name_line=_name_line(message, options)).text
    heard = [content.heard for content in contents if content.heard]
    sent = f'I heard: "{" / ".join(heard)}"\n\n{answer}' if options.echo_transcript and heard else answer
    history = [*({"role": "user", "content": turn.text} for turn in turns), {"role": "assistant", "content": answer}]
    if not store.record_answer(message, sent, history):
        log.info("answer for seq %s was stored by another run; keeping that one", message.seq)
    if len(burst) > 1:
        store.record_burst_answered_by([earlier.inbound.message_sid for earlier in burst[:-1]],
                                       message.inbound.message_sid)
        log.info("seq %s answered a burst of %s messages", message.seq, len(burst))
    return load(store, message.inbound.message_sid).answer or sent


def _read(store: ConversationStore, message: StoredMessage, media: MediaReader | None,
          options: AnswerOptions) -> MediaContent:
    if not message.inbound.media:
        return MediaContent()
    return read_media(store, message, media, give_up_on_failure=options.last_attempt)


def _turn_text(store: ConversationStore, message: StoredMessage, content: MediaContent,
               replies: ReplySender | None) -> str:
    said = describe(message.inbound, quoted_text(store, replies, message.inbound.replied_to_sid))
    text = "\n".join(part for part in (said, content.text) if part)
    return text or "[an empty message]"


def _name_line(message: StoredMessage, options: AnswerOptions) -> str:
    name = " ".join(message.inbound.profile_name.split())[:PROFILE_NAME_MAX_CHARS]
    if not options.use_profile_name or not name:
        return ""
    # The name is the user's own text: quoted, and described as theirs, so it reads as data, not instructions.
    return f'The user\'s WhatsApp profile name is "{name}" (chosen by them).'


def answer_with_apology(store: ConversationStore, message_sid: str) -> None:
    """When every attempt failed, the user still hears from us, and later messages are not held up."""
    message = store.load(message_sid)
    if message is not None and message.answer is None and store.record_answer(message, APOLOGY, turns=[]):
        GAVE_UP.labels(stage="complete").inc()


def apologise_directly(store: ConversationStore, replies: ReplySender, message_sid: str) -> bool:
    """Last resort when the message's own record cannot be read: send the apology to its sender, once."""
    contact = store.contact(message_sid)
    if contact is None or not store.claim_direct_apology(message_sid):
        return False
    sender, recipient = contact
    replies.send(to=sender, from_=recipient, body=APOLOGY)
    GAVE_UP.labels(stage="complete").inc()
    return True
