"""Two runs of one step at once (a redelivery, a republished chain): one OpenAI call, each part sent once.

Real Redis, the real twilio and openai SDKs against the HTTP stand-ins, two threads per race.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

import pytest

from localdev.polling import wait_for
from localdev.processes import REPO_ROOT
from switchboard.clients.openai_client import CompletionClient
from switchboard.clients.twilio_client import ReplySender
from switchboard.domain.conversation import deliver_reply, produce_answer
from switchboard.domain.inbound import InboundMessage
from switchboard.errors import NotYourTurn, TransientError
from switchboard.store import ConversationStore
from tests.harness.standins import RunningStandin, openai_sdk, twilio_sdk
from tests.switchboard.conftest import REDIS_URL

T = TypeVar("T")
Make = Callable[..., InboundMessage]
WAIT = 300.0
THREE_PARTS = "\n\n".join(letter * 1000 for letter in "abc")
CLIENT_TIMEOUT = 0.5  # the Twilio client's timeout here; stalls are longer to trip it


@pytest.fixture
def replies(twilio_standin: RunningStandin) -> ReplySender:
    return ReplySender(twilio_sdk(twilio_standin, timeout=CLIENT_TIMEOUT), messaging_service_sid=None)


@pytest.fixture
def completions(openai_standin: RunningStandin) -> CompletionClient:
    return CompletionClient(openai_sdk(openai_standin, timeout=5), "gpt-test", 100)


def answered(store: ConversationStore, message: InboundMessage, answer: str) -> InboundMessage:
    assert store.accept(message) is not None
    assert store.record_answer(store.load(message.message_sid), answer, [])  # type: ignore[arg-type]
    return message


def keep_trying(step: Callable[[], T], refusals: list[str]) -> T:
    """Run `step` as Celery would: again shortly after each NotYourTurn, until it finishes."""
    def attempt() -> T | None:
        try:
            return step()
        except NotYourTurn as exc:
            refusals.append(str(exc))
            return None

    return wait_for(attempt, timeout=20, interval=0.05, message="the step to finish")


def race(step: Callable[[], T]) -> tuple[list[T], list[str]]:
    """Two threads start `step` at the same moment; returns both results and every refusal seen."""
    start, results, refusals = threading.Barrier(2), [], []

    def run() -> None:
        start.wait(timeout=5)
        results.append(keep_trying(step, refusals))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2, "a racing run did not finish"
    return results, refusals


def report(name: str, wanted: list[str], received: list[str]) -> int:
    """Print `sent / answered / duplicated` for the parts `wanted`; returns the duplicates."""
    counts = Counter(received)
    duplicated = sum(n - 1 for body, n in counts.items() if body in wanted and n > 1)
    print(f"\n[{name}] sent {len(wanted)} / answered {sum(1 for b in wanted if counts[b])} / duplicated {duplicated}")
    return duplicated


def bodies_to(standin: RunningStandin, user: str) -> list[str]:
    return [m["body"] for m in standin.client.messages() if m["to"] == user]


def test_two_overlapping_replies_send_each_part_once(
    store: ConversationStore, replies: ReplySender, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    message = answered(store, make_inbound(), THREE_PARTS)
    twilio_standin.client.stall(0.3, times=3)  # each send takes a while, so the second run arrives mid-reply

    results, refusals = race(lambda: deliver_reply(store, replies, message.message_sid, WAIT))

    received = bodies_to(twilio_standin, message.sender)
    assert report("threads, reply", [c * 1000 for c in "abc"], received) == 0
    assert received == [c * 1000 for c in "abc"]
    assert results[0] == results[1] == [m["sid"] for m in twilio_standin.client.messages()]
    assert refusals, "the two runs never overlapped, so the test proved nothing"


def test_two_overlapping_completions_make_one_openai_call_and_share_its_answer(
    store: ConversationStore, completions: CompletionClient, openai_standin: RunningStandin, make_inbound: Make
) -> None:
    message = make_inbound("what is the time?")
    assert store.accept(message) is not None
    openai_standin.client.stall(0.5)  # the first run is still waiting for OpenAI when the second starts

    results, refusals = race(lambda: produce_answer(store, completions, "Be brief.", message.message_sid, WAIT))

    calls = len(openai_standin.client.requests())
    print(f"\n[threads, complete] sent 1 / answered {len(set(results))} / duplicated 0 / openai calls {calls}")
    assert results == ["echo: what is the time?"] * 2
    assert calls == 1
    assert refusals
    stored = store.load(message.message_sid)
    assert stored is not None and len(store.history(stored.conversation)) == 2  # one user turn, one assistant


def test_a_part_twilio_accepted_after_the_client_timed_out_is_found_in_its_log_and_not_sent_again(
    store: ConversationStore, replies: ReplySender, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    message = answered(store, make_inbound(), "only once, please")
    twilio_standin.client.add_fault(delay_seconds=3, after_accept=True)  # accepted; the answer comes too late

    with pytest.raises(TransientError):
        deliver_reply(store, replies, message.message_sid, WAIT)
    [accepted] = twilio_standin.client.messages()

    assert deliver_reply(store, replies, message.message_sid, WAIT) == [accepted["sid"]]
    assert report("timed-out create", ["only once, please"], bodies_to(twilio_standin, message.sender)) == 0
    assert len(twilio_standin.client.messages()) == 1
    assert store.delivery(accepted["sid"])["message_sid"] == message.message_sid
    assert store.load(message.message_sid).replied  # type: ignore[union-attr]


def test_a_timed_out_send_twilio_never_took_is_sent_by_the_next_run(
    store: ConversationStore, replies: ReplySender, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    message = answered(store, make_inbound(), "try again")
    twilio_standin.client.stall(2, status=500)  # the client gives up first; Twilio then refuses it anyway

    with pytest.raises(TransientError):
        deliver_reply(store, replies, message.message_sid, WAIT)
    sent = deliver_reply(store, replies, message.message_sid, WAIT)

    assert [m["sid"] for m in twilio_standin.client.messages()] == sent
    assert bodies_to(twilio_standin, message.sender) == ["try again"]


def test_the_log_lookup_skips_an_identical_reply_recorded_for_an_earlier_message(
    store: ConversationStore, replies: ReplySender, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    first = answered(store, make_inbound("1"), "same words")
    second = answered(store, make_inbound("2"), "same words")
    [earlier] = deliver_reply(store, replies, first.message_sid, WAIT)
    twilio_standin.client.stall(2, status=500)

    with pytest.raises(TransientError):
        deliver_reply(store, replies, second.message_sid, WAIT)
    [later] = deliver_reply(store, replies, second.message_sid, WAIT)

    assert later != earlier
    assert bodies_to(twilio_standin, first.sender) == ["same words", "same words"]


# A run that claims the reply's first part, then dies before sending it (no release, no renewal).
CRASHING_RUN = """
import os, sys
from switchboard.store import ConversationStore, HistoryLimits
from switchboard.store.connection import connect
url, prefix, sid = sys.argv[1:4]
store = ConversationStore(connect(url), prefix, HistoryLimits(20, 8000, 3600))
lease = store.lease(sid, "reply", seconds=1.0)
token = lease.__enter__()
assert token is not None and store.claim_part(store.load(sid), 0, token).outcome == "claimed"
os._exit(1)
"""


def test_a_crashed_runs_lease_lapses_and_the_next_run_checks_twilios_log_then_sends(
    store: ConversationStore, replies: ReplySender, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    message = answered(store, make_inbound(), "after the crash")
    crashed = subprocess.run([sys.executable, "-c", CRASHING_RUN, REDIS_URL, store.prefix, message.message_sid],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert crashed.returncode == 1, crashed.stderr

    refusals: list[str] = []
    sent = keep_trying(lambda: deliver_reply(store, replies, message.message_sid, WAIT), refusals)

    assert refusals, "the crashed run's lease should hold the reply until it lapses"
    assert bodies_to(twilio_standin, message.sender) == ["after the crash"]
    lookups = [r for r in twilio_standin.client.requests() if r["method"] == "GET"]
    assert lookups and all(r["params"]["To"] == message.sender for r in lookups)
    assert [m["sid"] for m in twilio_standin.client.messages()] == sent


def test_find_sent_matches_our_outbound_body_to_that_user_only(
    replies: ReplySender, twilio_standin: RunningStandin
) -> None:
    user, other, bot = "whatsapp:+15551110001", "whatsapp:+15551110002", "whatsapp:+15550000000"
    wanted = replies.send(to=user, from_=bot, body="hello there")
    replies.send(to=user, from_=bot, body="something else")
    replies.send(to=other, from_=bot, body="hello there")
    twilio_standin.client.add_inbound(user, bot, "hello there")  # the user's own words, inbound

    assert replies.find_sent(to=user, from_=bot, body="hello there", since=time.time()) == [wanted]
    [query, *_] = [r["params"] for r in twilio_standin.client.requests() if r["method"] == "GET"]
    assert query["To"] == user and query["From"] == bot and "DateSent>" in query


def test_a_lease_held_across_a_call_slower_than_the_lease_stays_held_until_released(
    store: ConversationStore, completions: CompletionClient, openai_standin: RunningStandin, make_inbound: Make
) -> None:
    sid = make_inbound().message_sid
    openai_standin.client.stall(1.2)  # four times the lease: only renewals keep it

    with store.lease(sid, "answer", seconds=0.3) as token:
        assert token is not None
        completions.complete([{"role": "user", "content": "slow"}])
        with store.lease(sid, "answer", seconds=0.3) as second:
            assert second is None
    with store.lease(sid, "answer", seconds=0.3) as after:
        assert after is not None


def test_only_the_lease_holder_claims_a_part_and_a_second_claim_says_it_may_have_been_sent(
    store: ConversationStore, make_inbound: Make
) -> None:
    message = answered(store, make_inbound(), "one part")
    stored = store.load(message.message_sid)
    assert stored is not None

    with store.lease(message.message_sid, "reply") as token:
        assert token is not None
        assert store.claim_part(stored, 0, "another run's token").outcome == "lost"
        first = store.claim_part(stored, 0, token)
        again = store.claim_part(stored, 0, token)

    assert first.outcome == "claimed" and again.outcome == "reclaimed"
    assert again.claimed_at == first.claimed_at
