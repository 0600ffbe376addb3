"""The one owner of Redis keys: inbound messages, conversation history and per-conversation progress.

Every key starts with the configured prefix (REDIS_KEY_PREFIX). Below, <sid> is a MessageSid (or an
outbound part's SID), <c> a conversation id, and {s} the hash tag of the conversation's shard.

Shards (issue 13; shards.py). A Redis Cluster refuses a script or MULTI whose keys hash to two slots
(CROSSSLOT), and it hashes only what is inside a key's first {...}. So each conversation belongs to
one of SHARDS = 64 shards, s = crc32(<c>) mod 64 (fixed: changing it is a migration), and every key of
the conversation and of its messages carries that shard's tag right after the prefix: {s12}. What
was one structure per deployment (the outbox, the backlog, the text sweep's index, our numbers) is
one per shard, so a script writing a message's record, its conversation's counters and its outbox
entry stays in one slot, and conversations spread over the cluster's masters. Readers of the whole
deployment (the outbox relay, the backlog count, the text sweep, `our_numbers`, the doctor and
status) read all 64 shards in one pipelined round trip per master. Whatever only knows a SID (a
status callback, `switchboard message`, the relay) finds its shard in the sid index, where:<sid>,
written once (first writer wins, in a step of its own before the SID's keys) and remembered by each
process. The global completion budgets have their own tag, {global}: charging a completion is three
single-slot steps, ordered so that no completion is granted without its reservation (spend.py).
Keys no script shares with another (the relay lock, SQS faults, the Twilio slots) have no tag.
The same layout runs on one server; REDIS_URL's scheme says which (settings/redis.py).

| key                          | type   | holds                                                   | TTL            |
|------------------------------|--------|---------------------------------------------------------|----------------|
| {s}:msg:<sid>                | hash   | the inbound message, its seq, answer, sent parts' SIDs  | message TTL    |
| {s}:claim:<sid>              | string | the seq it was accepted as: a replay is a duplicate     | claim TTL      |
|                              |        | long after the record is gone                           | (90 days)      |
| where:<sid>                  | string | the sid index: the shard of an inbound SID (placed at   | claim TTL;     |
|                              |        | accept) or of a sent part's SID; "-": claimed before    | parts: history |
|                              |        | shards, record long gone (a replay is a duplicate)      | TTL            |
| {s}:conv:<c>:seq             | string | last sequence number given to the conversation          | history TTL    |
| {s}:conv:<c>:answered        | string | highest seq that has an answer                          | history TTL    |
| {s}:conv:<c>:replied         | string | highest seq whose reply is finished                     | history TTL    |
| {s}:conv:<c>:history         | list   | JSON turns {"role","content"}, oldest first, bounded    | history TTL    |
|                              |        | by HISTORY_MAX_TOKENS/_TURNS (and _CHARS when set)      |                |
| {s}:conv:<c>:to-fold         | list   | JSON turns that overflowed the history, oldest first,   | history TTL    |
|                              |        | waiting for the summary task (HISTORY_SUMMARY)          |                |
| {s}:conv:<c>:summary         | hash   | text: the running summary of turns folded out of the    | history TTL    |
|                              |        | history; generation: changes at every fold, so a fold   |                |
|                              |        | is applied once (compare-and-set); updated_at           |                |
| {s}:rate:<c>:<window>        | string | messages received in one rate-limit window              | the window     |
| {s}:conv:<c>:messages        | zset   | the conversation's MessageSids by seq (set at accept),  | the longer of  |
|                              |        | so `forget` finds a person's records                    | history/message|
| {s}:conv:<c>:last-inbound    | string | when the user last wrote (Unix time): the WhatsApp      | the longer of  |
|                              |        | 24-hour window is counted from it                       | history/message|
| {s}:msg:<sid> burst_next,    | field  | bursts: the next message that took this one into its    | the record's   |
|   answered_by                |        | answer, and the one whose reply answered the burst      |                |
| {s}:optout:<c>               | string | the user sent STOP (when): nothing more is sent to them | none           |
|                              |        | and no model is called for them until START             |                |
| {s}:msg:<sid> opt_out        | field  | what intake found of the opt-out state, set once with   | the record's   |
|                              |        | the flag change (stopped, already-out, started, ...)    |                |
| {s}:spend:<c>:day:<YYYYMMDD> | string | completions granted to the conversation that UTC day    | to day end     |
| {s}:spend:<c>:notice:<why>   | string | the one over-limit notice was given (why: sender-cap,   | day end / 60 s |
|                              |        | over-budget)                                            |                |
| {global}:budget:minute, :day | hash   | global completion token buckets: tokens, ts (refilled   | 2 min / 2 days |
|                              |        | evenly; a missing bucket is full)                       |                |
| {s}:our-numbers              | set    | the To numbers messages arrived on (for `forget`)       | the longer of  |
|                              |        |                                                         | history/message|
| {s}:texts                    | zset   | with MESSAGE_BODY_RETENTION_SECONDS only: MessageSids   | the longer of  |
|                              |        | whose record still holds text, by arrival (swept)       | history/message|
| {s}:outbox                   | zset   | MessageSids accepted but not yet known to be on SQS     | none           |
| {s}:unanswered               | zset   | MessageSids accepted and not yet replied, by arrival    | none           |
| relay-lock                   | string | which process relays the outbox now                     | a few seconds  |
| {s}:outbox-owed              | hash   | MessageSid -> "{stage}:{generation}": a link a task     | none (cleared  |
|                              |        | could not publish; the relay publishes the chain from   | with its outbox|
|                              |        | that stage, deduplicated by the generation              | entry)         |
| {s}:outbox-parked            | zset   | MessageSids whose publish SQS refused (not a transient  | none           |
|                              |        | or setup fault), set aside so later entries go on       |                |
| {s}:delivery:<OutboundSid>   | hash   | a sent part: inbound MessageSid, conversation, part     | history TTL    |
|                              |        | index, furthest delivery status and error code          |                |
| {s}:lease:<sid>:<step>       | string | the token of the run doing `step` (answer, reply) now:  | LEASE_SECONDS, |
|   {s}:lease:<c>:summary      |        | (the summary task leases by conversation)               |                |
|                              |        | an overlapping run of the same step waits               | renewed        |
| {s}:tools:<sid>              | hash   | tool calls (issue 14): turn:<round> (the assistant's    | message TTL,   |
|                              |        | tool calls), result:<round>:<i> (each call's answer),   | from the first |
|                              |        | final; each set once, so a retry calls nothing twice    | step           |
| {s}:msg:<sid> transcript:<i> | field  | media item i's transcript (a voice note), made once:    | the record's   |
|                              |        | a retry or redelivery reuses it                         |                |
| {s}:msg:<sid> claimed:<i>    | field  | when part i was first claimed to be sent: a later run   | the record's   |
|                              |        | finding it without part:<i> looks in Twilio's log first |                |
| {s}:msg:<sid> undelivered,   | field  | why the reply was not sent (opted-out, outside-window); | the record's   |
|   outside_window             |        | "{i}:{first}": the window had closed, the template went |                |
|                              |        | as part i carrying the answer from part first on        |                |
| {s}:handoff:<c>              | hash   | hand-off (issue 14): the conversation is paused for a   | until the pause|
|                              |        | person: since, until, source, reason, asked_by, from_seq| ends (EXPIREAT)|
|                              |        | notified (the operator's notice, once), last_said_at    |                |
| {s}:paused                   | zset   | paused conversations by pause end (`inbox`, the gauge); | none (ended    |
|                              |        | entries past their end are ignored and swept on reading | ones swept)    |
| {s}:msg:<sid> handoff,       | field  | what the message did to the pause (paused, joined), set | the record's   |
|   kept_for_operator          |        | once; when it was kept for the operator (no model call) |                |
| sqs-fault:<queue>            | string | an SQS configuration fault a worker sees on that queue  | ~60 s, renewed |
|                              |        | (its cause, e.g. QueueDoesNotExist); gone = no fault    | while it lasts |
| twilio-slots                 | zset   | holders of the account's Twilio request slots (tokens), | the longest    |
|                              |        | scored by lease end: TWILIO_MAX_CONCURRENT_REQUESTS     | lease          |
| twilio-hold:<scope>          | string | Twilio answered 20429 (scope account) or 63018 (scope   | Retry-After or |
|                              |        | sender:{From or MG…}): every process holds off while it | a few seconds  |
|                              |        | lasts (the value: Twilio's code)                        |                |
| knowledge:<fingerprint>      | hash   | a knowledge folder's index (issue 14): passages (JSON), | 30 days from   |
|                              |        | vectors (float32 rows), model, built_at; fingerprint:   | its last load  |
|                              |        | files' paths, sizes, hashes and the embeddings model    |                |
| knowledge-build:<fingerprint>| string | which process is building that index now (embeddings    | a few minutes  |
|                              |        | are paid once; the others use BM25 meanwhile)           |                |

The package is split by concern: each module holds one mixin of ConversationStore with the Lua
scripts it runs beside its methods, and no module outside the package builds a key.

| module        | keys and fields it writes                                                          |
|---------------|------------------------------------------------------------------------------------|
| base          | how keys are spelled; where:<sid> (the sid index); reads across every shard        |
| shards        | SHARDS, a conversation's shard and its tag                                         |
| connection    | the client for REDIS_URL: one server, or a Redis Cluster                           |
| records       | msg:<sid> read back (StoredMessage); intake                                        |
| accepting     | claim:<sid>, msg:<sid>, conv:<c>:seq/messages/last-inbound at accept; unanswered;  |
|               | lost records restored                                                              |
| outbox        | outbox, outbox-owed, outbox-parked, relay-lock                                     |
| progress      | conv:<c>:replied, replied_at, part:<i>, delivery:<OutboundSid>, apology_sent_at    |
| follow_ups    | reply_given_up_at, follow_up_at (issue 8)                                          |
| leases        | lease:<sid>:<step>                                                                 |
| part_claims   | claimed:<i>                                                                        |
| history       | conv:<c>:history; the answer and conv:<c>:answered (record_answer)                 |
| folding       | conv:<c>:to-fold, conv:<c>:summary                                                 |
| spend         | rate:..., spend:..., {global}:budget:...                                           |
| privacy       | texts, our-numbers, the message index at intake; forgetting a conversation         |
| bursts        | burst_next, answered_by                                                            |
| opt_out       | optout:<c>, opt_out                                                                |
| transcripts   | transcript:<i>                                                                     |
| tool_calls    | tools:<sid>                                                                        |
| reply_window  | conv:<c>:last-inbound (set by hand), undelivered, outside_window                   |
| handoff       | handoff:<c>, paused, handoff, kept_for_operator; the operator's turns in history   |
| sqs_faults    | sqs-fault:<queue>                                                                  |
| send_slots    | twilio-slots, twilio-hold:<scope>                                                  |
| knowledge     | knowledge:<fingerprint>, knowledge-build:<fingerprint>                             |
| legacy_layout | moves keys of the layout before shards into their shards (`migrate-keys`)          |

Every write to msg:<sid> checks, in the same Lua script, that the record exists (see
records._RECORD_INTAKE), so an expired record is never recreated without its TTL and seq.
tests/switchboard/test_store_slots.py runs every script through a client that fails on keys in two
slots, so a key spelled without its shard's tag fails on a plain Redis too.

Upgrading from the layout before shards (keys such as msg:<sid>, conv:<c>:seq, outbox with no tag):
the new code does not read them. Stop the web and the workers, run `switchboard migrate-keys --yes`
(legacy_layout.py: every key moves into its shard with its TTL; opt-outs, histories, claims and
records are kept), start the new version, then `switchboard catchup` from when the web stopped
(docs/runbook.md, "Upgrading Redis keys to shards").
"""

