"""ManagedProcess: logs to a file, waits for log lines, stops politely, kills its whole group."""

from __future__ import annotations

import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from localdev.polling import wait_for
from localdev.processes import ManagedProcess

# A child that says it is ready, starts a grandchild, and exits 0 on SIGTERM.
POLITE = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    signal.signal(signal.SIGTERM, lambda *_: (child.terminate(), sys.exit(0)))
    print(f"ready child={child.pid}")
    while True:
        time.sleep(0.1)
    """
)


def python(tmp_path: Path, code: str, name: str = "child") -> ManagedProcess:
    return ManagedProcess(name, [sys.executable, "-c", code], {}, tmp_path / f"{name}.log")


def is_alive(pid: int) -> bool:
    # A zombie still answers kill(pid, 0), and in a container nobody may reap it; read its state instead.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_it_logs_output_and_stops_on_sigterm_with_the_exit_code(tmp_path: Path) -> None:
    with python(tmp_path, POLITE).start() as proc:
        proc.wait_for_log(r"ready child=\d+", timeout=10)

        assert proc.stop(timeout=5) == 0
        assert "ready child=" in proc.log_text()


def test_kill_takes_down_the_whole_process_group(tmp_path: Path) -> None:
    with python(tmp_path, POLITE).start() as proc:
        grandchild = int(proc.wait_for_log(r"ready child=(\d+)", timeout=10).group(1))

        proc.kill()

        assert not proc.is_running()
        wait_for(lambda: not is_alive(grandchild), timeout=5, message="the grandchild to die")


def test_wait_for_log_fails_at_once_when_the_process_exits(tmp_path: Path) -> None:
    started = time.monotonic()
    with python(tmp_path, "print('boom'); raise SystemExit(3)").start() as proc:
        with pytest.raises(AssertionError, match="exited before logging"):
            proc.wait_for_log("ready", timeout=20)

    assert time.monotonic() - started < 10


def test_stop_kills_and_fails_when_the_signal_is_ignored(tmp_path: Path) -> None:
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    with python(tmp_path, stubborn).start() as proc:
        proc.wait_for_log("up", timeout=10)

        with pytest.raises(AssertionError, match="ignored signal"):
            proc.stop(sig=signal.SIGTERM, timeout=0.5)
        assert not proc.is_running()


def test_a_restart_appends_to_the_same_log(tmp_path: Path) -> None:
    proc = python(tmp_path, "print('hello')")
    for _ in range(2):
        proc.start()
        wait_for(lambda: not proc.is_running(), timeout=10, message="the child to exit")

    assert proc.log_text().splitlines().count("hello") == 2


def test_wait_for_log_ignores_what_earlier_runs_logged(tmp_path: Path) -> None:
    code = "import pathlib, sys, time; p = pathlib.Path(sys.argv[1]); print('second' if p.exists() else 'first', flush=True); p.touch(); time.sleep(60)"
    proc = ManagedProcess("twice", [sys.executable, "-c", code, str(tmp_path / "marker")], {}, tmp_path / "twice.log")
    with proc.start():
        proc.wait_for_log("first", timeout=10)
        proc.kill()

        proc.start()
        proc.wait_for_log("second", timeout=10)
        with pytest.raises(AssertionError, match="timed out"):
            proc.wait_for_log("first", timeout=0.2)
