"""One scenario, start to finish: the right processes, the OpenAI latency, warm-up, traffic, drain, numbers."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
import requests

from bench import hops, loadgen
from bench.drainer import QueueDrainer
from bench.metrics import in_flight, per_second, sqs_delta, summarise, token_of
from bench.sampler import ProcessSampler
from bench.stack import REDIS_URL, BenchStack
from switchboard.store import ConversationStore, HistoryLimits

WARM_UP_MESSAGES = 16  # one per gunicorn thread (2 workers x 8): every thread's first request is done
WARM_UP_USER = 9_000_000  # user indexes from here on are warm-up users, never measured
REPLY_POLL_SECONDS = 0.005  # one at a time: how often the bench asks the Twilio stand-in for the reply


@dataclass(frozen=True)
class Scenario:
    name: str
    comparison: str
    app: str  # "queue", "direct", "floor-send", "floor-null"
    users: int
    per_user: int
    rate: float | None = None  # messages/s, open loop; None: closed loop (users = simultaneous senders)
    burst: int = 1  # closed loop: each user keeps this many messages in flight (a user typing several lines)
    openai_latency: float = 0.0
    worker_concurrency: int | None = 16  # None: no worker runs
    worker_env: dict[str, str] = field(default_factory=dict)
    web_env: dict[str, str] = field(default_factory=dict)
    warm: bool = True  # False: the web starts fresh and the first request is measured
    plain_moto: bool = False  # floor-send against an unmodified moto_server
    drained: bool = False  # the bench keeps the queue sent to short (floor-send; queue mode without a worker)
    drain_timeout: float = 240.0
    sequential: bool = False  # one message at a time, in user order: the next leaves once the reply is in
    warm_up_messages: int = WARM_UP_MESSAGES
    note: str = ""

    @property
    def expects_replies(self) -> bool:
        return self.app == "direct" or (self.app == "queue" and self.worker_concurrency is not None)

    @property
    def traffic(self) -> str:
        total = self.users * self.per_user
        if self.sequential:
            return f"{total} msgs one at a time, " + ("new senders" if self.per_user == 1 else "one sender")
        if self.rate:
            return f"{total} msgs at {self.rate:g}/s, {self.users} users"
        if self.burst > 1:
            return f"{self.users} users x {self.per_user}, {self.burst} at once"
        return f"{self.users} senders x {self.per_user}"


class Runner:
    def __init__(self, stack: BenchStack) -> None:
        self.stack = stack
        self.count = 0
        self.plain_moto: Any = None
        self.twilio = stack.standin("twilio")
        self.openai = stack.standin("openai")
        self.drain_target: tuple[str | None, str] | None = None  # (endpoint, queue name) of this run

    def run(self, scenario: Scenario) -> dict[str, Any]:
        self.count += 1
        target = self._prepare(scenario)
        per_user = loadgen.build_messages(target, self.count, scenario.users, scenario.per_user)
        if scenario.warm:
            self._warm_up(scenario, target)
        self._reset_recordings()
        sampler = ProcessSampler(self._pids)
        counts_before = self.stack.sqs_counts()
        hops_before = self._hops_settled(timeout=3.0) if scenario.expects_replies else None
        sampler.start()
        drainer = self._drainer(scenario)
        messages = [m for row in per_user for m in row]
        if scenario.sequential:
            start = loadgen.run_sequential(target, messages, ReplyWatch(self.stack.twilio_url).wait)
        elif scenario.rate:
            start = loadgen.run_open(target, loadgen.interleave(per_user), scenario.rate)
        else:
            # A user with `burst` messages in flight is `burst` senders taking turns at its messages.
            start = loadgen.run_closed(target, [row[k::scenario.burst] for row in per_user
                                                for k in range(scenario.burst)])
        if scenario.worker_concurrency is None and scenario.app == "queue" and drainer is None:
            drainer = self._drainer(scenario, always=True)  # nobody consumes the stage queues: empty them
        # Emptied, not purged: the next run must not inherit messages, and SQS (and moto) refuse a
        # second PurgeQueue on a queue within 60 s.
        drained = drainer.finish() if drainer else None
        replies = self._drain(messages, scenario) if scenario.expects_replies else []
        hops_after = self._hops_settled() if scenario.expects_replies else None
        processes = sampler.stop()
        counts_after = self.stack.sqs_counts()
        spans = self._events(self.stack.openai_url)
        result = summarise(messages, replies, self._seqs(messages) if replies else {},
                           scenario.expects_replies, start)
        result.update({
            "scenario": {**asdict(scenario), "traffic": scenario.traffic},
            "sqs": sqs_delta(counts_before, counts_after, result.get("replies") or 0),
            "drained_by_bench": drained,
            "largest_body_bytes": drainer.largest_body_bytes if drainer else None,
            "hops": hops.breakdown(hops_before, hops_after),
            "bench_cpu_ms_per_message": _bench_cpu_per_message(processes, len(messages)),
            "processes": processes,
            "completions_in_flight": in_flight(spans, start),
            "series": {"acks_per_s": per_second([m.acked for m in messages], start),
                       "replies_per_s": per_second([float(r["t"]) for r in replies], start)},
            "samples": {"ack_ms": sorted(round((m.acked - m.sent) * 1000, 2) for m in messages if m.status == 200),
                        "e2e_ms": _e2e_samples(messages, replies)},
        })
        return result

    def close(self) -> None:
        if self.plain_moto is not None:
            self.plain_moto.stop()

    # --- set-up
    def _prepare(self, scenario: Scenario) -> loadgen.Target:
        stack = self.stack
        if scenario.app in ("floor-send", "floor-null"):
            stack.worker(None)
            web_env = dict(scenario.web_env)
            if scenario.plain_moto:
                if self.plain_moto is None:
                    self.plain_moto = stack.start_plain_moto()
                web_env["FLOOR_SQS_ENDPOINT"] = self.plain_moto.endpoint_url
            # moto's FIFO SendMessage slows as its queue grows: every floor run gets a new, empty queue.
            web_env["FLOOR_QUEUE_NAME"] = stack.new_floor_queue(web_env.get("FLOOR_SQS_ENDPOINT"), self.count)
            self.drain_target = (web_env.get("FLOOR_SQS_ENDPOINT"), web_env["FLOOR_QUEUE_NAME"])
            url = stack.web("floor", web_env) + ("/send" if scenario.app == "floor-send" else "/null")
        else:
            stack.worker(scenario.worker_concurrency if scenario.app == "queue" else None, scenario.worker_env)
            url = stack.web(scenario.app, scenario.web_env, fresh=not scenario.warm) + "/twilio/messages"
            self.drain_target = (None, f"bench{stack.tag}-intake.fifo")
        self.openai.reset()
        if scenario.openai_latency > 0:
            self.openai.stall(scenario.openai_latency, times=-1)
        return loadgen.Target(url, stack.account_sid, stack.auth_token)

    def _warm_up(self, scenario: Scenario, target: loadgen.Target) -> None:
        rows = loadgen.build_messages(target, self.count, scenario.warm_up_messages, 1, first_user=WARM_UP_USER)
        loadgen.run_closed(target, rows)
        if scenario.expects_replies:
            self._drain([m for row in rows for m in row], scenario, timeout=120)

    def _drainer(self, scenario: Scenario, always: bool = False) -> QueueDrainer | None:
        if not (scenario.drained or always) or self.drain_target is None:
            return None
        endpoint, name = self.drain_target
        sqs = self.stack.sqs_client(endpoint)
        return QueueDrainer(sqs, sqs.get_queue_url(QueueName=name)["QueueUrl"]).start()

    def _reset_recordings(self) -> None:
        self.twilio.reset()  # the stand-in's own list of sends would grow over the whole run
        for url in (self.stack.twilio_url, self.stack.openai_url):
            requests.post(f"{url}/_bench/reset", timeout=10).raise_for_status()

    def _pids(self) -> dict[str, list[int]]:
        pids = self.stack.pids()
        if self.plain_moto is not None and self.plain_moto.process is not None:
            pids["moto (SQS)"] = pids.get("moto (SQS)", []) + [self.plain_moto.process.proc.pid]
        return pids

    # --- after the traffic
    def _drain(self, messages: list[loadgen.Message], scenario: Scenario,
               timeout: float | None = None) -> list[dict[str, Any]]:
        """Collect the Twilio stand-in's stamped sends until every acknowledged message has a reply."""
        wanted = {m.token for m in messages if m.status == 200}
        seen: set[str] = set()
        replies: list[dict[str, Any]] = []
        deadline = time.monotonic() + (timeout or scenario.drain_timeout)
        while time.monotonic() < deadline:
            fresh = self._events(self.stack.twilio_url, since=len(replies))
            replies += fresh
            seen.update(_token(r) for r in fresh)
            if wanted <= seen:
                time.sleep(0.5)  # a duplicate would most likely show up right behind the original
                return replies + self._events(self.stack.twilio_url, since=len(replies))
            time.sleep(0.1)  # the measurement's polling cadence; replies carry their own time stamps
        return replies

    def _hops_settled(self, timeout: float = 10.0) -> hops.Snapshot | None:
        """The worker's hop histograms once every delivery it has run has been acknowledged (or `timeout`)."""
        deadline = time.monotonic() + timeout
        while True:
            now = hops.scrape(self.stack.worker_metrics_url)
            if hops.acks_caught_up(None, now) or time.monotonic() > deadline:
                return now
            time.sleep(0.05)  # polling cadence: the last acks follow the last replies by milliseconds

    def _events(self, url: str, since: int = 0) -> list[dict[str, Any]]:
        response = requests.get(f"{url}/_bench/events", params={"since": since}, timeout=30)
        response.raise_for_status()
        return list(response.json()["events"])

    def _seqs(self, messages: list[loadgen.Message]) -> dict[str, int]:
        client = redis.Redis.from_url(REDIS_URL)
        store = ConversationStore(client, self.stack.env["REDIS_KEY_PREFIX"], HistoryLimits(1, 100, 60))
        try:
            loaded = ((m.sid, store.load(m.sid)) for m in messages)
            return {sid: stored.seq for sid, stored in loaded if stored is not None}
        finally:
            client.close()



