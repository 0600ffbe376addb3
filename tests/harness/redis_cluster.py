"""A Redis Cluster of three masters on loopback, for running the tests against a cluster (issue 13).

`SWITCHBOARD_TEST_REDIS_CLUSTER=1 .venv/bin/pytest tests/...` starts one for the
session (tests/conftest.py) and points SWITCHBOARD_TEST_REDIS_URL at it, so every test, and every
process the tests start, uses redis+cluster://. Each node is a redis-server with cluster mode on, in a
temporary directory of its own; `redis-cli --cluster create` hands out the 16384 slots, no replicas.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import redis

from localdev.polling import wait_for
from localdev.ports import port_taken
from localdev.processes import ManagedProcess
from localdev.redis_server import RedisUnavailable, answers, find_redis_server

CLUSTER_VARIABLE = "SWITCHBOARD_TEST_REDIS_CLUSTER"
BUS_PORT_OFFSET = 10_000  # Redis Cluster's node-to-node bus listens on port + 10000


class LocalRedisCluster:
    """`masters` redis-server nodes in cluster mode on 127.0.0.1, joined into one cluster; `stop()` removes them."""

    def __init__(self, masters: int = 3, binary: Path | None = None) -> None:
        self.binary = binary or find_redis_server()
        self.cli = _redis_cli(self.binary)
        self.data_dir = Path(tempfile.mkdtemp(prefix="switchboard-redis-cluster-"))
        self.ports = _free_cluster_ports(masters)
        self.nodes = [self._node(port) for port in self.ports]

    @property
    def url(self) -> str:
        """What REDIS_URL says for this cluster: any node will do, the client learns the rest from it."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start(self, timeout: float = 30.0) -> LocalRedisCluster:
        try:
            for node in self.nodes:
                node.start()
            for port in self.ports:
                wait_for(lambda port=port: answers(f"redis://127.0.0.1:{port}/0"), timeout=timeout,
                         message=f"cluster node on port {port} to answer PING")
            created = subprocess.run(
                [str(self.cli), "--cluster", "create", *(f"127.0.0.1:{port}" for port in self.ports),
                 "--cluster-replicas", "0", "--cluster-yes"],
                capture_output=True, text=True, timeout=timeout, check=False)
            if created.returncode != 0:
                raise RedisUnavailable(f"redis-cli --cluster create failed:\n{created.stdout}{created.stderr}")
            wait_for(self._ready, timeout=timeout, interval=0.1, message="cluster_state:ok on every node")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        """Every node sees the whole cluster, every slot served: the first command anywhere finds its slot."""
        for port in self.ports:
            client = redis.Redis(port=port, socket_timeout=1)
            try:
                info = client.cluster("INFO")
            finally:
                client.close()
            # redis-py parses CLUSTER INFO into a dict of strings.
            if info.get("cluster_state") != "ok" or info.get("cluster_known_nodes") != str(len(self.ports)):
                return False
        return True

    def stop(self) -> None:
        for node in self.nodes:
            if node.is_running():
                node.stop(timeout=15)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _node(self, port: int) -> ManagedProcess:
        node_dir = self.data_dir / str(port)
        node_dir.mkdir(parents=True)
        return ManagedProcess(f"redis-cluster-{port}", [
            str(self.binary), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(node_dir),
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
            "--save", "", "--appendonly", "no",
        ], {}, node_dir / "redis.log")


def _redis_cli(server: Path) -> Path:
    beside = server.parent / "redis-cli"
    if beside.exists():
        return beside
    found = shutil.which("redis-cli")
    if found is None:
        raise RedisUnavailable("no redis-cli beside redis-server or on PATH: it creates the test cluster")
    return Path(found)


def _free_cluster_ports(count: int) -> list[int]:
    """Ports free now whose bus ports (+10000) are free too (the OS's own picks may lie too high for that)."""
    ports: list[int] = []
    candidates = list(range(21_000, 31_000))
    random.shuffle(candidates)
    for port in candidates:
        if not port_taken(port) and not port_taken(port + BUS_PORT_OFFSET):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise RedisUnavailable("no free ports for a test Redis Cluster between 21000 and 31000")
