"""The network of hosts for one test, skipped only where this machine cannot make network namespaces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev import netns
from switchboard.settings import Settings
from tests.multihost.hosts import ROLES
from tests.multihost.tls import ServerCertificate, issue_server_certificate


@pytest.fixture
def namespaces_permitted() -> None:
    """Skip, saying why, where this machine cannot make network namespaces (tried once per test)."""
    reason = netns.unavailable()
    if reason is not None:
        pytest.skip(f"multi-host tests need Linux network namespaces: {reason}")


@pytest.fixture
def network(namespaces_permitted: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[netns.Network]:
    """Every host of tests/multihost/hosts.py on one switch; always torn down, whatever the test did."""
    # Hermetic, as tests/conftest.py's pipeline_env: a developer's shell must not reach the hosts' processes.
    for name in [*Settings.model_fields, "twilio_edge", "twilio_region"]:
        monkeypatch.delenv(name.upper(), raising=False)
    with netns.network(ROLES) as net:
        yield net


@pytest.fixture
def vendor_certificate(network: netns.Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServerCertificate:
    """The vendors host's https certificate, its authority trusted by this process (the stand-ins' clients)."""
    certificate = issue_server_certificate(network.host("vendors").address, tmp_path / "tls")
    for name, value in certificate.trust_env().items():
        monkeypatch.setenv(name, value)
    return certificate