from __future__ import annotations

from switchboard.store.accepting import Accepting, Claim
from switchboard.store.bursts import Bursts
from switchboard.store.folding import FoldBatch, Folding
from switchboard.store.follow_ups import FollowUps
from switchboard.store.handoff import Handoff, Pause
from switchboard.store.history import History
from switchboard.store.knowledge import KnowledgeIndexes, StoredKnowledge
from switchboard.store.leases import LEASE_SECONDS, Leases
from switchboard.store.legacy_layout import LegacyLayout, LegacyMove
from switchboard.store.limits import HistoryLimits, SpendLimits
from switchboard.store.opt_out import OptOut
from switchboard.store.outbox import Outbox
from switchboard.store.part_claims import PartClaim, PartClaims
from switchboard.store.privacy import Privacy
from switchboard.store.progress import STATUS_RANK, Progress
from switchboard.store.records import Records, StoredMessage
from switchboard.store.reply_window import ReplyWindow
from switchboard.store.send_slots import SendSlots
from switchboard.store.spend import Spend
from switchboard.store.sqs_faults import SqsFaults
from switchboard.store.tool_calls import ToolCalls
from switchboard.store.transcripts import Transcripts

__all__ = ["LEASE_SECONDS", "STATUS_RANK", "Claim", "ConversationStore", "FoldBatch", "HistoryLimits", "LegacyMove",
           "PartClaim", "Pause", "SpendLimits", "StoredKnowledge", "StoredMessage"]


# Privacy builds on Folding (and Folding on History) and on Records, so it comes before them.
class ConversationStore(Accepting, Outbox, Progress, FollowUps, Leases, PartClaims, Handoff, Privacy, Folding, History,
                        Records, Spend, Bursts, OptOut, Transcripts, ReplyWindow, SqsFaults, SendSlots, LegacyLayout,
                        KnowledgeIndexes, ToolCalls):
    """Reads and writes Switchboard's state in Redis. No module outside this package builds a Redis key.

    Each base is one concern (its module says which). StoreBase.__init__ takes (client, prefix,
    limits, spend=None, text_retention_seconds=None) and registers every concern's Lua scripts.
    """
