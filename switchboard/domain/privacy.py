"""Forgetting a person: every record, turn, delivery record and limit stored for their conversations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from switchboard.domain.inbound import InboundMessage, conversation_id_for
from switchboard.settings import get_settings
from switchboard.store import ConversationStore, StoredMessage


def user_ids_of(number: str) -> set[str]:
    """The forms a user's id takes for one phone number: SMS From, WhatsApp From, and WaId (digits)."""
    raw = number.strip()
    digits = raw.removeprefix("whatsapp:").lstrip("+")
    if not digits.isdigit():
        return {raw}  # an ExternalUserId or a WhatsApp username: only itself
    return {raw, f"+{digits}", f"whatsapp:+{digits}", digits}


def conversations_of(user_ids: Iterable[str], our_numbers: Iterable[str], key: bytes | None = None) -> set[str]:
    """Every conversation id the user can have with our numbers, keyed ids and the unkeyed ones of old records."""
    if key is None:
        key = get_settings().conversation_key()
    found = set()
    for recipient in our_numbers:
        for user_id in user_ids:
            found.add(conversation_id_for(key, recipient, user_id))
            # A record without a keyed id falls back to the unkeyed one (InboundMessage.conversation_id).
            legacy = InboundMessage(message_sid="", account_sid="", sender=user_id, recipient=recipient,
                                    body="", user_id=user_id)
            found.add(legacy.conversation_id)
    return found


def forget(store: ConversationStore, conversations: Iterable[str],
           keep: StoredMessage | None = None) -> dict[str, int]:
    """Delete the conversations' state; `keep` (a /forget request being answered) and later messages stay."""
    total: Counter[str] = Counter({"messages": 0, "conversation turns": 0, "delivery records": 0,
                                   "limit counters": 0})
    for conversation in sorted(set(conversations)):
        before = keep.seq if keep is not None and keep.conversation == conversation else None
        total.update(store.forget_conversation(conversation, before_seq=before))
    return dict(total)


def forget_sender(store: ConversationStore, message: StoredMessage, key: bytes | None = None) -> dict[str, int]:
    """A user's /forget: their conversations with every number of ours, except the request itself."""
    numbers = {*store.our_numbers(), message.inbound.recipient}
    conversations = conversations_of({message.inbound.user_id}, numbers, key) | {message.conversation}
    return forget(store, conversations, keep=message)
