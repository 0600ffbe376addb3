"""CPU and peak memory per process group (web, worker, moto, stand-ins, the bench itself), through psutil.

A background thread samples every `interval` seconds: each role's processes and their children
(gunicorn's and celery's workers come and go with restarts), the CPU seconds each has used and
their summed resident memory. CPU is reported in % of one core over the sampled window, so 200 %
is the whole of this 2-core machine. Without psutil installed, `available` is False and nothing
is sampled.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

try:
    import psutil
except ImportError:  # the `bench` extra is not installed: run without per-process numbers
    psutil = None


class ProcessSampler:
    def __init__(self, roles: Callable[[], dict[str, list[int]]], interval: float = 0.5) -> None:
        self.roles = roles  # role -> root pids, asked at every sample (processes restart between runs)
        self.interval = interval
        self.available = psutil is not None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first: dict[int, float] = {}  # pid -> CPU seconds when first seen
        self._last: dict[int, tuple[str, float]] = {}  # pid -> (role, CPU seconds at the latest sample)
        self._peak_rss: dict[str, int] = {}
        self._started = 0.0
        self._cpu_start: Any = None

    def start(self) -> None:
        if not self.available:
            return
        self._started = time.monotonic()
        self._cpu_start = psutil.cpu_times()
        self._sample(first=True)
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Any]:
        """{roles: {role: {cpu_percent, peak_rss_mb}}, machine_cpu_percent, window_seconds}."""
        if not self.available or self._thread is None:
            return {"available": False}
        self._stop.set()
        self._thread.join(5)
        self._sample()
        window = max(time.monotonic() - self._started, 1e-6)
        cpu: dict[str, float] = {}
        for pid, (role, seconds) in self._last.items():
            cpu[role] = cpu.get(role, 0.0) + seconds - self._first.get(pid, 0.0)
        end = psutil.cpu_times()
        busy = sum(getattr(end, f) - getattr(self._cpu_start, f) for f in ("user", "system", "nice", "irq", "softirq"))
        return {
            "available": True,
            "window_seconds": round(window, 2),
            "machine_cpu_percent": round(busy / window * 100, 1),
            "roles": {role: {"cpu_percent": round(cpu.get(role, 0.0) / window * 100, 1),
                             "peak_rss_mb": round(self._peak_rss.get(role, 0) / 2**20, 1)}
                      for role in sorted(set(cpu) | set(self._peak_rss))},
        }

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self, first: bool = False) -> None:
        roles = self.roles()
        groups = [(role, _with_children(pids)) for role, pids in roles.items()]
        groups.append(("bench (load generator)", [psutil.Process(os.getpid())]))  # not its children: the stack
        for role, procs in groups:
            rss = 0
            for proc in procs:
                try:
                    times = proc.cpu_times()
                    seconds = times.user + times.system
                    rss += proc.memory_info().rss
                except psutil.Error:
                    continue
                if proc.pid not in self._first:
                    # Present at the start: count from now. Born during the window: count all of it.
                    self._first[proc.pid] = seconds if first else 0.0
                self._last[proc.pid] = (role, seconds)
            self._peak_rss[role] = max(self._peak_rss.get(role, 0), rss)


def _with_children(pids: list[int]) -> list[Any]:
    found = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            found.append(proc)
            found.extend(proc.children(recursive=True))
        except psutil.Error:
            continue
    return found
