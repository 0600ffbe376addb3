"""The network harness itself (localdev/netns.py): hosts reach each other, a cut host goes silent, nothing stays."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from localdev import netns
from localdev.polling import wait_for
from localdev.processes import ManagedProcess

pytestmark = pytest.mark.multihost
PORT = 8000


def connects(address: str, timeout: float = 1.0) -> bool:
    with socket.create_connection((address, PORT), timeout=timeout):
        return True


def test_a_cut_host_goes_silent_while_its_server_runs_and_answers_again_once_restored(
    namespaces_permitted: None, tmp_path: Path
) -> None:
    with netns.network(["server"]) as net:
        host = net.host("server")
        argv = [*host.wrapper, sys.executable, "-m", "http.server", str(PORT), "--bind", host.address]
        with ManagedProcess("http-server", argv, {}, tmp_path / "server.log").start() as server:
            wait_for(lambda: connects(host.address), timeout=15, message="the server to accept", ignore=(OSError,))

            net.cut(host)
            # Not refused, not reset: nobody answers at all, as for a machine gone from the network.
            with pytest.raises(TimeoutError):
                connects(host.address)
            assert server.is_running()

            net.restore(host)
            assert wait_for(lambda: connects(host.address), timeout=15, message="the restored host",
                            ignore=(OSError,))


def test_every_namespace_and_link_is_removed_even_when_the_test_fails(namespaces_permitted: None) -> None:
    with pytest.raises(RuntimeError, match="the test failed"), netns.network(["a", "b"]) as net:
        made = [*net.namespaces]
        driver_link = net.driver_link
        raise RuntimeError("the test failed")

    listed = {line.split(" ", 1)[0] for line in netns.ip("netns", "list").splitlines()}
    assert len(made) == 3 and not listed & set(made)
    assert driver_link not in netns.ip("-o", "link")
    assert f"{netns.NETWORK}.{net.subnet}." not in netns.ip("-4", "route")
