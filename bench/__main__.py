"""Switchboard's benchmark: with and without the queue, to the limits of this machine.

    python -m bench run                      # the full run (a few minutes on 2 cores)
    python -m bench run --profile quick      # smaller, for trying changes
    python -m bench run --only 2             # one comparison (1 queue vs direct, 2 ack vs floor,
                                             # 3 end to end vs ceiling, 4 completions in flight,
                                             # 5 one message at a time, and the idle worker's cost)
    python -m bench report docs/bench/results.json   # tables, results.md and the PNG again
    python -m bench compare docs/bench/before/results.json docs/bench/results.json   # goals before/after

Starts the whole local stack as separate processes (moto's SQS server counting requests, the Twilio
and OpenAI stand-ins, the Procfile's web and worker lines, the floor app), runs the scenarios, stops
everything (error or not), prints the tables and writes results.json and results.png to --out
(docs/bench by default). Needs the tests' Redis (SWITCHBOARD_TEST_REDIS_URL, default 127.0.0.1:6379;
`python -m localdev with-redis -- python -m bench` brings one along); run from the repository root.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import before_after, ceiling, idle
from bench.comparisons import compare
from bench.plot import draw
from bench.report import (
    comparison_lines,
    cost_rows,
    goal_rows,
    hop_rows,
    machine,
    markdown_table,
    process_rows,
    run_rows,
    text_table,
)
from bench.runner import Runner
from bench.scenarios import COMPARISONS, PROFILES, scenarios
from bench.stack import REDIS_URL, BenchStack
from localdev.redis_keys import delete_keys_with_prefix

log = logging.getLogger("bench")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bench")
    run.add_argument("--profile", choices=sorted(PROFILES), default="full")
    run.add_argument("--only", default=",".join(COMPARISONS), help="comparisons to run, e.g. 1,3")
    run.add_argument("--scenario", action="append", default=[], metavar="NAME",
                     help="run only these scenarios (e.g. queue-0s); for before/after measurements")
    run.add_argument("--out", type=Path, default=Path("docs/bench"), help="where results.json/.png go")
    run.add_argument("--no-plot", action="store_true")
    run.add_argument("--worker-env", action="append", default=[], metavar="NAME=VALUE",
                     help="extra environment for every worker (e.g. SQS_POLLING_INTERVAL=0.1)")
    run.add_argument("--web-env", action="append", default=[], metavar="NAME=VALUE",
                     help="extra environment for every web process (e.g. WEB_THREADS=16)")
    again = commands.add_parser("report", help="print the tables and write results.md/.png again from a results.json")
    again.add_argument("results", type=Path)
    both = commands.add_parser("compare", help="the goals, costs and hops of two runs side by side (before, after)")
    both.add_argument("before", type=Path)
    both.add_argument("after", type=Path)
    both.add_argument("--out", type=Path, default=None,
                      help="the Markdown file to write (default: before-after.md beside the after results)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "report":
        results = json.loads(args.results.read_text())
        results["comparisons"] = _compare(results)
        return _report(results, args.results.parent, plot=True)
    if args.command == "compare":
        before, after = (json.loads(path.read_text()) for path in (args.before, args.after))
        for judged in (before, after):  # by today's code, whatever the file was written with
            judged["comparisons"] = _compare(judged)
        text = before_after.markdown(before, after, args.before, args.after)
        out = args.out or args.after.parent / "before-after.md"
        out.write_text(text)
        print(text + f"\nwrote {out}")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    # SIGTERM unwinds like Ctrl-C, so the finally below stops every process we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    profile = PROFILES[args.profile]
    only = tuple(part.strip() for part in args.only.split(",") if part.strip())
    load = os.getloadavg()[0]
    if load > 1.0:
        log.warning("load average %.1f: other work is running; numbers will be noisier than on an idle machine", load)
    plan = scenarios(profile, only)
    if args.scenario:
        plan = [s for s in plan if s.name in args.scenario]
    for scenario in plan:
        scenario.worker_env.update(_pairs(args.worker_env))
        scenario.web_env.update(_pairs(args.web_env))
    log_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    log.info("profile %s: %s scenarios; process logs in %s", profile.name, len(plan), log_dir)
    results: dict[str, Any] = {"profile": profile.name, "machine": machine(), "started_at": _now(),
                               "command": "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
                               "log_dir": str(log_dir), "runs": {}, "ceiling": None, "bare_hops": None, "idle": []}
    stack = BenchStack(log_dir)
    runner: Runner | None = None
    try:
        stack.start()
        runner = Runner(stack)
        measure_ceiling = "3" in only and bool(profile.ceiling_threads) and not args.scenario
        if measure_ceiling:  # before and after the scenarios: other work on the machine varies
            results["ceiling"] = {"loops": _ceiling(stack, profile, "start")}
        if profile.sequential and any(s.sequential for s in plan):  # the floor the one-at-a-time runs are judged by
            results["bare_hops"] = _bare_hops(stack, profile)
        for scenario in plan:
            log.info("run %s: %s %s, OpenAI %gs", scenario.name, scenario.app, scenario.traffic,
                     scenario.openai_latency)
            results["runs"][scenario.name] = run = runner.run(scenario)
            log.info("  ack p50 %s ms p99 %s ms; e2e p50 %s ms; replies/s %s; lost %s", run["ack_ms"]["p50"],
                     run["ack_ms"]["p99"], (run.get("e2e_ms") or {}).get("p50"), run.get("replies_per_s"),
                     run.get("lost"))
        if "5" in only and profile.idle_seconds and not args.scenario:
            results["idle"] = _idle(stack, profile, _pairs(args.worker_env))
        if measure_ceiling and profile.ceiling_at_end:
            results["ceiling"]["loops"] += _ceiling(stack, profile, "end", backlog=profile.burst)
        results["processes"] = stack.describe()
    finally:
        if runner is not None:
            runner.close()
        stack.stop()
        if stack.env:
            delete_keys_with_prefix(REDIS_URL, stack.env["REDIS_KEY_PREFIX"])
    results["finished_at"] = _now()
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["comparisons"] = _compare(results)
    return _report(results, args.out, plot=not args.no_plot)


def _compare(results: dict[str, Any]) -> dict[str, Any]:
    return compare(results["runs"], results["ceiling"], results.get("bare_hops"), results.get("idle"))


def _bare_hops(stack: BenchStack, profile: Any) -> dict[str, Any]:
    """The 3 bare SQS hops, one message at a time, on moto alone: what one message needs at the least."""
    stack.worker(None)
    urls = ceiling.create_hop_queues(stack.sqs_client(), f"bench{stack.tag}-bare-")
    log.info("bare SQS hops: %s messages one at a time through 3 queues (plain boto3)", profile.sequential)
    bare = ceiling.one_at_a_time(stack.sqs_client, urls, profile.sequential)
    log.info("  p50 %s ms, p99 %s ms", bare["latency_ms"]["p50"], bare["latency_ms"]["p99"])
    return bare


def _idle(stack: BenchStack, profile: Any, worker_env: dict[str, str]) -> list[dict[str, Any]]:
    """The idle worker's requests with the bench's (emulator) settings, then with AWS's 20 s long poll."""
    plans = [("emulator", worker_env), ("AWS-like", {**worker_env, "SQS_WAIT_TIME_SECONDS": "20"})]
    # zip: a profile may measure only the first (the smoke profile skips the 20 s polls).
    return [idle.measure(stack, label, seconds, env)
            for (label, env), seconds in zip(plans, profile.idle_seconds, strict=False)]


