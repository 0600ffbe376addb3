"""The store's Twilio request slots and holds on the real Redis: a counting semaphore with leases, shared by processes."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import redis

from localdev.polling import wait_for
from switchboard.store import ConversationStore, HistoryLimits
from switchboard.store.connection import connect
from tests.switchboard.conftest import REDIS_URL

LEASE = 30.0


def another_process(store: ConversationStore) -> ConversationStore:
    """A store on its own connection under the same prefix: what another worker process or host sees."""
    return ConversationStore(connect(REDIS_URL, timeout_seconds=5), store.prefix, HistoryLimits(1, 100, 60))


def test_slots_are_given_up_to_the_limit_and_refused_past_it(store: ConversationStore) -> None:
    taken = [store.take_twilio_slot(f"t{i}", limit=3, lease_seconds=LEASE) for i in range(4)]

    assert taken == [True, True, True, False]
    assert store.twilio_slots_held() == 3


def test_the_limit_counts_the_holders_of_every_process(store: ConversationStore) -> None:
    other = another_process(store)
    assert store.take_twilio_slot("here", limit=2, lease_seconds=LEASE)
    assert other.take_twilio_slot("there", limit=2, lease_seconds=LEASE)

    assert not store.take_twilio_slot("one-more", limit=2, lease_seconds=LEASE)
    assert not other.take_twilio_slot("one-more", limit=2, lease_seconds=LEASE)


def test_a_freed_slot_can_be_taken_again(store: ConversationStore) -> None:
    assert store.take_twilio_slot("first", limit=1, lease_seconds=LEASE)
    assert not store.take_twilio_slot("second", limit=1, lease_seconds=LEASE)

    store.free_twilio_slot("first")

    assert store.take_twilio_slot("second", limit=1, lease_seconds=LEASE)


def test_freeing_a_slot_not_held_changes_nothing(store: ConversationStore) -> None:
    assert store.take_twilio_slot("held", limit=1, lease_seconds=LEASE)

    store.free_twilio_slot("never-taken")

    assert store.twilio_slots_held() == 1
    assert not store.take_twilio_slot("other", limit=1, lease_seconds=LEASE)


def test_a_holder_that_died_frees_its_slot_when_its_lease_ends(store: ConversationStore) -> None:
    assert store.take_twilio_slot("crashed", limit=1, lease_seconds=0.2)  # never freed: its process died
    assert not store.take_twilio_slot("waiting", limit=1, lease_seconds=LEASE)

    wait_for(lambda: store.take_twilio_slot("waiting", limit=1, lease_seconds=LEASE), timeout=5,
             message="the dead holder's lease to end")
    assert store.twilio_slots_held() == 1


def test_the_slots_key_lives_as_long_as_its_longest_lease_and_no_longer(
    store: ConversationStore, redis_client: redis.Redis
) -> None:
    store.take_twilio_slot("long", limit=5, lease_seconds=60)
    store.take_twilio_slot("short", limit=5, lease_seconds=5)

    ttl = redis_client.pttl(store._key("twilio-slots"))

    assert 55_000 < ttl <= 60_000


def test_many_threads_of_two_processes_never_hold_more_than_the_limit(store: ConversationStore) -> None:
    limit, holders, most = 3, 0, 0
    counting = threading.Lock()
    processes = [store, another_process(store)]

    def request(number: int) -> None:
        nonlocal holders, most
        slots, token = processes[number % 2], uuid.uuid4().hex
        wait_for(lambda: slots.take_twilio_slot(token, limit, LEASE), timeout=30, interval=0.001,
                 message="a free slot")
        with counting:
            holders += 1
            most = max(most, holders)
        time.sleep(0.002)  # the request to Twilio
        with counting:
            holders -= 1
        slots.free_twilio_slot(token)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(request, range(120)))

    assert 1 <= most <= limit
    assert store.twilio_slots_held() == 0


def test_a_hold_lasts_its_seconds_and_is_never_shortened_by_a_shorter_one(store: ConversationStore) -> None:
    store.hold_twilio("account", 30, "20429")
    store.hold_twilio("account", 1, "20429")

    assert 29 < store.twilio_held_for(["account"]) <= 30


def test_a_longer_hold_extends_a_shorter_one(store: ConversationStore) -> None:
    store.hold_twilio("sender:whatsapp:+15550000000", 1, "63018")
    store.hold_twilio("sender:whatsapp:+15550000000", 20, "63018")

    assert 19 < store.twilio_held_for(["sender:whatsapp:+15550000000"]) <= 20


def test_held_for_is_the_longest_hold_of_the_scopes_asked_and_zero_without_one(store: ConversationStore) -> None:
    assert store.twilio_held_for(["account", "sender:whatsapp:+15550000000"]) == 0

    store.hold_twilio("sender:whatsapp:+15550000000", 10, "63018")
    store.hold_twilio("sender:whatsapp:+15559999999", 40, "63018")

    assert 9 < store.twilio_held_for(["account", "sender:whatsapp:+15550000000"]) <= 10
    assert another_process(store).twilio_held_for(["sender:whatsapp:+15559999999"]) > 39


def test_a_hold_ends_by_itself(store: ConversationStore) -> None:
    store.hold_twilio("account", 0.1, "20429")

    wait_for(lambda: store.twilio_held_for(["account"]) == 0, timeout=5, message="the hold to end")
