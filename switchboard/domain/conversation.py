"""The three steps of answering one message, as plain functions over the store and the clients.

Each step is safe to run twice and in any interleaving: it checks what was already done (in Redis)
before acting, and records what it did. Order within a conversation is kept by sequence numbers.
The steps live in their own modules (intake, answering, delivery); this module names them together.
"""

from switchboard.domain.answering import APOLOGY, answer_with_apology, apologise_directly, produce_answer
from switchboard.domain.delivery import deliver_reply, finish_reply_undelivered
from switchboard.domain.intake import RateLimit, run_intake
from switchboard.domain.turns import UnknownMessage, load

__all__ = ["APOLOGY", "RateLimit", "UnknownMessage", "answer_with_apology", "apologise_directly", "deliver_reply",
           "finish_reply_undelivered", "load", "produce_answer", "run_intake"]
