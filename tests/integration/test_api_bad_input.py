"""No input gets a 5xx: every bad request is a 4xx in the API's one error shape `{"error": {"code", "message"}}`.

The cases are the ones a review reproduced as 500s (a lone surrogate, 400 KB of tags, a 2,048-character id, a
10,000-character Idempotency-Key, `{"calendar": null}`), and the edges Chalice answers itself (a missing or
wrong Content-Type, a method a path lacks).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from shared.adapters.secrets import signing_key
from shared.auth import issue_token
from shared.settings import get_settings

pytestmark = pytest.mark.integration

LONG_ID = "x" * 2048


@pytest.fixture
def api(aws):
    from functions.api.app import app

    with Client(app) as client:
        yield client


def headers(content_type: str | None = "application/json", **extra: str) -> dict[str, str]:
    token = issue_token(signing_key(get_settings()), "admin", "admin-1")
    out = {"Authorization": f"Bearer {token}", **extra}
    if content_type:
        out["Content-Type"] = content_type
    return out


def send(api: Client, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    response = getattr(api.http, method.lower())(path, headers=kw.pop("hdrs", None) or headers(), body=raw)
    return response.status_code, json.loads(response.body) if response.body else None


def assert_clear_4xx(status: int, reply: Any, expected: int | None = None) -> None:
    assert 400 <= status < 500, (status, reply)
    assert expected is None or status == expected, (status, reply)
    assert isinstance(reply, dict) and set(reply) == {"error"}, reply
    assert reply["error"]["code"] and reply["error"]["message"], reply


@pytest.fixture
def ticket_id(api) -> str:
    status, ticket = send(api, "POST", "/v1/tickets", {"channel": "chat", "customer": {"handle": "v-1"}, "body": "Halo"})
    assert status == 201, ticket
    return str(ticket["id"])


WRITE_ROUTES = [
    ("POST", "/v1/tickets"),
    ("POST", "/v1/tickets/{ticket}/replies"),
    ("PATCH", "/v1/tickets/{ticket}"),
    ("PUT", "/v1/agents/ani"),
    ("PATCH", "/v1/customers/rina@pelanggan.co.id"),
    ("PUT", "/v1/teams/support"),
    ("PATCH", "/v1/teams/support"),
    ("PUT", "/v1/priority-rules"),
    ("PUT", "/v1/sla-policies/p1"),
    ("PUT", "/v1/calendars/c1"),
    ("PUT", "/v1/templates/acknowledgement/id/email"),
    ("PUT", "/v1/auto-replies/r1"),
]

BAD_BODIES = {
    "lone-surrogate": '{"body": "a\\udc00b", "name": "a\\udc00b", "tags": ["a\\udc00b"]}',
    "surrogate-in-a-key": '{"\\udc00": 1}',
    "not-json": "{",
    "a-list": "[]",
    "a-string": '"x"',
    "null": "null",
    "deep": "[" * 5000 + "]" * 5000,
    "huge-tags": json.dumps({"tags": ["x" * 400_000]}),
    "many-tags": json.dumps({"tags": [str(n) for n in range(20_000)]}),
    "calendar-null": '{"calendar": null}',
    "calendar-list": '{"calendar": ["24x7"]}',
    "long-reason": json.dumps({"status": "resolved", "reason": "r" * 500_000}),
    "long-assignee": json.dumps({"assignee": "a" * 5000}),
    "long-name": json.dumps({"name": "n" * 500_000}),
    "emoji-body": json.dumps({"body": "\U0001f600" * 100_000}),
    "control-name": json.dumps({"channel": "chat", "customer": {"handle": "h", "name": "\x00"}, "body": "x\udc00"}),
    "many-phrases": json.dumps({"phrases": ["p" * 100] * 5000, "template": "acknowledgement"}),
    "many-spans": json.dumps({"working_hours": {"mon": [["08:00", "09:00"]] * 5000}}),
    "many-skills": json.dumps({"skills": ["s" * 1000] * 500}),
    "too-large": json.dumps({"body": "x" * (1024 * 1024 + 1)}),
}


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES, ids=[f"{m} {p}" for m, p in WRITE_ROUTES])
def test_no_bad_body_on_any_write_route_gets_a_5xx(api, ticket_id, method, path):
    failures = []
    for name, body in BAD_BODIES.items():
        status, reply = send(api, method, path.format(ticket=ticket_id), body)
        if status >= 300:
            try:
                assert_clear_4xx(status, reply)
            except AssertionError as error:
                failures.append(f"{name}: {error}")
    assert not failures, failures


def test_a_lone_surrogate_is_named_as_the_problem(api, ticket_id):
    status, reply = send(api, "POST", f"/v1/tickets/{ticket_id}/replies", '{"body": "a\\udc00b"}')
    assert_clear_4xx(status, reply, 400)
    assert "lone surrogate" in reply["error"]["message"] and "body" in reply["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", f"/v1/teams/{LONG_ID}"),
        ("PUT", f"/v1/calendars/{LONG_ID}"),
        ("PUT", f"/v1/auto-replies/{LONG_ID}"),
        ("DELETE", f"/v1/auto-replies/{LONG_ID}"),
        ("PUT", f"/v1/sla-policies/{LONG_ID}"),
        ("PUT", f"/v1/agents/{LONG_ID}"),
        ("PUT", f"/v1/templates/{LONG_ID}/id/email"),
        ("GET", f"/v1/teams/{LONG_ID}"),
        ("GET", f"/v1/tickets/{LONG_ID}"),
        ("PATCH", f"/v1/tickets/{LONG_ID}"),
    ],
)
def test_an_overlong_id_in_a_path_is_a_clear_4xx(api, method, path):
    status, reply = send(api, method, path, {"strategy": "fifo"} if method in ("PUT", "PATCH") else None)
    assert_clear_4xx(status, reply)


def test_an_overlong_idempotency_key_is_refused_and_a_good_one_still_works(api):
    body = {"channel": "web", "customer": {"email": "rina@pelanggan.co.id"}, "body": "Formulir"}
    status, reply = send(api, "POST", "/v1/tickets", body, hdrs=headers(**{"Idempotency-Key": "k" * 10_000}))
    assert_clear_4xx(status, reply, 400)
    assert "Idempotency-Key" in reply["error"]["message"]
    first = send(api, "POST", "/v1/tickets", body, hdrs=headers(**{"Idempotency-Key": "form-1"}))
    again = send(api, "POST", "/v1/tickets", body, hdrs=headers(**{"Idempotency-Key": "form-1"}))
    assert first[0] == 201 and again[0] == 200 and first[1]["id"] == again[1]["id"]


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_a_body_that_is_not_sent_as_json_gets_a_415_that_says_how(api, content_type):
    status, reply = send(api, "PUT", "/v1/teams/support", '{"strategy": "fifo"}', hdrs=headers(content_type))
    assert_clear_4xx(status, reply, 415)
    assert "Content-Type: application/json" in reply["error"]["message"]


def test_a_method_a_path_lacks_is_a_405_in_the_one_error_shape(api):
    status, reply = send(api, "DELETE", "/v1/teams/support")
    assert_clear_4xx(status, reply, 405)


def test_work_in_flight_elsewhere_is_a_409_not_a_400():
    from functions.api.gateway import STATUS_OF
    from shared.domain.errors import InFlight

    assert STATUS_OF[InFlight] == 409


def test_a_storage_refusal_is_a_400_with_dynamodbs_reason(api, monkeypatch):
    """Whatever a limit here misses, DynamoDB's own refusal (an item over 400 KB ...) reaches the client as a 400."""
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import PutError

    from shared.storage.config import ConfigRepository

    def refuse(self, *args, **kwargs):
        cause = ClientError({"Error": {"Code": "ValidationException", "Message": "Item size has exceeded the maximum allowed size"}}, "PutItem")
        raise PutError("Failed to put item", cause)

    monkeypatch.setattr(ConfigRepository, "put", refuse)
    status, reply = send(api, "PUT", "/v1/teams/support", {"strategy": "fifo"})
    assert_clear_4xx(status, reply, 400)
    assert "Item size has exceeded" in reply["error"]["message"]


def test_a_refused_document_names_each_field_so_a_form_can_show_it_beside_the_field(api):
    policy = {"position": 1, "name": "", "targets": {"first_response": -5},
              "ladder": [{"metric": "x", "at": 0.5, "action": "warn"}]}  # fmt: skip
    status, reply = send(api, "PUT", "/v1/sla-policies/bad", policy)
    assert_clear_4xx(status, reply, 400)
    fields = reply["error"]["fields"]
    assert {"name", "targets.first_response", "ladder[0].metric"} <= set(fields), fields
    assert "at least 1" in fields["targets.first_response"] and "not a metric" in fields["ladder[0].metric"], fields
    status, reply = send(api, "PATCH", "/v1/teams/support", {"idle_minutes": "soon"})
    assert_clear_4xx(status, reply, 400)
    assert list(reply["error"]["fields"]) == ["idle_minutes"], reply