class ReplyWatch:
    """Waits for one message's reply at the Twilio stand-in: what a sequential run waits on between sends."""

    def __init__(self, twilio_url: str) -> None:
        self.url = f"{twilio_url}/_bench/events"
        self.session = requests.Session()
        self.cursor = 0
        self.seen: set[str] = set()

    def wait(self, message: loadgen.Message, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            response = self.session.get(self.url, params={"since": self.cursor}, timeout=10)
            response.raise_for_status()
            events = response.json()["events"]
            self.cursor += len(events)
            self.seen.update(_token(event) for event in events)
            if message.token in self.seen:
                return True
            if time.monotonic() > deadline:
                return False  # counted as lost at the end; the next message goes anyway
            time.sleep(REPLY_POLL_SECONDS)


def _token(reply: dict[str, Any]) -> str:
    return token_of(str(reply.get("body", ""))) or ""


def _e2e_samples(messages: list[loadgen.Message], replies: list[dict[str, Any]]) -> list[float]:
    first: dict[str, float] = {}
    for reply in replies:
        first.setdefault(token_of(str(reply.get("body", ""))) or "", float(reply["t"]))
    return sorted(round((first[m.token] - m.sent) * 1000, 2) for m in messages if m.token in first)


def _bench_cpu_per_message(processes: dict[str, Any], messages: int) -> float | None:
    """The bench process's CPU per message sent: on floor-null it is the load generator's own cost."""
    bench = processes.get("roles", {}).get("bench (load generator)")
    if not bench or not messages:
        return None
    return round(bench["cpu_percent"] / 100 * processes["window_seconds"] / messages * 1000, 3)
