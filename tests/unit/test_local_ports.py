"""`make run` right after a stop: the port probe tells a listener from the TIME_WAIT a stopped stack leaves."""

from __future__ import annotations

import socket

import pytest

from ticketing.local.dynamodb_local import _port_is_free

pytestmark = pytest.mark.unit


def _server() -> socket.socket:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the JVM's server socket does
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_a_port_whose_server_just_stopped_is_free_and_a_listening_one_is_not():
    server = _server()
    port = server.getsockname()[1]
    assert not _port_is_free("127.0.0.1", port)
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server closes first: its side of the connection lingers in TIME_WAIT
    client.close()
    server.close()
    assert _port_is_free("127.0.0.1", port)
