"""The one owner of Redis keys: inbound messages, conversation history and per-conversation progress.

Every key starts with the configured prefix (REDIS_KEY_PREFIX). Keys, types and lifetimes:

| key                         | type   | holds                                                   | TTL            |
|-----------------------------|--------|---------------------------------------------------------|----------------|
| msg:{MessageSid}            | hash   | the inbound message, its seq, answer, sent parts' SIDs  | message TTL    |
| claim:{MessageSid}          | string | the seq it was accepted as: a replay is a duplicate     | claim TTL      |
|                             |        | long after the record is gone                           | (90 days)      |
| conv:{conversation}:seq     | string | last sequence number given to the conversation          | history TTL    |
| conv:{conversation}:answered| string | highest seq that has an answer                          | history TTL    |
| conv:{conversation}:replied | string | highest seq whose reply is finished                     | history TTL    |
| conv:{conversation}:history | list   | JSON turns {"role","content"}, oldest first, bounded    | history TTL    |
|                             |        | by HISTORY_MAX_TOKENS/_TURNS (and _CHARS when set)      |                |
| conv:{c}:to-fold            | list   | JSON turns that overflowed the history, oldest first,   | history TTL    |
|                             |        | waiting for the summary task (HISTORY_SUMMARY)          |                |
| conv:{c}:summary            | hash   | text: the running summary of turns folded out of the    | history TTL    |
|                             |        | history; generation: changes at every fold, so a fold   |                |
|                             |        | is applied once (compare-and-set); updated_at           |                |
| rate:{conversation}:{window}| string | messages received in one rate-limit window              | the window     |
| conv:{conversation}:messages| zset   | the conversation's MessageSids by seq (set at accept),  | the longer of  |
|                             |        | so `forget` finds a person's records                    | history/message|
| conv:{c}:last-inbound       | string | when the user last wrote (Unix time): the WhatsApp      | the longer of  |
|                             |        | 24-hour window is counted from it                       | history/message|
| msg:{sid} burst_next,       | field  | bursts: the next message that took this one into its    | the record's   |
|   answered_by               |        | answer, and the one whose reply answered the burst      |                |
| optout:{conversation}       | string | the user sent STOP (when): nothing more is sent to them | none           |
|                             |        | and no model is called for them until START             |                |
| msg:{MessageSid} opt_out    | field  | what intake found of the opt-out state, set once with   | the record's   |
|                             |        | the flag change (stopped, already-out, started, ...)    |                |
| spend:{conv}:day:{YYYYMMDD} | string | completions granted to the conversation that UTC day    | to day end     |
| spend:{conv}:notice:{why}   | string | the one over-limit notice was given (why: sender-cap,   | day end / 60 s |
|                             |        | over-budget)                                            |                |
| budget:minute, budget:day   | hash   | global completion token buckets: tokens, ts (refilled   | 2 min / 2 days |
|                             |        | evenly; a missing bucket is full)                       |                |
| our-numbers                 | set    | the To numbers messages arrived on (for `forget`)       | the longer of  |
|                             |        |                                                         | history/message|
| texts                       | zset   | with MESSAGE_BODY_RETENTION_SECONDS only: MessageSids   | the longer of  |
|                             |        | whose record still holds text, by arrival (swept)       | history/message|
| outbox                      | zset   | MessageSids accepted but not yet known to be on SQS     | none           |
| unanswered                  | zset   | MessageSids accepted and not yet replied, by arrival    | none           |
| relay-lock                  | string | which process relays the outbox now                     | a few seconds  |
| outbox-owed                 | hash   | MessageSid -> "{stage}:{generation}": a link a task     | none (cleared  |
|                             |        | could not publish; the relay publishes the chain from   | with its outbox|
|                             |        | that stage, deduplicated by the generation              | entry)         |
| outbox-parked               | zset   | MessageSids whose publish SQS refused (not a transient  | none           |
|                             |        | or setup fault), set aside so later entries go on       |                |
| delivery:{OutboundSid}      | hash   | a sent part: inbound MessageSid, conversation, part     | history TTL    |
|                             |        | index, furthest delivery status and error code          |                |
| lease:{MessageSid}:{step}   | string | the token of the run doing `step` (answer, reply) now:  | LEASE_SECONDS, |
|   lease:{conv}:summary      |        | (the summary task leases by conversation)               |                |
|                             |        | an overlapping run of the same step waits               | renewed        |
| msg:{sid} transcript:{i}    | field  | media item i's transcript (a voice note), made once:    | the record's   |
|                             |        | a retry or redelivery reuses it                         |                |
| msg:{MessageSid} claimed:{i}| field  | when part i was first claimed to be sent: a later run   | the record's   |
|                             |        | finding it without part:{i} looks in Twilio's log first |                |
| msg:{sid} undelivered,      | field  | why the reply was not sent (opted-out, outside-window); | the record's   |
|   outside_window            |        | "{i}:{first}": the window had closed, the template went |                |
|                             |        | as part i carrying the answer from part first on        |                |
| sqs-fault:{queue}           | string | an SQS configuration fault a worker sees on that queue  | ~60 s, renewed |
|                             |        | (its cause, e.g. QueueDoesNotExist); gone = no fault    | while it lasts |

The package is split by concern: each module holds one mixin of ConversationStore with the Lua
scripts it runs beside its methods, and no module outside the package builds a key.

| module        | keys and fields it writes                                                          |
|---------------|------------------------------------------------------------------------------------|
| records       | msg:{sid} read back (StoredMessage); intake                                        |
| accepting     | claim:{sid}, msg:{sid}, conv:{c}:seq/messages/last-inbound at accept; unanswered;  |
|               | lost records restored                                                              |
| outbox        | outbox, outbox-owed, outbox-parked, relay-lock                                     |
| progress      | conv:{c}:replied, replied_at, part:{i}, delivery:{OutboundSid}, apology_sent_at    |
| follow_ups    | reply_given_up_at, follow_up_at (issue 8)                                          |
| leases        | lease:{sid}:{step}                                                                 |
| part_claims   | claimed:{i}                                                                        |
| history       | conv:{c}:history; the answer and conv:{c}:answered (record_answer)                 |
| folding       | conv:{c}:to-fold, conv:{c}:summary                                                 |
| spend         | rate:..., spend:..., budget:...                                                    |
| privacy       | texts, our-numbers, the message index at intake; forgetting a conversation         |
| bursts        | burst_next, answered_by                                                            |
| opt_out       | optout:{c}, opt_out                                                                |
| transcripts   | transcript:{i}                                                                     |
| reply_window  | conv:{c}:last-inbound (set by hand), undelivered, outside_window                   |
| sqs_faults    | sqs-fault:{queue}                                                                  |

Every write to msg:{sid} checks, in the same Lua script, that the record exists (see
records._RECORD_INTAKE), so an expired record is never recreated without its TTL and seq.
"""