def _ceiling(stack: BenchStack, profile: Any, when: str, backlog: int = 0) -> list[dict[str, Any]]:
    """The boto3 loop at each thread count on short queues, then (if `backlog`) at the best count with one."""
    stack.worker(None)  # moto serves the loop alone
    sqs = stack.sqs_client()
    loops = []
    plan = [(threads, 0) for threads in profile.ceiling_threads]
    if backlog:
        plan.append((max(profile.ceiling_threads), backlog))
    for threads, depth in plan:
        urls = ceiling.create_hop_queues(sqs, f"bench{stack.tag}-{when}-", depth)
        log.info("ceiling (%s): plain boto3 loop, %s thread(s), %s messages parked per queue, %ss", when, threads,
                 depth, profile.ceiling_seconds)
        loop = ceiling.measure(stack.sqs_client, urls, threads, profile.ceiling_seconds, depth)
        loops.append({**loop, "when": when})
        log.info("  %s msgs/s through 3 hops", loop["messages_per_s"])
    return loops


def _report(results: dict[str, Any], out: Path, plot: bool) -> int:
    out.mkdir(parents=True, exist_ok=True)
    m = results["machine"]
    header, rows = run_rows(results["runs"])
    p_header, p_rows = process_rows(results["runs"])
    lines = comparison_lines(results["comparisons"])
    g_header, g_rows = goal_rows(results["comparisons"]["goals"])
    h_header, h_rows = hop_rows(results["runs"])
    (c_header, c_rows), (i_header, i_rows) = cost_rows(results["comparisons"]["costs"])
    print(f"\nSwitchboard bench, profile {results['profile']}, {results['finished_at']}")
    print(f"machine: {m['cores']} cores, {m['cpu_model']}, Python {m['python']}, load average at start "
          f"{m['load_average_at_start'][0]}, at end {m['load_average_at_end'][0]}\n")
    print(text_table(header, rows))
    if results["ceiling"]:
        print("\nceiling (plain boto3, 3 hops): " + _ceiling_text(results["ceiling"]))
    if p_rows:
        print("\nCPU (% of one core) and peak memory (MB) per process group\n" + text_table(p_header, p_rows))
    print("\n" + "\n".join(lines))
    if h_rows:
        print("\nwhere the time goes (worker hop timings, ms: mean/p50 per delivery)\n" + text_table(h_header, h_rows))
    price = results["comparisons"]["costs"]["usd_per_million_requests"]
    print(f"\nSQS cost at ${price:.2f} per million FIFO requests\n" + text_table(c_header, c_rows) + "\n\n"
          + text_table(i_header, i_rows))
    print("\ngoals\n" + text_table(g_header, g_rows))
    results["tables_markdown"] = {"runs": markdown_table(header, rows),
                                  "processes": markdown_table(p_header, p_rows) if p_rows else "",
                                  "comparisons": lines, "goals": markdown_table(g_header, g_rows),
                                  "hops": markdown_table(h_header, h_rows) if h_rows else "",
                                  "costs": markdown_table(c_header, c_rows) + "\n\n" + markdown_table(i_header, i_rows)}
    json_path = out / "results.json"
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    (out / "results.md").write_text(_markdown(results))
    print(f"\nwrote {json_path} and results.md")
    if plot:
        png = draw(results, out / "results.png")
        print(f"wrote {png}" if png else "no plot: matplotlib is not installed (pip install -e '.[bench]')")
    lost = sum(r.get("lost") or 0 for r in results["runs"].values())
    return 1 if lost else 0


