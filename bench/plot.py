"""The bench's PNG, one panel per question: latency distributions, throughput, ceiling, in flight, one at a time, hops.

Needs matplotlib (the `bench` extra); without it `draw` returns None and the run goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.hops import PHASES, per_message_ms

Runs = dict[str, dict[str, Any]]


def draw(results: dict[str, Any], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    runs: Runs = results["runs"]
    one = {n: r for n, r in runs.items() if r["scenario"]["comparison"] == "1"}
    two = {n: r for n, r in runs.items() if r["scenario"]["comparison"] == "2" or n == "queue-0s"}
    four = {n: r for n, r in runs.items() if r["scenario"]["comparison"] == "4"}
    fig, axes = plt.subplots(2, 4, figsize=(25, 10))
    _cdf(axes[0][0], one, "ack_ms", "1. webhook ack, queue (solid) vs direct (dashed)", twilio_limit=True)
    _cdf(axes[0][1], one, "e2e_ms", "1. end to end: sent -> reply accepted by Twilio")
    _throughput(axes[0][2], {**one, **{n: r for n, r in two.items() if r.get("replies")}},
                "1. replies accepted per second")
    _cdf(axes[1][0], two, "ack_ms", "2. webhook ack vs its floors")
    _ceiling(axes[1][1], runs, results.get("ceiling"))
    _in_flight(axes[1][2], four)
    _one_at_a_time(axes[0][3], runs, results.get("bare_hops"))
    _hops(axes[1][3], runs)
    m = results["machine"]
    fig.suptitle(f"Switchboard bench ({results['profile']}, {results['finished_at']}): {m['cores']} cores, "
                 f"{m['cpu_model']}, Python {m['python']}; moto serves one request at a time")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


LATENCY_COLOURS = {0: "tab:blue", 1: "tab:green", 3: "tab:purple"}


def _style(name: str, run: dict[str, Any]) -> dict[str, Any]:
    scenario = run["scenario"]
    style = {"label": name, "linewidth": 1.2,
             "linestyle": "--" if scenario["app"] in ("direct", "floor-send", "floor-null") else "-"}
    if scenario["comparison"] == "1":  # queue and direct at the same OpenAI latency share a colour
        style["color"] = LATENCY_COLOURS.get(int(scenario["openai_latency"]), "tab:gray")
        if scenario.get("burst", 1) > 1:
            style.update(color="tab:red", linestyle="-." if scenario["app"] == "direct" else ":")
    return style


def _cdf(ax: Any, runs: Runs, key: str, title: str, twilio_limit: bool = False) -> None:
    for name, run in runs.items():
        samples = run["samples"][key]
        if samples:
            n = len(samples)
            ax.plot([max(s, 0.5) for s in samples], [(i + 1) / n for i in range(n)], **_style(name, run))
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds (log)")
    ax.set_ylabel("fraction of messages")
    ax.set_title(title)
    if twilio_limit:
        ax.axvline(15000, color="red", linewidth=0.8)
        ax.text(15000, 0.02, " Twilio gives up", color="red", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _throughput(ax: Any, runs: Runs, title: str) -> None:
    for name, run in runs.items():
        series = run["series"]["replies_per_s"]
        if series:
            ax.plot(range(len(series)), series, drawstyle="steps-post", **_style(name, run))
    ax.set_xlabel("seconds after the first message")
    ax.set_ylabel("replies per second")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _ceiling(ax: Any, runs: Runs, ceiling: dict[str, Any] | None) -> None:
    queue = {n: r["replies_per_s"] for n, r in runs.items() if r["scenario"]["app"] == "queue" and r.get("replies_per_s")
             and not r["scenario"].get("sequential")}  # one at a time: a latency, not a throughput
    ax.barh(list(queue), list(queue.values()), color="tab:blue")
    if ceiling:
        best = max(loop["messages_per_s"] for loop in ceiling["loops"] if not loop.get("backlog_per_queue"))
        ax.axvline(best, color="red", linewidth=1)
        ax.axvline(best * 0.8, color="red", linewidth=0.8, linestyle="--")
        ax.axvline(best / 2, color="red", linewidth=0.8, linestyle=":")
        ax.text(best, -0.6, " boto3 3-hop ceiling", color="red", fontsize=8)
        ax.text(best * 0.8, -1.0, " goal: 0.8", color="red", fontsize=8)
        ax.text(best / 2, -0.6, " earlier goal: half", color="red", fontsize=8)
        for loop in ceiling["loops"]:
            if loop.get("backlog_per_queue"):
                ax.axvline(loop["messages_per_s"], color="darkorange", linewidth=1)
                ax.text(loop["messages_per_s"], len(queue) - 0.2,
                        f" ceiling with {loop['backlog_per_queue']} parked per queue", color="darkorange", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("replies per second (queue mode)")
    ax.set_title("3. end to end against the emulator's ceiling")
    ax.grid(True, axis="x", alpha=0.3)


def _in_flight(ax: Any, runs: Runs) -> None:
    for name, run in runs.items():
        flight = run["completions_in_flight"]
        if flight["series"]:
            label = f"{name} ({run['scenario']['openai_latency']:g} s)"
            ax.plot([i * flight["step_s"] for i in range(len(flight["series"]))], flight["series"], label=label)
    ax.axhline(200, color="red", linewidth=0.8, linestyle=":")
    ax.set_xlabel("seconds after the first message")
    ax.set_ylabel("OpenAI completions in flight")
    ax.set_title("4. completions in flight, worker thread pool")
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def _one_at_a_time(ax: Any, runs: Runs, bare: dict[str, Any] | None) -> None:
    for name in ("seq-new", "seq-next"):
        samples = (runs.get(name) or {}).get("samples", {}).get("e2e_ms")
        if samples:
            ax.plot(samples, [(i + 1) / len(samples) for i in range(len(samples))], label=name)
    if bare and bare.get("samples_ms"):
        samples = bare["samples_ms"]
        ax.plot(samples, [(i + 1) / len(samples) for i in range(len(samples))], label="3 bare SQS hops (boto3)",
                color="red", linestyle="--")
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds (log), end to end")
    ax.set_ylabel("fraction of messages")
    ax.set_title("5. one message at a time, OpenAI instant")
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


PHASE_COLOURS = {"queue": "tab:blue", "dispatch": "tab:orange", "delayed": "tab:gray", "run": "tab:green",
                 "publish": "tab:red", "ack": "tab:purple"}


def _hops(ax: Any, runs: Runs) -> None:
    """One message at a time: mean ms in each phase (the three stages summed), stacked, with the e2e p50 beside."""
    names = [n for n in ("seq-new", "seq-next") if (runs.get(n) or {}).get("hops")]
    left = [0.0] * len(names)
    for phase in PHASES:
        widths = [(per_message_ms(runs[n]["hops"]) or {}).get(phase, 0.0) for n in names]
        if any(widths):
            ax.barh(names, widths, left=left, label=phase, color=PHASE_COLOURS[phase])
            left = [a + b for a, b in zip(left, widths, strict=True)]
    for i, name in enumerate(names):
        e2e = (runs[name].get("e2e_ms") or {}).get("p50")
        ax.text(left[i], i, f" e2e p50 {e2e:.0f} ms" if e2e is not None else "", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ms per message: mean of each phase, the 3 stages summed (queue: publish began -> received)")
    ax.set_title("5. where the time goes (the worker's hop timings)")
    ax.grid(True, axis="x", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, ncols=3)
