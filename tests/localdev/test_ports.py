"""A taken port is seen as taken, and its message names the port, the part and the variable that moves it."""

from __future__ import annotations

import socket

from localdev.ports import PortTaken, port_taken
from localdev.processes import free_port


def test_a_port_something_listens_on_is_taken_and_free_again_once_it_closes() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = int(server.getsockname()[1])
        assert port_taken(port)
    assert not port_taken(port)


def test_a_listener_on_every_address_takes_the_port_too() -> None:
    with socket.create_server(("0.0.0.0", 0)) as server:
        assert port_taken(int(server.getsockname()[1]))


def test_the_message_names_the_port_the_part_and_a_free_value_for_the_variable() -> None:
    port = free_port()

    message = str(PortTaken(port, "SQS (moto)", "LOCAL_SQS_PORT"))

    assert message.startswith(f"port {port} (SQS (moto)) is taken by another program")
    example = message.rsplit("e.g. LOCAL_SQS_PORT=", 1)[1]
    suggested = int(example.split()[0])
    assert suggested > port and not port_taken(suggested)
    assert example.endswith(" ./scripts/dev")