def _markdown(results: dict[str, Any]) -> str:
    m, tables = results["machine"], results["tables_markdown"]
    ceiling_line = ""
    if results["ceiling"]:
        ceiling_line = "\nCeiling (plain boto3 loop, 3 hops): " + _ceiling_text(results["ceiling"]) + "\n"
    return (f"# Latest bench results\n\n`{results['command']}`, profile {results['profile']}, finished "
            f"{results['finished_at']}.\nMachine: {m['cores']} cores, {m['cpu_model']}, Python {m['python']}; "
            f"load average {m['load_average_at_start'][0]} at the start, {m['load_average_at_end'][0]} at the end."
            f"\n\nLatencies in ms.\n\n{tables['runs']}\n{ceiling_line}\n"
            f"CPU in % of one core (200 % = the whole machine), peak resident memory in MB:\n\n"
            f"{tables['processes']}\n\n" + "\n".join(f"* {line}" for line in tables["comparisons"]) + "\n"
            + _bare_line(results)
            + (f"\nWhere the time goes (the worker's hop timings, ms, mean/p50 per delivery):\n\n{tables['hops']}\n"
               if tables["hops"] else "")
            + f"\nSQS cost at ${results['comparisons']['costs']['usd_per_million_requests']:.2f} per million FIFO "
              f"requests:\n\n{tables['costs']}\n\nGoals:\n\n{tables['goals']}\n")


def _bare_line(results: dict[str, Any]) -> str:
    bare = results.get("bare_hops")
    if not bare:
        return ""
    ms = bare["latency_ms"]
    return (f"\nThe 3 bare SQS hops, one message at a time (plain boto3, {bare['messages']} messages): "
            f"p50 {ms['p50']} ms, p99 {ms['p99']} ms.\n")


def _ceiling_text(result: dict[str, Any]) -> str:
    return ", ".join(f"{c['when']}: {c['threads']} thread(s), {c['backlog_per_queue']} parked, "
                     f"{c['messages_per_s']} msgs/s" for c in result["loops"])


def _pairs(items: list[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in items)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


if __name__ == "__main__":
    sys.exit(main())
