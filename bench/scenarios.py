"""What the bench runs: the five comparisons as scenarios, at four sizes (full, quick, smoke, tiny).

1. queue vs direct: the same traffic in both modes at OpenAI latency 0, 1 and 3 s.
2. the webhook's ack against its floors: a bare SendMessage endpoint and a null endpoint under the
   same gunicorn settings, at N simultaneous senders and at a steady rate; plus the webhook with no
   worker draining (what the worker's share of the one-at-a-time moto costs the ack), a cold start,
   and the SendMessage floor against an unmodified moto_server (what counting requests costs).
3. end to end against the emulator's ceiling (bench.ceiling, run separately).
4. completions in flight at 2 s OpenAI latency, worker thread pool at several concurrencies.
5. one message at a time, OpenAI instant: new senders, and one sender's messages in a row, against
   the three bare SQS hops (bench.ceiling.one_at_a_time, run separately); and what an idle worker
   costs in requests (bench.idle, after the scenarios).

`smoke` runs one small scenario of each comparison (and the idle cost once) in well under a minute:
CI's second bench profile. `tiny` is one scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.runner import Scenario


@dataclass(frozen=True)
class Profile:
    name: str
    senders: int  # comparison 1 and 2: simultaneous users
    per_user: int
    rate: float  # comparison 2: steady messages/s
    rate_seconds: float
    latencies: tuple[float, ...]  # comparison 1
    inflight_users: int  # comparison 4
    inflight_per_user: int
    concurrencies: tuple[int, ...]
    ceiling_seconds: float
    ceiling_threads: tuple[int, ...]
    long_latency: float = 0.0  # comparison 4 diagnostic: OpenAI latency at which the pool can fill
    burst_latency: float = -1.0  # comparison 1: also run users sending 2 messages at once at this latency
    sequential: int = 0  # comparison 5: messages one at a time, per scenario (and bare 3-hop messages)
    idle_seconds: tuple[float, ...] = ()  # comparison 5: idle worker windows, emulator then AWS-like settings
    warm_up: int = 16  # warm-up messages before each warm scenario (one per gunicorn thread)
    ceiling_at_end: bool = True  # the ceiling again after the scenarios (other work on the machine varies)

    @property
    def burst(self) -> int:
        """Messages one closed-loop run puts on the queues at once: the ceiling's backlog diagnostic."""
        return self.senders * self.per_user


PROFILES = {
    "full": Profile("full", senders=60, per_user=3, rate=50, rate_seconds=8, latencies=(0, 1, 3),
                    inflight_users=200, inflight_per_user=1, concurrencies=(16, 64, 200),
                    ceiling_seconds=6, ceiling_threads=(1, 4), long_latency=20, burst_latency=3,
                    sequential=30, idle_seconds=(20, 60)),
    "quick": Profile("quick", senders=20, per_user=2, rate=20, rate_seconds=4, latencies=(0, 1),
                     inflight_users=40, inflight_per_user=1, concurrencies=(16, 64),
                     ceiling_seconds=3, ceiling_threads=(2,), sequential=10, idle_seconds=(10, 40)),
    "smoke": Profile("smoke", senders=3, per_user=1, rate=10, rate_seconds=0.4, latencies=(0,),
                     inflight_users=4, inflight_per_user=1, concurrencies=(16,), ceiling_seconds=1,
                     ceiling_threads=(1,), sequential=3, idle_seconds=(2,), warm_up=2, ceiling_at_end=False),
    "tiny": Profile("tiny", senders=5, per_user=2, rate=0, rate_seconds=0, latencies=(0,),
                    inflight_users=0, inflight_per_user=0, concurrencies=(), ceiling_seconds=0, ceiling_threads=()),
}

COMPARISONS = ("1", "2", "3", "4", "5")


