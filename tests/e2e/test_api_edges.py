"""The API over a real socket, at the edges API Gateway owns: every answer is a 4xx in the one error shape."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def raw_request(stack: RunningStack, method: str, path: str, headers: dict[str, str], body: bytes | None = None
                ) -> tuple[int, Any]:  # fmt: skip
    host, port = stack.api_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    return response.status, json.loads(raw) if raw else None


def assert_error(status: int, reply: Any, expected: int) -> None:
    assert status == expected, (status, reply)
    assert set(reply) == {"error"} and reply["error"]["code"] and reply["error"]["message"], reply


def test_an_unknown_route_is_a_404_that_does_not_echo_the_token(local_stack: RunningStack) -> None:
    token = local_stack.token("agent")
    status, reply = local_stack.request("GET", "/v1/no-such-thing", token=token)
    assert_error(status, reply, 404)
    assert token not in json.dumps(reply)


def test_a_body_without_a_json_content_type_is_a_415_that_says_how(local_stack: RunningStack) -> None:
    token = local_stack.token("supervisor")
    for headers in ({}, {"Content-Type": "application/x-www-form-urlencoded"}):  # curl -d sends the second
        status, reply = raw_request(
            local_stack, "PUT", "/v1/teams/support", {"Authorization": f"Bearer {token}", **headers}, b'{"strategy": "fifo"}'
        )
        assert_error(status, reply, 415)
        assert "application/json" in reply["error"]["message"]


def test_an_oversized_body_is_a_413_and_an_overlong_url_a_414(local_stack: RunningStack) -> None:
    token = local_stack.token("agent")
    host, port = local_stack.api_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:  # announced, never sent: no 11 MB upload
        sock.sendall(
            f"POST /v1/tickets HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {11 * 1024 * 1024}\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after a 413
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert json.loads(body)["error"]["code"] == "payload_too_large"

    status, reply = raw_request(local_stack, "GET", "/v1/tickets?q=" + "x" * 20_000, {"Authorization": f"Bearer {token}"})
    assert_error(status, reply, 414)


def test_a_lone_surrogate_and_an_overlong_id_are_400s_over_the_wire(local_stack: RunningStack) -> None:
    token = local_stack.token("admin")
    status, reply = local_stack.request("PUT", "/v1/teams/" + "x" * 2048, token=token, body={"strategy": "fifo"})
    assert_error(status, reply, 400)
    status, reply = raw_request(
        local_stack, "POST", "/v1/tickets",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        b'{"channel": "chat", "customer": {"handle": "v"}, "body": "a\\udc00b"}',
    )  # fmt: skip
    assert_error(status, reply, 400)


def test_the_cli_refuses_a_token_that_would_outlive_a_working_day(local_stack: RunningStack) -> None:
    decade = local_stack.cli("token", "--role", "admin", "--ttl", "315360000")
    assert decade.returncode != 0 and "at most 43200 s" in decade.stderr, decade.stderr
    day = local_stack.cli("token", "--role", "admin", "--ttl", "43200")
    assert day.returncode == 0
    assert local_stack.request("GET", "/v1/tickets", token=day.stdout.strip())[0] == 200
