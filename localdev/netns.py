"""Several hosts on one machine: Linux network namespaces plugged into one switch, for tests that cut a host off.

Each host is a network namespace whose one interface (eth0, 10.77.N.h/24) is a veth pair whose
other end is a port of a bridge; the bridge sits in a namespace of its own (the switch), so that
deleting the namespaces removes every link. This process joins the same subnet as 10.77.N.1
through one more port, so the test can reach every host and each host can reach it.

Cutting a host sets its switch port down, as when a machine's cable is pulled at the switch or
its rack loses its uplink: the host's own interface, addresses and sockets stay as they were and
its processes run on, but what it sends goes nowhere and nobody answers for it (connections and
requests in flight hang until their own timeouts; nothing is refused). `tc netem loss 100%` would
do the same, where the kernel has the netem qdisc; link state needs nothing beyond iproute2.

Needs Linux, iproute2 and the rights to make namespaces (root): `unavailable()` says why not.
Names carry this process's id and a random token, so parallel runs never collide, and a run that
was killed before it could tear down is swept by the next one.
"""

from __future__ import annotations

import fcntl
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "sbnet"
NETWORK = "10.77"  # hosts live in 10.77.N.0/24, N chosen per run among the subnets not in use here
LOCK_PATH = Path(tempfile.gettempdir()) / "switchboard-netns.lock"
_ROLE = re.compile(r"^[a-z][a-z0-9-]{0,11}$")  # short: a role names the host's switch port (15 chars max)


class NetnsError(RuntimeError):
    """An `ip` command failed; the message has the command and what it said."""


def ip(*args: str) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=15, check=False)
    if result.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {result.stderr.strip() or f'exit {result.returncode}'}")
    return result.stdout


def unavailable() -> str | None:
    """None where network namespaces can be made here; else the reason, for a test's skip."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces are Linux's ({sys.platform} here)"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    probe = f"{PREFIX}-probe-{os.getpid()}-{secrets.token_hex(2)}"
    try:
        ip("netns", "add", probe)
    except NetnsError as exc:
        return f"`ip netns add` is not permitted here (needs root or CAP_SYS_ADMIN): {exc}"
    ip("netns", "del", probe)
    return None


@dataclass(frozen=True)
class Host:
    """One machine of the network: its namespace, its address, and its port on the switch."""

    role: str
    namespace: str
    address: str
    switch_port: str

    @property
    def wrapper(self) -> list[str]:
        """The argv prefix that runs a command on this host (the launchers' `wrapper`)."""
        return ["ip", "netns", "exec", self.namespace]


@dataclass
class Network:
    """A switch, the hosts plugged into it, and this process on it as `driver_address`."""

    token: str
    subnet: int
    switch: str
    driver_link: str
    hosts: dict[str, Host] = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)  # every one made, for the teardown

    @property
    def driver_address(self) -> str:
        return f"{NETWORK}.{self.subnet}.1"

    def host(self, role: str) -> Host:
        return self.hosts[role]

    def add_host(self, role: str) -> Host:
        if not _ROLE.match(role) or role in self.hosts:
            raise ValueError(f"a host role is new, short and [a-z0-9-]: {role!r}")
        namespace = f"{PREFIX}-{os.getpid()}-{self.token}-{role}"
        host = Host(role, namespace, f"{NETWORK}.{self.subnet}.{len(self.hosts) + 2}", f"p-{role}")
        self._add_namespace(namespace)
        ip("-n", namespace, "link", "set", "lo", "up")
        ip("-n", self.switch, "link", "add", host.switch_port, "type", "veth", "peer", "name", "eth0",
           "netns", namespace)
        ip("-n", self.switch, "link", "set", host.switch_port, "master", "br0", "up")
        ip("-n", namespace, "addr", "add", f"{host.address}/24", "dev", "eth0")
        ip("-n", namespace, "link", "set", "eth0", "up")
        self.hosts[role] = host
        return host

    def cut(self, host: Host) -> None:
        """Take `host` off the network; its processes and its own interface are left as they are."""
        ip("-n", self.switch, "link", "set", host.switch_port, "down")

    def restore(self, host: Host) -> None:
        ip("-n", self.switch, "link", "set", host.switch_port, "up")

    def _add_namespace(self, name: str) -> None:
        ip("netns", "add", name)
        self.namespaces.append(name)

    def _build_switch(self) -> None:
        self._add_namespace(self.switch)
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")
        ip("link", "add", self.driver_link, "type", "veth", "peer", "name", "uplink", "netns", self.switch)
        ip("-n", self.switch, "link", "set", "uplink", "master", "br0", "up")
        ip("addr", "add", f"{self.driver_address}/24", "dev", self.driver_link)
        ip("link", "set", self.driver_link, "up")

    def teardown(self) -> None:
        """Remove every link and namespace made, whatever state they are in; one error naming what stayed."""
        failures = []
        # The driver's link first: deleting it is immediate, while a namespace's links go asynchronously
        # after `ip netns del`, and the subnet's route in this namespace must be gone before we return.
        for command in [("link", "del", self.driver_link), *(("netns", "del", ns) for ns in reversed(self.namespaces))]:
            try:
                ip(*command)
            except NetnsError as exc:
                if "Cannot find device" not in str(exc) and "No such file" not in str(exc):
                    failures.append(str(exc))
        if failures:
            raise NetnsError("teardown left some of the network behind: " + "; ".join(failures))


@contextmanager
def network(roles: Sequence[str]) -> Iterator[Network]:
    """A switch with one host per role (addresses .2, .3, ... in order); always torn down on exit."""
    sweep_stale()
    token = secrets.token_hex(3)
    with _subnet_lock():
        net = Network(token, _free_subnet(), f"{PREFIX}-{os.getpid()}-{token}-switch", f"sb{token}")
        try:
            net._build_switch()  # with the lock held: the subnet counts as taken once its address is here
        except BaseException:
            net.teardown()
            raise
    try:
        for role in roles:
            net.add_host(role)
        yield net
    finally:
        net.teardown()


def sweep_stale() -> None:
    """Delete the namespaces of runs whose process is gone (a killed test run could not tear down)."""
    for line in ip("netns", "list").splitlines():
        name = line.split(" ", 1)[0]
        match = re.match(rf"^{PREFIX}-(\d+)-", name)
        if match and not _alive(int(match.group(1))):
            try:
                ip("netns", "del", name)
            except NetnsError:
                pass  # another run's sweep took it first


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_subnet() -> int:
    """A random N whose 10.77.N.0/24 no address or route here uses (random: parallel runs rarely race)."""
    taken = set(re.findall(rf"\b{re.escape(NETWORK)}\.(\d+)\.", ip("-4", "-o", "addr") + ip("-4", "route")))
    free = [n for n in range(1, 255) if str(n) not in taken]
    if not free:
        raise NetnsError(f"every {NETWORK}.N.0/24 subnet is in use on this machine")
    return random.choice(free)


@contextmanager
def _subnet_lock() -> Iterator[None]:
    """Held from choosing a subnet until its address is configured, so two runs never pick the same one."""
    with open(LOCK_PATH, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
