"""Agents, ticket changes, teams, templates and auto-replies through the API (Chalice's test client on moto)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from shared.adapters.secrets import signing_key
from shared.auth import issue_token
from shared.settings import get_settings
from shared.storage.models import AgentLoadModel, TicketModel
from tests.support import compose, deliver

pytestmark = pytest.mark.integration


def call(method: str, path: str, body: Any = None, role: str = "supervisor", agent: str | None = None, headers: dict | None = None):
    from functions.api.app import app

    token = issue_token(signing_key(get_settings()), role, agent or f"{role}-1")
    all_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})}
    with Client(app) as client:
        response = getattr(client.http, method.lower())(path, headers=all_headers, body=json.dumps(body) if body is not None else None)
    return response.status_code, json.loads(response.body) if response.body else None


def put_agent(agent_id: str, body: dict[str, Any], role: str = "supervisor") -> dict[str, Any]:
    status, reply = call("PUT", f"/v1/agents/{agent_id}", body, role=role)
    assert status in (200, 201), reply
    return reply


def change(ticket_id: str, **body: Any) -> dict[str, Any]:
    status, reply = call("PATCH", f"/v1/tickets/{ticket_id}", body)
    assert status == 200, reply
    return reply


def test_put_creates_then_updates_an_agent_and_load_is_read_only(aws):
    status, created = call("PUT", "/v1/agents/sari", {"name": "Sari", "team": "support", "capacity": 3, "skills": ["billing"], "tier": 2, "timezone": "Asia/Jakarta", "working_hours": {"mon": [["08:00", "12:00"], ["13:00", "17:00"]]}})
    assert status == 201 and created["load"] == 0 and created["skills"] == ["billing"] and created["presence"] == "offline"

    status, updated = call("PUT", "/v1/agents/sari", {"presence": "online"}, role="agent", agent="sari")
    assert status == 200 and updated["presence"] == "online" and updated["capacity"] == 3 and updated["tier"] == 2

    assert call("PUT", "/v1/agents/sari", {"load": 0})[0] == 400
    assert call("PUT", "/v1/agents/sari", {"capacity": 9}, role="agent", agent="sari")[0] == 403
    assert call("PUT", "/v1/agents/other", {"presence": "online"}, role="agent", agent="sari")[0] == 403
    status, listing = call("GET", "/v1/agents", role="agent")
    assert [a["id"] for a in listing["items"]] == ["sari"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"presence": "busy"}, "presence"),
        ({"capacity": -1}, "capacity"),
        ({"tier": 4}, "tier"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"working_hours": {"mon": [["17:00", "08:00"]]}}, "working_hours.mon"),
        ({"channels": ["pigeon"]}, "channels"),
        ({"colour": "blue"}, "unknown field"),
    ],
)
def test_bad_agent_bodies_get_a_clear_400(aws, body, message):
    status, reply = call("PUT", "/v1/agents/x", {"team": "support", **body})
    assert status == 400 and message in reply["error"]["message"]


def test_resolving_releases_the_load_and_an_invalid_transition_is_refused(aws):
    put_agent("tono", {"team": "support", "capacity": 2, "presence": "online"})
    result = deliver(aws.s3, compose(subject="Printer"))
    aws.route()
    assert int(AgentLoadModel.get("tono").load) == 1

    resolved = change(result["ticket_id"], status="resolved")
    assert resolved["status"] == "resolved" and resolved["resolved_at"] and int(AgentLoadModel.get("tono").load) == 0
    status, reply = call("PATCH", f"/v1/tickets/{result['ticket_id']}", {"status": "pending"})
    assert status == 409 and reply["error"]["code"] == "invalid_transition"
    closed = change(result["ticket_id"], status="closed")
    assert closed["status"] == "closed"
    assert call("PATCH", f"/v1/tickets/{result['ticket_id']}", {"status": "open"})[0] == 409


def test_reassigning_moves_the_load_and_a_full_agent_is_refused(aws):
    put_agent("ayu", {"team": "support", "capacity": 1, "presence": "online"})
    first = deliver(aws.s3, compose(subject="one"), timestamp="2026-11-02T03:01:00.000Z")
    aws.route()
    put_agent("bayu", {"team": "support", "capacity": 1, "presence": "online"})
    second = deliver(aws.s3, compose(subject="two"), timestamp="2026-11-02T03:02:00.000Z")
    aws.route()
    assert TicketModel.get(second["ticket_id"]).assignee == "bayu"

    status, reply = call("PATCH", f"/v1/tickets/{first['ticket_id']}", {"assignee": "bayu"})
    assert status == 409 and "capacity" in reply["error"]["message"]
    put_agent("bayu", {"capacity": 2})
    moved = change(first["ticket_id"], assignee="bayu")
    assert moved["assignee"] == "bayu"
    assert int(AgentLoadModel.get("ayu").load) == 0 and int(AgentLoadModel.get("bayu").load) == 2


def test_unassigning_puts_the_ticket_back_in_the_queue(aws):
    put_agent("citra", {"team": "support", "capacity": 1, "presence": "online"})
    result = deliver(aws.s3, compose(subject="back to queue"))
    aws.route()
    put_agent("citra", {"presence": "away"})

    reply = change(result["ticket_id"], assignee=None)

    assert reply["status"] == "open" and reply["assignee"] is None
    assert int(AgentLoadModel.get("citra").load) == 0
    assert "ticket.unassigned" in [e["type"] for e in reply["events"]]


def test_an_agent_may_take_a_ticket_but_only_a_supervisor_moves_it_to_someone_else(aws):
    put_agent("dodi", {"team": "support", "capacity": 2, "presence": "online"})
    put_agent("eko", {"team": "support", "capacity": 2, "presence": "offline"})
    result = deliver(aws.s3, compose(subject="take me"))

    assert call("PATCH", f"/v1/tickets/{result['ticket_id']}", {"assignee": "eko"}, role="agent", agent="dodi")[0] == 403
    status, reply = call("PATCH", f"/v1/tickets/{result['ticket_id']}", {"assignee": "dodi"}, role="agent", agent="dodi")
    assert status == 200 and reply["assignee"] == "dodi" and reply["status"] == "in_progress"


def test_a_chat_ticket_matching_an_auto_reply_rule_is_answered_and_resolved(aws):
    status, saved = call(
        "PUT",
        "/v1/templates/opening-hours/id/chat",
        {"subject": None, "text": "Halo {{ customer_name }}, kami buka setiap hari 08.00-20.00 WIB. Ref {{ ref }}."},
    )
    assert status == 200, saved
    status, rule = call("PUT", "/v1/auto-replies/opening-hours", {"channels": ["chat"], "phrases": ["jam buka", "opening hours"], "template": "opening-hours", "resolve": True})
    assert status == 200, rule

    status, ticket = call(
        "POST",
        "/v1/tickets",
        {"channel": "chat", "customer": {"handle": "visitor-42", "name": "Rina"}, "body": "Halo, jam buka toko kapan ya?"},
        role="agent",
        headers={"Idempotency-Key": "chat-42-1"},
    )
    assert status == 201 and ticket["channel"] == "chat"
    aws.route()

    status, detail = call("GET", f"/v1/tickets/{ticket['id']}", role="agent")
    reply = [m for m in detail["messages"] if m["direction"] == "outbound"]
    assert len(reply) == 1 and "08.00-20.00" in reply[0]["body"] and "Rina" in reply[0]["body"]
    assert detail["status"] == "resolved"
    assert aws.sent_mail() == []  # a chat answer is not an email

    again = call("POST", "/v1/tickets", {"channel": "chat", "customer": {"handle": "visitor-42"}, "body": "Halo, jam buka toko kapan ya?"}, role="agent", headers={"Idempotency-Key": "chat-42-1"})
    assert again[0] == 200 and again[1]["id"] == ticket["id"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/v1/templates/ack/id/email", {"subject": "[{{ ref }}]", "text": "Halo {{ cusomer_name }}"}, "cusomer_name"),
        ("/v1/templates/ack/id/email", {"subject": "x", "text": "{% if %}"}, "line"),
        ("/v1/auto-replies/x", {"channels": ["chat"], "phrases": ["a"], "template": "nope"}, "no template"),
        ("/v1/teams/support", {"strategy": "random"}, "strategy"),
    ],
)
def test_bad_configuration_is_refused_before_it_is_saved(aws, path, body, message):
    status, reply = call("PUT", path, body, role="admin")
    assert status == 400 and message in reply["error"]["message"], reply


def test_priority_rules_round_trip_and_need_an_admin(aws):
    status, rules = call("GET", "/v1/priority-rules", role="agent")
    assert status == 200 and rules["keyword_rules"]
    assert call("PUT", "/v1/priority-rules", rules, role="supervisor")[0] == 403
    rules["default_priority"] = "low"
    status, saved = call("PUT", "/v1/priority-rules", rules, role="admin")
    assert status == 200 and saved["default_priority"] == "low"
    status, reply = call("PUT", "/v1/priority-rules", {**rules, "default_priority": "p0"}, role="admin")
    assert status == 400 and "default_priority" in reply["error"]["message"]


def test_a_lead_registers_a_vip_by_email_before_they_write(aws):
    status, customer = call("PATCH", "/v1/customers/boss@pelanggan.co.id", {"tier": "vip", "name": "Ibu Ratna"})
    assert status == 200 and customer["tier"] == "vip" and customer["email"] == "boss@pelanggan.co.id"
    assert call("GET", f"/v1/customers/{customer['id']}", role="agent")[1]["tier"] == "vip"
    assert call("PATCH", "/v1/customers/boss@pelanggan.co.id", {"tier": "gold"})[0] == 400
    assert call("PATCH", "/v1/customers/boss@pelanggan.co.id", {"tier": "vip"}, role="agent")[0] == 403

    result = deliver(aws.s3, compose(sender="boss@pelanggan.co.id", subject="Sistem macet di kantor pusat"))
    aws.route()
    ticket = TicketModel.get(result["ticket_id"])
    assert ticket.priority == "urgent" and ticket.customer.tier == "vip"


def test_every_team_setting_the_product_reads_can_be_set_and_a_subset_keeps_the_rest(aws):
    status, defaults = call("GET", "/v1/teams/support", role="agent")
    assert status == 200 and defaults == {
        "id": "support", "strategy": "urgency", "language": "id", "calendar": "24x7", "supervisors": [],
        "managers": [], "idle_minutes": 240, "vip_idle_minutes": 30, "skill_wait_seconds": 0,
    }  # fmt: skip
    status, saved = call("PUT", "/v1/teams/support", {"strategy": "fifo", "supervisors": ["Lead@Example.com"]})
    assert status == 200 and saved["strategy"] == "fifo" and saved["supervisors"] == ["lead@example.com"]
    status, saved = call("PUT", "/v1/teams/support", {"idle_minutes": 90, "vip_idle_minutes": 10})
    assert status == 200, saved
    assert (saved["strategy"], saved["supervisors"], saved["idle_minutes"]) == ("fifo", ["lead@example.com"], 90)
    status, patched = call("PATCH", "/v1/teams/support", {"skill_wait_seconds": 120})
    assert status == 200 and patched["skill_wait_seconds"] == 120 and patched["vip_idle_minutes"] == 10
    assert call("GET", "/v1/teams/support", role="agent")[1] == patched

    from datetime import timedelta

    from functions.escalate.handler import service

    ticket = TicketModel.get(deliver(aws.s3, compose(subject="idle soon"))["ticket_id"])
    assert service().idle_threshold(ticket) == timedelta(minutes=90)  # what the SLA reads is what was set


@pytest.mark.parametrize(
    "body",
    [
        {"calendar": None}, {"calendar": ["24x7"]}, {"calendar": "nowhere"}, {"idle_minutes": 0},
        {"idle_minutes": "ten"}, {"vip_idle_minutes": True}, {"skill_wait_seconds": -1}, {"skill_wait_seconds": 1.5},
        {"supervisors": "lead@example.com"}, {"language": None}, {"strategy": None}, {"colour": "blue"},
    ],
)  # fmt: skip
def test_bad_team_settings_get_a_clear_400_and_change_nothing(aws, body):
    status, reply = call("PUT", "/v1/teams/support", body)
    assert status == 400 and reply["error"]["message"], reply
    assert call("GET", "/v1/teams/support", role="agent")[1]["calendar"] == "24x7"