from __future__ import annotations

from switchboard.store.accepting import Accepting, Claim
from switchboard.store.bursts import Bursts
from switchboard.store.folding import FoldBatch, Folding
from switchboard.store.follow_ups import FollowUps
from switchboard.store.history import History
from switchboard.store.leases import LEASE_SECONDS, Leases
from switchboard.store.limits import HistoryLimits, SpendLimits
from switchboard.store.opt_out import OptOut
from switchboard.store.outbox import Outbox
from switchboard.store.part_claims import PartClaim, PartClaims
from switchboard.store.privacy import Privacy
from switchboard.store.progress import STATUS_RANK, Progress
from switchboard.store.records import Records, StoredMessage
from switchboard.store.reply_window import ReplyWindow
from switchboard.store.spend import Spend
from switchboard.store.sqs_faults import SqsFaults
from switchboard.store.transcripts import Transcripts

__all__ = ["LEASE_SECONDS", "STATUS_RANK", "Claim", "ConversationStore", "FoldBatch", "HistoryLimits", "PartClaim",
           "SpendLimits", "StoredMessage"]


# Privacy builds on Folding (and Folding on History) and on Records, so it comes before them.
class ConversationStore(Accepting, Outbox, Progress, FollowUps, Leases, PartClaims, Privacy, Folding, History,
                        Records, Spend, Bursts, OptOut, Transcripts, ReplyWindow, SqsFaults):
    """Reads and writes Switchboard's state in Redis. No module outside this package builds a Redis key.

    Each base is one concern (its module says which). StoreBase.__init__ takes (client, prefix,
    limits, spend=None, text_retention_seconds=None) and registers every concern's Lua scripts.
    """
