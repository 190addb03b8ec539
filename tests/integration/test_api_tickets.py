"""The agent API over Chalice's test client: auth, listing with filters and cursors, one ticket's thread."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from shared.adapters.secrets import signing_key
from shared.auth import issue_token
from shared.settings import get_settings
from tests.support import compose, deliver

pytestmark = pytest.mark.integration


def bearer(role: str = "agent") -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(signing_key(get_settings()), role, "agent-1")}


@pytest.fixture
def api(aws):
    from functions.api.app import app

    with Client(app) as client:
        yield client


def get(api, path: str, role: str | None = "agent"):
    response = api.http.get(path, headers=bearer(role) if role else {})
    return response.status_code, json.loads(response.body or b"null")


def test_health_and_openapi_need_no_token(api):
    assert get(api, "/health", role=None) == (200, {"status": "ok"})
    status, document = get(api, "/openapi.json", role=None)
    assert status == 200 and document["openapi"] == "3.1.0"
    assert {"/v1/tickets", "/v1/tickets/{ticket_id}", "/v1/quarantine"} <= set(document["paths"])
    listing = document["paths"]["/v1/tickets"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"status", "priority", "limit", "cursor"}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TicketPage"}
    assert listing["responses"]["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


def test_ticket_routes_refuse_missing_or_bad_tokens(api):
    assert get(api, "/v1/tickets", role=None)[0] == 401
    response = api.http.get("/v1/tickets", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "unauthorized"


def test_quarantine_needs_a_supervisor(api):
    status, body = get(api, "/v1/quarantine", role="agent")
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert get(api, "/v1/quarantine", role="supervisor") == (200, {"items": [], "next_cursor": None})


def test_list_is_newest_first_with_cursor_pagination(api, aws):
    for n in range(5):
        deliver(aws.s3, compose(subject=f"Ticket {n}"), timestamp=f"2026-11-02T03:1{n}:00.000Z")

    status, first = get(api, "/v1/tickets?limit=2")
    assert status == 200
    assert [t["subject"] for t in first["items"]] == ["Ticket 4", "Ticket 3"]
    _, second = get(api, f"/v1/tickets?limit=2&cursor={first['next_cursor']}")
    _, third = get(api, f"/v1/tickets?limit=2&cursor={second['next_cursor']}")
    assert [t["subject"] for t in second["items"]] == ["Ticket 2", "Ticket 1"]
    assert [t["subject"] for t in third["items"]] == ["Ticket 0"] and third["next_cursor"] is None


def test_filters_by_channel_status_tag_and_text(api, aws):
    deliver(aws.s3, compose(subject="Printer on fire"))
    digest = deliver(aws.s3, compose(subject="Weekly digest", sender="Rina <rina@pelanggan.co.id>"))
    tagged = api.http.patch(
        f"/v1/tickets/{digest['ticket_id']}",
        headers={**bearer("agent"), "Content-Type": "application/json"},
        body=json.dumps({"tags": ["newsletter"]}),
    )
    assert tagged.status_code == 200, tagged.body

    assert [t["subject"] for t in get(api, "/v1/tickets?q=printer")[1]["items"]] == ["Printer on fire"]
    assert [t["subject"] for t in get(api, "/v1/tickets?tag=newsletter")[1]["items"]] == ["Weekly digest"]
    assert len(get(api, "/v1/tickets?channel=email&status=open")[1]["items"]) == 2
    assert get(api, "/v1/tickets?channel=chat")[1]["items"] == []
    assert len(get(api, "/v1/tickets?tier=standard&priority=medium&escalation_level=0")[1]["items"]) == 2


@pytest.mark.parametrize(
    "query",
    ["status=bogus", "priority=extreme", "limit=0", "limit=abc", "cursor=garbage", "channel=pigeon", "escalation_level=x"],
)
def test_bad_filters_get_a_clear_400(api, query):
    status, body = get(api, f"/v1/tickets?{query}")
    assert status == 400 and body["error"]["code"] == "validation_failed" and body["error"]["message"]


def test_one_ticket_has_its_thread_and_events_oldest_first(api, aws):
    created = deliver(aws.s3, compose(message_id="<api-1@pelanggan.co.id>", body="First"))
    deliver(aws.s3, compose(body="Second", in_reply_to="<api-1@pelanggan.co.id>"), timestamp="2026-11-02T04:00:00.000Z")

    status, ticket = get(api, f"/v1/tickets/{created['ticket_id']}")

    assert status == 200 and ticket["ref"] == created["ref"]
    assert [(m["body"], m["direction"], m["kind"]) for m in ticket["messages"]] == [
        ("First", "inbound", "customer"),
        ("Second", "inbound", "customer"),
    ]
    assert [e["type"] for e in ticket["events"]] == ["ticket.created", "message.added", "message.added"]
    assert ticket["customer"]["email"] == "budi@pelanggan.co.id"
    assert get(api, f"/v1/tickets/{created['ref']}")[1]["id"] == created["ticket_id"]


def test_unknown_ticket_is_404(api):
    status, body = get(api, "/v1/tickets/NOPE")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_quarantine_lists_reason_and_raw_key(api, aws):
    deliver(aws.s3, compose(), delivery_id="spammy", spam="FAIL")

    status, body = get(api, "/v1/quarantine", role="admin")

    assert status == 200
    [item] = body["items"]
    assert item["reason"] == "spam_verdict" and item["raw_key"] == "inbound/spammy" and item["received_at"]