def scenarios(profile: Profile, only: tuple[str, ...] = COMPARISONS) -> list[Scenario]:
    p = profile
    if p.name == "tiny":
        return [Scenario("queue-0s", "1", "queue", p.senders, p.per_user)]
    if p.name == "smoke":
        return [s for s in _smoke(p) if s.comparison in only or (s.name == "queue-0s" and set(only) & {"2", "3"})]
    # One message at a time first, right after the bare hops it is judged by (measured at the start): run
    # after the bursts, ten minutes later, the two no longer shared the machine's load or the emulator's state.
    result: list[Scenario] = _sequential(p) if "5" in only and p.sequential else []
    if "1" in only or "2" in only or "3" in only:  # queue-0s is in 1, 2 and 3
        for latency in p.latencies:
            for app in ("queue", "direct"):
                if "1" in only or (app == "queue" and latency == 0):
                    result.append(Scenario(f"{app}-{latency:g}s", "1", app, p.senders, p.per_user,
                                           openai_latency=latency))
    if "1" in only and p.burst_latency in p.latencies:
        for app in ("queue", "direct"):  # the same users, each typing two lines at once: twice the concurrency
            result.append(Scenario(f"{app}-{p.burst_latency:g}s-burst", "1", app, p.senders, 2, burst=2,
                                   openai_latency=p.burst_latency))
    if "2" in only:
        rate_users = max(1, int(p.rate * p.rate_seconds) // 4)
        steady: dict[str, Any] = dict(users=rate_users, per_user=4, rate=p.rate)
        result += [
            Scenario("floor-null", "2", "floor-null", p.senders, p.per_user),
            Scenario("floor-send", "2", "floor-send", p.senders, p.per_user, drained=True),
            Scenario("floor-send-plain-moto", "2", "floor-send", p.senders, p.per_user, plain_moto=True, drained=True,
                     note="SendMessage floor against an unmodified moto_server: the cost of counting"),
            Scenario("webhook-drained", "2", "queue", p.senders, p.per_user, worker_concurrency=None, drained=True,
                     note="no worker: the bench drains the intake queue as it drains the floor's"),
            Scenario("webhook-cold", "2", "queue", p.senders, 1, warm=False,
                     note="first traffic after the web starts: connections opened on demand"),
            Scenario("floor-null-steady", "2", "floor-null", **steady),
            Scenario("floor-send-steady", "2", "floor-send", drained=True, **steady),
            Scenario("webhook-steady", "2", "queue", **steady),
            Scenario("webhook-drained-steady", "2", "queue", worker_concurrency=None, drained=True,
                     note="no worker: the bench drains the intake queue as it drains the floor's", **steady),
        ]
    if "4" in only:
        for concurrency in p.concurrencies:
            result.append(Scenario(f"inflight-c{concurrency}", "4", "queue", p.inflight_users, p.inflight_per_user,
                                   openai_latency=2, worker_concurrency=concurrency))
        if p.long_latency:
            top = max(p.concurrencies)
            result.append(Scenario(f"inflight-c{top}-{p.long_latency:g}s", "4", "queue", p.inflight_users, 1,
                                   openai_latency=p.long_latency, worker_concurrency=top,
                                   note="diagnostic: a latency long enough for the SQS ceiling to fill the pool"))
    return result


def _sequential(p: Profile) -> list[Scenario]:
    return [Scenario("seq-new", "5", "queue", p.sequential, 1, sequential=True, warm_up_messages=p.warm_up,
                     note="one message at a time, each from a sender never seen, the next once its reply is in"),
            Scenario("seq-next", "5", "queue", 1, p.sequential, sequential=True, warm_up_messages=p.warm_up,
                     note="one sender's messages one at a time, the next once the previous reply is in")]


def _smoke(p: Profile) -> list[Scenario]:
    """One small scenario of each comparison, ordered so the web and the worker restart as rarely as possible."""
    warm = p.warm_up
    steady: dict[str, Any] = dict(users=2, per_user=2, rate=p.rate)
    # The web starts 3 times (floor, direct, queue), the worker once, and the idle measurement after
    # the last scenario keeps the same worker.
    return [
        Scenario("floor-send", "2", "floor-send", p.senders, p.per_user, drained=True, warm_up_messages=warm),
        Scenario("direct-0s", "1", "direct", p.senders, p.per_user, warm_up_messages=warm),
        # Two runs without a worker back to back: the second used to stop at PurgeQueueInProgress.
        Scenario("webhook-drained", "2", "queue", p.senders, p.per_user, worker_concurrency=None, drained=True,
                 warm_up_messages=warm),
        Scenario("webhook-drained-steady", "2", "queue", worker_concurrency=None, drained=True,
                 warm_up_messages=warm, **steady),
        Scenario("queue-0s", "1", "queue", p.senders, p.per_user, warm_up_messages=warm),
        Scenario("inflight-c16", "4", "queue", p.inflight_users, 1, openai_latency=2, warm_up_messages=warm),
        *_sequential(p),
    ]
